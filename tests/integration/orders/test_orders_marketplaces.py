"""An order bought on allegro.cz (issue 16, item 1): it reaches the shop's outbox with its CZK amounts and
currency, and the ledger counts it like any other sale (one stock for every marketplace)."""

from __future__ import annotations

import pytest

from allegro_sync.contracts.allegro import PriceIn
from allegro_sync.contracts.allegro_requests import OfferChanges
from tests.integration.orders.conftest import OrdersWorld

pytestmark = pytest.mark.integration


def test_a_czk_order_reaches_the_shop_in_czk_and_takes_the_one_stock(world: OrdersWorld) -> None:
    world.connect("shop1", "seller-one")
    offer = world.offer("shop1", "SKU-CZ", stock=20)
    seller = world.stack.as_seller("shop1")
    seller.update_offer(offer, OfferChanges(markets={"allegro-cz": PriceIn(amount="233.00", currency="CZK")}))
    world.shop_level("SKU-CZ", 10, (offer, "shop1"))
    world.sync()

    form_id = world.emulator.marketplace.buy(offer, 2, marketplace="allegro-cz")
    world.emulator.marketplace.pay(form_id)
    world.sync()

    [message] = world.outbox()
    assert message["checkout_form_id"] == form_id
    assert [(li["sku"], li["quantity"], li["unit_price"], li["currency"]) for li in message["lines"]] == [
        ("SKU-CZ", 2, "233.00", "CZK")
    ]
    assert world.available("SKU-CZ") == 8
    assert world.emulator.violations == []
