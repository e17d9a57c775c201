"""Allegro order -> order_worker -> shop-outbox -> shop_notifier -> a shop on 127.0.0.1, exactly once."""

from __future__ import annotations

import pytest

from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.shop.woocommerce import CHECKOUT_FORM_META
from allegro_sync.domain.ledger import SaleRecord, SaleStatus
from tests.integration.orders.conftest import OrdersWorld
from tests.unit.shop_out.fake_shops import FakeGenericShop, FakeWooCommerce, ShopServer

pytestmark = pytest.mark.integration

SECRET = "generic-signing-secret-0123456789"


def sell(world: OrdersWorld, sku: str, quantity: int) -> str:
    """A paid Allegro order of `quantity` x the SKU's offer; the order flow runs until queues are empty."""
    world.connect("shop1", "seller-one")
    offer = world.offer("shop1", sku)
    world.shop_level(sku, 10, (offer, "shop1"))
    world.sync()
    form_id = world.emulator.marketplace.buy(offer, quantity)
    world.emulator.marketplace.pay(form_id)
    world.sync()
    return form_id


def sale_record(world: OrdersWorld, sku: str, form_id: str) -> SaleRecord:
    order = world.order(form_id)
    assert order is not None
    [sale_id] = order.taken
    notifier = world.stack.app("shop_notifier")
    repo = DynamoLedgerRepository(notifier.settings.table("ledger"), notifier.aws_client("dynamodb"))
    record = repo.get_sale(sku, sale_id)
    assert record is not None
    return record


def resend_outbox(world: OrdersWorld, body: dict[str, object]) -> None:
    world.runtime.send("shop-outbox", body)
    world.runtime.drain()


def test_an_allegro_order_reaches_the_generic_shop_once_and_the_sale_is_confirmed(
    shop_world: OrdersWorld,
) -> None:
    shop = FakeGenericShop(secret=SECRET, stock={"SKU-G": 10})
    with ShopServer(shop) as server:
        shop_world.runtime.put_secret(
            "shop-credentials", {"kind": "generic", "url": server.url + "/allegro", "signing_secret": SECRET}
        )
        form_id = sell(shop_world, "SKU-G", 2)
        [delivered] = shop.received
        resend_outbox(shop_world, delivered)  # SQS at-least-once: the same message again

    assert (delivered["checkout_form_id"], delivered["status"]) == (form_id, "READY_FOR_PROCESSING")
    assert [(li["sku"], li["quantity"], li["stock_effect"]) for li in delivered["lines"]] == [
        ("SKU-G", 2, "TAKEN")
    ]
    assert len(shop.received) == 1
    assert shop.stock["SKU-G"] == 8
    record = sale_record(shop_world, "SKU-G", form_id)
    assert (record.status, record.shop_ack_at) == (SaleStatus.DELIVERED_TO_SHOP, shop.clock)


def test_a_shop_that_is_down_for_a_while_gets_the_order_after_it_recovers(shop_world: OrdersWorld) -> None:
    shop = FakeGenericShop(secret=SECRET, stock={"SKU-D": 10}, down_for_attempts=3)
    with ShopServer(shop) as server:
        shop_world.runtime.put_secret(
            "shop-credentials", {"kind": "generic", "url": server.url, "signing_secret": SECRET}
        )
        form_id = sell(shop_world, "SKU-D", 1)

    assert shop.attempts == 4  # three 503s, then delivered
    assert [m["checkout_form_id"] for m in shop.received] == [form_id]
    assert shop.stock["SKU-D"] == 9
    assert shop_world.runtime.poller.stats.retried["shop-outbox"] == 3
    dlq = shop_world.runtime.wiring.queues["shop-outbox"].dlq_url
    left = shop_world.runtime.client("sqs").receive_message(QueueUrl=dlq).get("Messages", [])
    assert left == []
    assert sale_record(shop_world, "SKU-D", form_id).status is SaleStatus.DELIVERED_TO_SHOP


def test_woocommerce_gets_one_order_with_our_meta_and_takes_stock_once(shop_world: OrdersWorld) -> None:
    woo = FakeWooCommerce("ck_live", "cs_live")
    product = woo.add_product("SKU-W", 10)
    with ShopServer(woo) as server:
        shop_world.runtime.put_secret(
            "shop-credentials",
            {
                "kind": "woocommerce",
                "url": server.url,
                "consumer_key": "ck_live",
                "consumer_secret": "cs_live",
            },
        )
        form_id = sell(shop_world, "SKU-W", 3)
        shop_world.emulator.marketplace.cancel(form_id)
        shop_world.sync()  # the cancellation updates the same WooCommerce order

    [order] = woo.orders.values()
    assert {"key": CHECKOUT_FORM_META, "value": form_id} in order["meta_data"]
    assert [(li["product_id"], li["quantity"]) for li in order["line_items"]] == [(product, 3)]
    assert order["status"] == "cancelled"
    assert woo.stock("SKU-W") == 10  # taken once when paid, given back once on cancel
