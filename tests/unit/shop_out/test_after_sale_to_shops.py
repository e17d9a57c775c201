"""Issue 15: what the shops are handed after the sale: the label's link (generic `order.label`, a WooCommerce
private note) and a return (a WooCommerce note), each once, and nothing to a shop with no place for it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from allegro_sync.contracts.messages import OrderLabel
from allegro_sync.contracts.shop import LabelLink, ShopAck, ShopUnavailable
from allegro_sync.services.shop_delivery import ShopDelivery
from allegro_sync.services.stock import StockLedger
from tests.fixtures.ledger import InMemoryLedgerRepository
from tests.unit.orders.fakes import MemoryBuyers
from tests.unit.shop_out.fake_shops import FakeGenericShop, FakeWooCommerce
from tests.unit.shop_out.test_return_delivery import returned, sold_and_settled
from tests.unit.shop_out.test_shop_delivery import (
    FORM,
    SECRET,
    T0,
    MemoryIndex,
    MemoryLog,
    generic,
    order,
    woo,
)

LABEL = OrderLabel(
    message_id=f"label:{FORM}:1",
    account="shop1",
    checkout_form_id=FORM,
    package=1,
    waybill="620111222333",
    carrier="INPOST",
    label_key=f"labels/{FORM}/1.pdf",
)


def link(key: str) -> LabelLink:
    return LabelLink(f"https://labels.example/{key}?X-Amz-Signature=abc", T0 + timedelta(hours=1))


def test_the_generic_shop_gets_order_label_once_with_a_link_made_at_delivery() -> None:
    fake = FakeGenericShop(secret=SECRET)
    log = MemoryLog()
    delivery = ShopDelivery(generic(fake), StockLedger(InMemoryLedgerRepository()), log, MemoryBuyers())

    first = delivery.deliver_label(LABEL, link)
    again = delivery.deliver_label(LABEL, link)  # SQS redelivers it

    [got] = fake.labels
    assert got["kind"] == "order.label"
    assert got["label_url"].startswith("https://labels.example/labels/")
    assert got["label_expires_at"] == (T0 + timedelta(hours=1)).isoformat()
    assert "label_key" not in got  # where we keep the file is not the shop's business
    assert (first.duplicate, again.duplicate) == (False, True)


def test_woocommerce_gets_one_private_note_even_when_its_answer_is_lost() -> None:
    fake = FakeWooCommerce("ck_test", "cs_test")
    fake.add_product("SKU-1", 10)
    shop = woo(fake, MemoryIndex())
    shop.deliver(order())
    [order_id] = fake.orders
    fake.lose_next_note_answer = True

    with pytest.raises(ShopUnavailable, match="504"):
        shop.deliver_label(LABEL, link(LABEL.label_key))
    ack = shop.deliver_label(LABEL, link(LABEL.label_key))  # the retry finds its note by the marker

    [note] = fake.notes[order_id]
    assert note["customer_note"] is False
    assert "https://labels.example/labels/" in note["note"]
    assert "INPOST 620111222333" in note["note"]
    assert ack.shop_order_id == str(order_id)


def test_a_return_reaches_woocommerce_as_one_note_and_its_stock_stays_the_sellers_call(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    ledger = sold_and_settled(memory_ledger)
    ledger.apply_return("SKU-1", returned().lines[0].return_line_id, 1, T0 + timedelta(minutes=6), "shop1")
    fake = FakeWooCommerce("ck_test", "cs_test")
    fake.add_product("SKU-1", 8)
    shop = woo(fake, MemoryIndex())
    shop.deliver(order())
    delivery = ShopDelivery(shop, ledger, MemoryLog(), MemoryBuyers())

    delivery.deliver_return(returned())
    delivery.deliver_return(returned())

    [note] = fake.notes[next(iter(fake.orders))]
    assert "Allegro return ret-1 (DELIVERED): 1 x SKU-1" in note["note"]
    assert fake.stock("SKU-1") == 6  # the order took 2; the note restocks nothing


class NoLabels:
    """A shop adapter with no documented place for a label (Shopify's and PrestaShop's today)."""

    def deliver(self, message: object) -> ShopAck:
        raise AssertionError("not called for a label")


def test_a_shop_with_no_place_for_the_label_is_not_called_and_the_message_is_done() -> None:
    log = MemoryLog()
    delivery = ShopDelivery(NoLabels(), StockLedger(InMemoryLedgerRepository()), log, MemoryBuyers())

    result = delivery.deliver_label(LABEL, link)

    assert result.skipped
    assert LABEL.message_id in log.done  # not retried into the DLQ
