"""The DynamoDB repositories on moto: the conditional order-key write, links, mappings, the change log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog
from allegro_sync.adapters.dynamodb.mappings import DynamoMappings, MappingNotFound
from allegro_sync.contracts.catalog import (
    CategoryMapping,
    Change,
    LinkStatus,
    OfferLink,
    Outcome,
    ParameterMapping,
    StoredMapping,
    StoredProduct,
    order_key,
)
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from tests.fixtures.aws import create_tables

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def tables(aws: None) -> tuple[DynamoCatalog, DynamoMappings, DynamoChangeLog]:
    tables = create_tables("catalog", "mappings", "changes")
    return (
        DynamoCatalog(tables["catalog"]),
        DynamoMappings(tables["mappings"]),
        DynamoChangeLog(tables["changes"]),
    )


def test_order_keys_sort_like_occurred_at_then_version() -> None:
    keys = [
        order_key(T0, None),
        order_key(T0, 0),
        order_key(T0, 7),
        order_key(T0 + timedelta(microseconds=1), None),
        order_key(T0 + timedelta(days=400), 2),
    ]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_an_older_event_never_overwrites_a_newer_one_and_a_redelivery_is_accepted(
    tables: tuple[DynamoCatalog, DynamoMappings, DynamoChangeLog],
) -> None:
    catalog, _, _ = tables
    newer = StoredProduct(sku="A-1", order_key=order_key(T0, 2), stock=3, price=Decimal("9.99"))
    older = StoredProduct(sku="A-1", order_key=order_key(T0, 1), stock=50)

    assert catalog.accept(newer) is Outcome.APPLIED
    assert catalog.accept(older) is Outcome.STALE
    assert catalog.accept(newer) is Outcome.APPLIED  # the same event again
    stored = catalog.product("A-1")
    assert stored is not None
    assert (stored.stock, stored.price) == (3, Decimal("9.99"))


def test_a_product_and_its_links_read_back_as_the_status_a_seller_sees(
    tables: tuple[DynamoCatalog, DynamoMappings, DynamoChangeLog],
) -> None:
    catalog, _, _ = tables
    upsert = ProductUpsert(
        delivery_id="d", occurred_at=T0, sku="B-2", name="Czajnik", price=Decimal("10"), category_path=["Dom"]
    )
    catalog.accept(StoredProduct(sku="B-2", order_key=order_key(T0, None), upsert=upsert, stock=1))
    catalog.save_link(
        OfferLink(
            sku="B-2",
            account="shop2",
            status=LinkStatus.WAITING,
            reasons=("EAN 1 matches 2 products",),
            candidates=({"id": "p1", "name": "Jeden"}, {"id": "p2", "name": "Dwa"}),
        )
    )
    catalog.save_link(
        OfferLink(
            sku="B-2",
            account="shop1",
            status=LinkStatus.FAILED,
            offer_id="77",
            last_error={"status": 422, "errors": [{"code": "PARAMETER_MISMATCH"}]},
            synced={"price": "10.00"},
            images={"https://shop/a.jpg": "https://a.allegroimg.com/x"},
            price="10.00",
        )
    )

    status = catalog.status("B-2")

    assert status.product is not None
    assert status.product.upsert == upsert
    assert [(link.account, link.status) for link in status.links] == [
        ("shop1", LinkStatus.FAILED),
        ("shop2", LinkStatus.WAITING),
    ]
    assert status.links[0].last_error == {"status": 422, "errors": [{"code": "PARAMETER_MISMATCH"}]}
    assert status.links[0].images == {"https://shop/a.jpg": "https://a.allegroimg.com/x"}
    assert status.links[1].candidates == ({"id": "p1", "name": "Jeden"}, {"id": "p2", "name": "Dwa"})
    assert catalog.skus(status=LinkStatus.WAITING) == ["B-2"]


def test_mappings_are_per_account_or_shared_and_approval_is_explicit(
    tables: tuple[DynamoCatalog, DynamoMappings, DynamoChangeLog],
) -> None:
    _, mappings, _ = tables
    shared = StoredMapping(
        mapping=CategoryMapping(
            shop_path=["Dom", "Czajniki"],
            allegro_category_id="201",
            parameters=[ParameterMapping(parameter_id="11323", constant="Nowy")],
        ),
        category_name="Czajniki elektryczne",
        note="suggested by /sale/matching-categories",
    )
    mappings.put_mapping(shared)
    mappings.put_mapping(
        StoredMapping(
            mapping=CategoryMapping(shop_path=["Audio"], allegro_category_id="101"), account="shop2"
        )
    )

    assert [m.status for m in mappings.category_mappings("shop1")] == ["PENDING"]
    assert {m.label for m in mappings.category_mappings("shop2")} == {"Audio", "Dom > Czajniki"}
    approved = mappings.set_approved(["Dom", "Czajniki"], True, at="2026-11-27T12:00:00+00:00")
    assert approved.mapping.approved
    assert approved.mapping.parameters == shared.mapping.parameters
    assert mappings.get_mapping(["Dom", "Czajniki"]) == approved
    assert len(mappings.all_category_mappings()) == 2
    with pytest.raises(MappingNotFound, match="no category mapping for 'Ogród'"):
        mappings.set_approved(["Ogród"], True)


def test_pricing_rules_round_trip(tables: tuple[DynamoCatalog, DynamoMappings, DynamoChangeLog]) -> None:
    _, mappings, _ = tables
    rules = [
        ScopedRule(rule=PricingRule(name="default", markup_percent=Decimal("12.5"))),
        ScopedRule(
            account_id="shop1", category_id="101", rule=PricingRule(name="audio", endings=(Decimal("0.99"),))
        ),
    ]
    for rule in rules:
        mappings.put_pricing_rule(rule)

    assert sorted(mappings.pricing_rules(), key=lambda r: r.rule.name) == sorted(
        rules, key=lambda r: r.rule.name
    )
    mappings.delete_pricing_rule("shop1", "101")
    assert mappings.pricing_rules() == rules[:1]


def test_the_change_log_answers_who_changed_this_and_why_newest_first(
    tables: tuple[DynamoCatalog, DynamoMappings, DynamoChangeLog],
) -> None:
    _, _, changes = tables
    for minute, (old, new) in enumerate([(None, "120.00"), ("120.00", "99.99")]):
        changes.record(
            Change(
                sku="C-3",
                account="shop1",
                offer_id="77",
                action="price",
                changes={"price": {"old": old, "new": new}},
                reason=f"shop price changed (shop event price.set p-{minute})",
                event_id=f"p-{minute}",
                rule="default",
                at=(T0 + timedelta(minutes=minute)).isoformat(),
            )
        )

    history = changes.history("C-3")

    assert [c.changes["price"]["new"] for c in history] == ["99.99", "120.00"]
    assert history[0].event_id == "p-1"
    assert changes.history("other") == []


def test_a_link_is_replaced_only_while_it_still_names_the_archived_offer(
    tables: tuple[DynamoCatalog, DynamoMappings, DynamoChangeLog],
) -> None:
    catalog = tables[0]
    archived = OfferLink(sku="A-1", account="shop1", status=LinkStatus.PUBLISHED, offer_id="77")
    catalog.save_link(archived)
    waiting = OfferLink(sku="A-1", account="shop1", status=LinkStatus.WAITING)

    assert catalog.replace_link(waiting, offer_id="77")
    assert not catalog.replace_link(waiting, offer_id="77")  # another pusher's: already being replaced
    assert not catalog.replace_link(
        OfferLink(sku="N-1", account="shop1", status=LinkStatus.WAITING), offer_id="1"
    )
    assert catalog.link("A-1", "shop1") == waiting
