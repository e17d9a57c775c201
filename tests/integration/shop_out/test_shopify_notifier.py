"""Allegro order -> order_worker -> shop-outbox -> the REAL shop_notifier -> a Shopify on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

from allegro_sync.domain.ledger import SaleStatus
from tests.fixtures.shopify_shop import MAIN, FakeShopify
from tests.integration.orders.conftest import OrdersWorld
from tests.integration.shop_out.test_shop_notifier import sale_record, sell
from tests.unit.shop_out.fake_shops import ShopServer

pytestmark = pytest.mark.integration


def test_an_order_reaches_shopify_once_when_the_notifier_retries_after_a_timeout(
    shop_world: OrdersWorld,
) -> None:
    shop = FakeShopify()
    shop.add_product("Patelnia 28", [{"sku": "SKU-SH", "price": "119.00"}])
    shop.set_level("SKU-SH", MAIN, 10)
    shop.fail_next_create_response = True  # Shopify creates the order; its answer never arrives
    with ShopServer(shop) as server:
        shop_world.runtime.put_secret("shop-credentials", shop.credentials(server.url))
        form_id = sell(shop_world, "SKU-SH", 2)
        [created] = shop.orders.values()
        attempts = shop.calls.count("orderCreate")

    assert len(shop.orders) == 1
    assert attempts == 1  # the retry found the order by its tag instead of creating another
    assert {"key": "allegro_checkout_form_id", "value": form_id} in created["customAttributes"]
    assert shop.available("SKU-SH") == 8  # taken once, by Shopify, with the order
    assert shop_world.runtime.poller.stats.retried["shop-outbox"] >= 1
    assert sale_record(shop_world, "SKU-SH", form_id).status == SaleStatus.DELIVERED_TO_SHOP


def test_a_shopify_fulfilment_sends_its_status_and_tracking_to_allegro(shop_world: OrdersWorld) -> None:
    shop = FakeShopify()
    shop.add_product("Patelnia 28", [{"sku": "SKU-FS", "price": "119.00"}])
    shop.set_level("SKU-FS", MAIN, 10)
    with ShopServer(shop) as server:
        shop_world.runtime.put_secret("shop-credentials", shop.credentials(server.url))
        form_id = sell(shop_world, "SKU-FS", 1)
    [number] = shop.orders
    base = shop_world.runtime.start_gateway()

    body, headers = shop.webhook(
        "orders/fulfilled", shop.fulfil(number, "InPost", "620111222333444555666777")
    )
    first = httpx.post(base + "/webhooks/shopify/orders", content=body, headers=headers)
    retry = httpx.post(base + "/webhooks/shopify/orders", content=body, headers=headers)  # same webhook id
    tampered = httpx.post(base + "/webhooks/shopify/orders", content=body + b" ", headers=headers)
    shop_world.runtime.drain()

    assert (first.status_code, retry.status_code, tampered.status_code) == (202, 202, 401)
    form = shop_world.emulator.marketplace.state.checkout_forms[form_id]
    assert form.fulfillment_status == "SENT"
    assert [(s["carrierId"], s["waybill"]) for s in form.shipments] == [
        ("INPOST", "620111222333444555666777")
    ]
