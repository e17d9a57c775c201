"""Issue 16: an order bought on allegro.cz reaches PrestaShop in CZK. The order and its cart name the shop's
own CZK (`id_currency`, found by `iso_code` in the documented `currencies` resource); a shop without an
active CZK refuses the order with what to do, and nothing is made in it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from allegro_sync.contracts.messages import OutboxLine
from allegro_sync.contracts.shop import ShopRejected
from tests.contract.test_prestashop import sink
from tests.fixtures.prestashop_shop import catalogue
from tests.unit.shop_out.test_shop_delivery import MemoryIndex, line, order


def _czk(sku: str, qty: int) -> OutboxLine:
    return line(sku=sku, qty=qty).model_copy(update={"unit_price": "58.00", "currency": "CZK"})


def test_a_czk_order_is_created_in_the_shops_czk_and_takes_the_stock_once() -> None:
    shop, _, cable = catalogue()
    czk = shop.add_currency("CZK", Decimal("5.8"))
    message = order("READY_FOR_PROCESSING", 1, _czk("CABLE-1", 3))

    for _ in range(2):  # a redelivery changes nothing
        sink(shop, MemoryIndex()).deliver(message)

    [created] = shop.orders()
    [cart] = shop.tables["carts"].values()
    assert (created["id_currency"], cart["id_currency"]) == (str(czk), str(czk))
    assert created["conversion_rate"] == "5.8"
    assert created["total_paid_real"] == "174.00"  # 3 x 58.00 CZK, what the buyer paid on allegro.cz
    assert created["current_state"] == "2"
    assert shop.stock(cable) == 27


def test_a_pln_order_keeps_the_configured_currency_without_a_lookup() -> None:
    shop, _, _ = catalogue()
    sink(shop, MemoryIndex()).deliver(order("READY_FOR_PROCESSING", 1, line(sku="CABLE-1", qty=1)))
    assert shop.orders()[0]["id_currency"] == "1"
    assert not any("currencies" in call for call in shop.calls)


def test_a_shop_without_czk_refuses_the_order_with_what_to_do_and_makes_nothing() -> None:
    shop, _, cable = catalogue()
    shop.add_currency("CZK", Decimal("5.8"), active=False)

    with pytest.raises(ShopRejected, match=r"no active currency CZK.*Currencies"):
        sink(shop, MemoryIndex()).deliver(order("READY_FOR_PROCESSING", 1, _czk("CABLE-1", 3)))

    assert shop.orders() == []
    assert shop.tables["customers"] == {}
    assert shop.stock(cable) == 30
