"""Stored-record models: items written by another version still load; what is written is what boto3 takes."""

from __future__ import annotations

from decimal import Decimal

from allegro_sync.contracts.records.control import AccountProfileItem
from allegro_sync.contracts.records.ledger import LedgerStateItem, LevelPart
from allegro_sync.contracts.records.orders import OrderItem


def test_an_item_with_attributes_this_version_does_not_know_still_loads() -> None:
    stored = {
        "pk": "accounts",
        "sk": "profile#shop1",
        "status": "DISCONNECTED",
        "seller_id": Decimal("123456"),  # DynamoDB hands numbers back as Decimal, even where text was meant
        "added_by_a_later_version": {"x": 1},
    }

    profile = AccountProfileItem.from_item(stored)

    assert (profile.status, profile.seller_id, profile.environment, profile.scopes) == (
        "DISCONNECTED",
        "123456",
        "production",
        [],
    )


def test_epoch_seconds_are_written_as_decimals_kept_to_the_millisecond() -> None:
    item = AccountProfileItem(pk="accounts", sk="profile#shop1", token_expires_at=1700000000.123456).item()

    assert item["token_expires_at"] == Decimal("1700000000.123")
    assert "disconnected_at" not in item  # an absent optional attribute is left out, not stored as NULL


def test_nested_unknown_values_stay_as_null_while_absent_attributes_are_left_out() -> None:
    state = LedgerStateItem(
        pk="sku#A",
        sk="state",
        sku="A",
        revision=3,
        level=LevelPart(quantity=None, at="2027-01-15T09:30:00+00:00"),
    ).item()
    order = OrderItem(
        pk="order#f", sk="order", checkout_form_id="f", account="main", status="BOUGHT", version=1
    )

    assert state["level"] == {"quantity": None, "at": "2027-01-15T09:30:00+00:00", "version": None}
    assert "buffer" not in state
    assert "category" not in state
    assert "revision" not in order.item()  # an order not yet revised has no `revision` attribute
