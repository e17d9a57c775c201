"""A buyer's message to the shop (issue 15, item 4): generic contract once, WooCommerce as an order note."""

from __future__ import annotations

from allegro_sync.contracts.messages import BuyerMessage
from allegro_sync.services.shop_delivery import ShopDelivery
from tests.fixtures.ledger import InMemoryLedgerRepository
from tests.unit.orders.fakes import MemoryBuyers
from tests.unit.shop_out.fake_shops import FakeGenericShop, FakeWooCommerce
from tests.unit.shop_out.test_shop_delivery import (
    FORM,
    SECRET,
    MemoryIndex,
    MemoryLog,
    generic,
    ledger_with_sale,
    order,
    woo,
)


def message(form: str | None = FORM) -> BuyerMessage:
    return BuyerMessage(
        message_id="message:m-1",
        account="shop1",
        source="thread",
        thread_id="T1",
        checkout_form_id=form,
        author_login="kupujacy",
        created_at="2026-12-06T12:00:00.000Z",
        text="Kiedy wyślecie?",
    )


def test_the_generic_shop_gets_the_message_once_however_often_it_is_delivered(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    fake = FakeGenericShop(secret=SECRET)
    delivery = ShopDelivery(generic(fake), ledger_with_sale(memory_ledger), MemoryLog(), MemoryBuyers())

    first = delivery.deliver_buyer_message(message())
    again = delivery.deliver_buyer_message(message())

    assert [(m["kind"], m["text"], m["checkout_form_id"]) for m in fake.received] == [
        ("buyer.message", "Kiedy wyślecie?", FORM)
    ]
    assert (first.duplicate, again.duplicate) == (False, True)


def test_woocommerce_gets_a_private_note_on_the_order_and_skips_a_message_about_no_order(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    fake = FakeWooCommerce("ck_test", "cs_test")
    fake.add_product("SKU-1", 10)
    index = MemoryIndex()
    shop = woo(fake, index)
    shop.deliver(order())
    delivery = ShopDelivery(shop, ledger_with_sale(memory_ledger), MemoryLog(), MemoryBuyers())

    noted = delivery.deliver_buyer_message(message())
    skipped = delivery.deliver_buyer_message(
        message(form=None).model_copy(update={"message_id": "message:m-2"})
    )

    [order_id] = fake.orders
    [note] = fake.notes[order_id]
    assert note["customer_note"] is False
    assert "Kiedy wyślecie?" in note["note"]
    assert (noted.skipped, skipped.skipped) == (False, True)
