"""Allegro purchase -> poller -> orders queue -> worker -> ledger, order record, outbox, stock-changes."""

from __future__ import annotations

import pytest

from tests.integration.orders.conftest import OrdersWorld

pytestmark = pytest.mark.integration


def test_a_paid_order_is_recorded_once_and_takes_stock_once(world: OrdersWorld) -> None:
    world.connect("shop1", "seller-one")
    offer = world.offer("shop1", "SKU-XM5", stock=20)
    world.shop_level("SKU-XM5", 10, (offer, "shop1"))
    old = world.emulator.marketplace.buy(offer, 1)  # before the first run: history, not ours to import

    first = world.sync()

    assert first["enqueued"] == 0
    assert first["accounts"]["shop1"]["started_at"] == world.cursor("shop1")
    assert world.order(old) is None

    form_id = world.emulator.marketplace.buy(offer, 2)
    world.emulator.marketplace.pay(form_id)
    world.sync()
    world.sync()  # nothing new: nothing happens twice

    record = world.order(form_id)
    assert record is not None
    assert (record.status, record.account, len(record.taken)) == ("READY_FOR_PROCESSING", "shop1", 1)
    assert world.available("SKU-XM5") == 8
    # BOUGHT, FILLED_IN and READY_FOR_PROCESSING came in one poll; the worker reads the current form,
    # so the shop hears of the order once, already paid.
    [message] = world.outbox()
    assert (message["checkout_form_id"], message["status"]) == (form_id, "READY_FOR_PROCESSING")
    assert [(li["sku"], li["quantity"], li["stock_effect"]) for li in message["lines"]] == [
        ("SKU-XM5", 2, "TAKEN")
    ]
    [stock] = world.stock_changes()
    assert (stock["sku"], stock["available"], stock["cause"]) == ("SKU-XM5", 8, "sale")
    assert stock["offers"] == [{"offer_id": offer, "account": "shop1", "action": "SET", "quantity": 8}]


def test_a_cancellation_gives_the_stock_back_once(world: OrdersWorld) -> None:
    world.connect("shop1", "seller-one")
    offer = world.offer("shop1", "SKU-C")
    world.shop_level("SKU-C", 5, (offer, "shop1"))
    world.sync()
    form_id = world.emulator.marketplace.buy(offer, 1)
    world.sync()
    assert world.available("SKU-C") == 4

    world.emulator.marketplace.cancel(form_id)
    world.sync()
    world.sync()

    assert world.available("SKU-C") == 5
    record = world.order(form_id)
    assert record is not None
    assert record.status == "CANCELLED"
    assert [m["cause"] for m in world.stock_changes()] == ["sale", "cancellation"]


def test_an_unknown_sku_is_visible_and_never_crashes_the_batch(world: OrdersWorld) -> None:
    world.connect("shop1", "seller-one")
    mystery = world.offer("shop1", None)  # no external.id, no offer link
    known = world.offer("shop1", "SKU-K")
    world.shop_level("SKU-K", 3, (known, "shop1"))
    world.sync()
    odd = world.emulator.marketplace.buy(mystery, 1)
    good = world.emulator.marketplace.buy(known, 1)

    world.sync()

    odd_record, good_record = world.order(odd), world.order(good)
    assert odd_record is not None
    assert good_record is not None
    assert mystery in odd_record.attention[0]
    assert good_record.attention == ()
    assert world.available("SKU-K") == 2
    assert [form for form, _, _ in world.orders().needing_attention()] == [odd]


def test_two_accounts_are_polled_independently(world: OrdersWorld) -> None:
    world.connect("shop1", "seller-one")
    world.connect("shop2", "seller-two")
    one, two = world.offer("shop1", "SKU-2A"), world.offer("shop2", "SKU-2A")
    world.shop_level("SKU-2A", 10, (one, "shop1"), (two, "shop2"))
    world.sync()

    a = world.emulator.marketplace.buy(one, 1)
    b = world.emulator.marketplace.buy(two, 3)
    report = world.sync()

    assert report["accounts"]["shop1"]["enqueued"] >= 2  # BOUGHT, FILLED_IN
    assert report["accounts"]["shop2"]["enqueued"] >= 2
    assert world.available("SKU-2A") == 6
    record_a, record_b = world.order(a), world.order(b)
    assert record_a is not None
    assert record_b is not None
    assert (record_a.account, record_b.account) == ("shop1", "shop2")
    latest = world.stock_changes()[-1]
    assert {(o["offer_id"], o["quantity"]) for o in latest["offers"]} == {(one, 6), (two, 6)}

    world.emulator.disconnect("seller-two")  # one account fails ...
    c = world.emulator.marketplace.buy(one, 1)
    report = world.sync()
    assert report["accounts"]["shop2"]["error"] is not None
    assert world.order(c) is not None  # ... and the other still imports
