"""Customer returns followed by the order gap scan: back into stock once, told to the shop (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from allegro_sync.adapters.order_queues import SqsShopOutbox
from tests.integration.after_sale.conftest import AfterSaleWorld

pytestmark = pytest.mark.integration


def test_a_delivered_return_comes_back_into_stock_once_and_the_shop_hears_of_it(
    world: AfterSaleWorld,
) -> None:
    form_id, line = world.sold("SKU-R1", level=5, quantity=2)
    assert world.available("SKU-R1") == 3
    world.outbox()
    world.stock_changes()
    return_id = world.emulator.marketplace.open_return(form_id, {line: 1})

    world.follow()  # CREATED: the parcel is not back yet
    assert world.available("SKU-R1") == 3
    assert world.returned() == []

    world.emulator.marketplace.advance_return(return_id, "DELIVERED")
    world.follow()
    world.follow()  # nothing happens twice

    assert world.available("SKU-R1") == 4
    [message] = world.returned()
    assert (message["message_id"], message["checkout_form_id"]) == (f"return:{return_id}", form_id)
    assert [(x["sku"], x["quantity"], x["line_item_id"]) for x in message["lines"]] == [("SKU-R1", 1, line)]
    assert [(m["sku"], m["available"], m["cause"]) for m in world.stock_changes()] == [
        ("SKU-R1", 4, "return")
    ]


def test_a_crash_after_the_credit_repeats_the_shop_message_but_never_the_stock(
    world: AfterSaleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    form_id, line = world.sold("SKU-R2", level=5, quantity=2)
    world.outbox()
    return_id = world.emulator.marketplace.open_return(form_id, {line: 2})
    world.emulator.marketplace.advance_return(return_id, "DELIVERED")
    failing = {"left": 1}
    publish = SqsShopOutbox.publish_return

    def crash_once(self: SqsShopOutbox, message: object) -> None:
        if failing["left"]:
            failing["left"] -= 1
            raise RuntimeError("the function died before the shop message was sent")
        publish(self, message)  # type: ignore[arg-type]

    monkeypatch.setattr(SqsShopOutbox, "publish_return", crash_once)

    first = world.follow()
    assert world.available("SKU-R2") == 5  # the credit was committed before the crash
    assert world.returned() == []
    assert first is not None
    world.follow()

    assert world.available("SKU-R2") == 5  # not 7: the ledger took the return once
    assert [m["message_id"] for m in world.returned()] == [f"return:{return_id}"]


def test_the_shops_next_level_settles_the_credit_so_a_return_never_counts_twice(
    world: AfterSaleWorld,
) -> None:
    form_id, line = world.sold("SKU-R3", level=5, quantity=1)
    ledger = world.ledger()
    sold_at = datetime.now(UTC)
    [sale] = world.outbox()[0]["lines"]
    ledger.confirm_delivered("SKU-R3", sale["sale_id"], sold_at)  # the shop applied the sale...
    ledger.apply_shop_level("SKU-R3", 4, sold_at + timedelta(minutes=5))  # ... and says 4 are left
    return_id = world.emulator.marketplace.open_return(form_id, {line: 1})
    world.emulator.marketplace.advance_return(return_id, "DELIVERED")
    world.follow()
    assert world.available("SKU-R3") == 5
    [message] = world.returned()
    acked = sold_at + timedelta(minutes=10)
    ledger.confirm_delivered("SKU-R3", message["lines"][0]["return_line_id"], acked)  # the shop restocked

    ledger.apply_shop_level("SKU-R3", 5, acked + timedelta(minutes=5))  # the shop's level counts it now

    assert world.available("SKU-R3") == 5  # 5, not 6: the credit ended with the shop's word


def test_a_rejected_return_never_comes_back_into_stock(world: AfterSaleWorld) -> None:
    form_id, line = world.sold("SKU-R4", level=5, quantity=1)
    return_id = world.emulator.marketplace.open_return(form_id, {line: 1})
    world.follow()

    result = world.stack.cli(
        "returns", "reject", return_id, "--code", "ITEM_MISMATCH", "--reason", "Not the item we sent",
        env=world.stack.env("fulfillment_worker"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "REJECTED" in result.output
    with pytest.raises(ValueError, match="rejected"):
        world.emulator.marketplace.advance_return(return_id, "DELIVERED")
    world.follow()

    assert world.available("SKU-R4") == 4
    assert world.returned() == []


def test_with_restock_on_acceptance_an_arrived_parcel_waits_for_the_seller(make_world: object) -> None:
    world: AfterSaleWorld = make_world(RETURNS_RESTOCK_ON="ACCEPTANCE")  # type: ignore[operator]
    form_id, line = world.sold("SKU-R5", level=5, quantity=1)
    return_id = world.emulator.marketplace.open_return(form_id, {line: 1})
    world.emulator.marketplace.advance_return(return_id, "DELIVERED")
    world.follow()
    assert world.available("SKU-R5") == 4

    world.emulator.marketplace.advance_return(return_id, "FINISHED")
    world.follow()

    assert world.available("SKU-R5") == 5


def test_a_cancelled_unpaid_order_gets_one_commission_claim(world: AfterSaleWorld) -> None:
    form_id, line = world.sold("SKU-R6", level=5, quantity=1, paid=False)
    world.emulator.marketplace.cancel(form_id, auto=True)

    world.follow()
    world.follow()  # Allegro refuses a second claim (ClaimExistsException): nothing more

    claims = [
        c for c in world.emulator.marketplace.state.refund_claims.values() if c["lineItem"]["id"] == line
    ]
    assert [(c["quantity"], c["status"]) for c in claims] == [(1, "IN_PROGRESS")]
