"""Combined payments and changes after payment, end to end: emulator -> poller -> order_worker -> the shop.

Real Allegro (docs/allegro-behaviours.md): purchases paid together become ONE new checkout form with the same
line item ids, the old forms answer 404 and no cancellation is ever emitted (#1111, #1705, #2172); a paid
order may still get a new address or be cancelled for 3 days (#3730, #3085). Each test fails if the handling
is removed: sales keyed by form (stock taken twice), 404 as "needs attention", no MERGED close in the shop.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.orders.conftest import OrdersWorld
from tests.unit.shop_out.fake_shops import FakeGenericShop, FakeWooCommerce, ShopServer

pytestmark = pytest.mark.integration

SECRET = "generic-signing-secret-0123456789"


def _generic(world: OrdersWorld, shop: FakeGenericShop, server: ShopServer) -> None:
    world.runtime.put_secret(
        "shop-credentials", {"kind": "generic", "url": server.url, "signing_secret": SECRET}
    )


def _woo(world: OrdersWorld, server: ShopServer) -> None:
    world.runtime.put_secret(
        "shop-credentials",
        {"kind": "woocommerce", "url": server.url, "consumer_key": "ck_1", "consumer_secret": "cs_1"},
    )


def _offer(world: OrdersWorld, sku: str) -> str:
    world.connect("shop1", "seller-one")
    offer = world.offer("shop1", sku, stock=20)
    world.shop_level(sku, 10, (offer, "shop1"))
    world.sync()
    return offer


def _bought_apart(world: OrdersWorld, offer: str, *quantities: int) -> list[str]:
    """Separate purchases by one buyer, each imported (stock taken at BOUGHT) before any payment."""
    forms = [world.emulator.marketplace.buy(offer, q) for q in quantities]
    world.sync()
    return forms


def _open(orders: dict[str, dict[str, Any]]) -> list[str]:
    return [form for form, message in orders.items() if message["status"] != "MERGED"]


def test_two_purchases_paid_together_take_stock_once_and_leave_one_order_in_the_shop(
    shop_world: OrdersWorld,
) -> None:
    shop = FakeGenericShop(secret=SECRET, stock={"SKU-M": 10})
    with ShopServer(shop) as server:
        _generic(shop_world, shop, server)
        offer = _offer(shop_world, "SKU-M")
        first, second = _bought_apart(shop_world, offer, 2, 1)
        [paid] = shop_world.emulator.marketplace.pay_together(first, second)
        shop_world.sync()
        shop_world.scan()  # the gap scan re-reads recent forms: still nothing twice
        shop_world.runtime.drain()
        indexed = shop_world.stack.cli("orders", "index-lines")  # the upgrade step: nothing left to index

    assert shop.stock["SKU-M"] == 7  # 2 + 1 units, taken once each
    assert _open(shop.orders) == [paid]
    assert {shop.orders[f]["merged_into"] for f in (first, second)} == {paid}
    assert sorted(shop.orders[paid]["replaces"]) == sorted([first, second])
    record = shop_world.order(paid)
    assert record is not None
    assert record.status == "READY_FOR_PROCESSING"
    assert len(record.taken) == 2
    assert [shop_world.order(f).status for f in (first, second)] == ["MERGED", "MERGED"]  # type: ignore[union-attr]
    assert shop_world.orders().needing_attention() == []
    assert (indexed.exit_code, indexed.output.strip()) == (0, "0 line owner(s) written")


def test_a_partial_cancellation_around_a_combined_payment_gives_back_only_the_cancelled_purchase(
    shop_world: OrdersWorld,
) -> None:
    """Allegro cancels whole forms only (#3085): the buyer drops one purchase and pays the rest together;
    later the combined order itself is cancelled after payment. Each unit comes back exactly once."""
    shop = FakeGenericShop(secret=SECRET, stock={"SKU-P": 10})
    with ShopServer(shop) as server:
        _generic(shop_world, shop, server)
        offer = _offer(shop_world, "SKU-P")
        kept, dropped, other = _bought_apart(shop_world, offer, 3, 2, 1)
        shop_world.emulator.marketplace.cancel(dropped)
        [paid] = shop_world.emulator.marketplace.pay_together(kept, other)
        shop_world.sync()
        assert shop.stock["SKU-P"] == 6
        shop_world.emulator.marketplace.cancel(paid)  # after payment, within 3 days (#3085)
        shop_world.sync()

    assert shop.stock["SKU-P"] == 10
    record = shop_world.order(paid)
    assert record is not None
    assert record.taken == record.returned
    assert len(record.taken) == 2
    assert shop.orders[paid]["status"] == "CANCELLED"
    assert shop_world.orders().needing_attention() == []


def test_woocommerce_ends_with_the_combined_order_and_each_unit_reduced_once(shop_world: OrdersWorld) -> None:
    woo = FakeWooCommerce("ck_1", "cs_1")
    woo.add_product("SKU-WM", 10)
    with ShopServer(woo) as server:
        _woo(shop_world, server)
        offer = _offer(shop_world, "SKU-WM")
        forms = _bought_apart(shop_world, offer, 2, 1)
        [paid] = shop_world.emulator.marketplace.pay_together(*forms)
        shop_world.sync()

    statuses = sorted(o["status"] for o in woo.orders.values())
    assert statuses == ["cancelled", "cancelled", "processing"]
    [combined] = [o for o in woo.orders.values() if o["status"] == "processing"]
    assert {"key": "_allegro_checkout_form_id", "value": paid} in combined["meta_data"]
    assert woo.stock("SKU-WM") == 7


def test_an_address_change_and_a_cancellation_after_payment_reach_the_shop(shop_world: OrdersWorld) -> None:
    woo = FakeWooCommerce("ck_1", "cs_1")
    woo.add_product("SKU-AC", 10)
    market = shop_world.emulator.marketplace
    with ShopServer(woo) as server:
        _woo(shop_world, server)
        offer = _offer(shop_world, "SKU-AC")
        moved, cancelled = _bought_apart(shop_world, offer, 1, 2)
        market.pay(moved)
        market.pay(cancelled)
        shop_world.sync()
        market.modify(moved, city="Gdańsk")  # BUYER_MODIFIED after READY_FOR_PROCESSING (#3730)
        market.cancel(cancelled)  # BUYER_CANCELLED after READY_FOR_PROCESSING (#3085)
        shop_world.sync()
        shop_world.sync()  # a repeat changes nothing

    by_form = {o["meta_data"][0]["value"]: o for o in woo.orders.values()}
    assert by_form[moved]["shipping"]["city"] == "Gdańsk"
    assert by_form[cancelled]["status"] == "cancelled"
    assert woo.stock("SKU-AC") == 9  # the cancelled order's 2 units came back once
    record = shop_world.order(cancelled)
    assert record is not None
    assert record.taken == record.returned
    assert len(record.taken) == 1
