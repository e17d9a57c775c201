"""An order bought on allegro.cz (issue 16) reaches WooCommerce in CZK: the order's `currency` and its
line totals are the amounts the buyer paid, not PLN."""

from __future__ import annotations

from tests.unit.shop_out.fake_shops import FakeWooCommerce
from tests.unit.shop_out.test_shop_delivery import MemoryIndex, line, order, woo


def test_a_czk_order_is_created_in_czk_with_its_czk_amounts() -> None:
    fake = FakeWooCommerce("ck_test", "cs_test")
    product = fake.add_product("SKU-1", 10)
    czk = line().model_copy(update={"unit_price": "951.00", "currency": "CZK"})

    woo(fake, MemoryIndex()).deliver(order("READY_FOR_PROCESSING", 1, czk))

    [created] = fake.orders.values()
    assert created["currency"] == "CZK"
    assert created["line_items"] == [
        {"quantity": 2, "product_id": product, "subtotal": "1902.00", "total": "1902.00"}
    ]
    assert fake.stock("SKU-1") == 8  # one stock, whichever marketplace sold it
