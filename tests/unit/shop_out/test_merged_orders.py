"""Combined payment (#1111) in each shop that keeps its own stock: the replaced order is closed only once the
combined order took the stock. Cancelling the replaced order first would restore its stock while nothing
holds it yet — for a while the shop could sell units Allegro already sold."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from allegro_sync.contracts.shop import ShopOrderSink, ShopUnavailable
from tests.unit.shop_out.fake_shops import FakeWooCommerce
from tests.unit.shop_out.test_shop_delivery import MemoryIndex, combined_payment, order, woo
from tests.unit.shop_out.test_shopify_out import shopify, stocked


@dataclass(frozen=True)
class Shop:
    """One shop's adapter on its fake, with how that shop shows stock and closed orders."""

    name: str
    adapter: ShopOrderSink
    level: Callable[[], int]
    states: Callable[[], list[Any]]  # one value per order, sorted: the replaced one closed, the other open


def woocommerce() -> Shop:
    fake = FakeWooCommerce("ck_test", "cs_test")
    fake.add_product("SKU-1", 10)
    return Shop(
        "WooCommerce",
        woo(fake, MemoryIndex()),
        lambda: fake.stock("SKU-1"),
        lambda: sorted(o["status"] for o in fake.orders.values()),
    )


def shopify_shop() -> Shop:
    fake = stocked()
    return Shop(
        "Shopify",
        shopify(fake),
        lambda: fake.available("SKU-1"),
        lambda: sorted(o["cancelledAt"] is None for o in fake.orders.values()),
    )


@pytest.mark.parametrize(
    ("make", "closed_and_open"),
    [
        pytest.param(woocommerce, ["cancelled", "processing"], id="woocommerce"),
        pytest.param(shopify_shop, [False, True], id="shopify"),
    ],
)
def test_a_merged_order_is_closed_only_after_the_combined_order_took_the_stock(
    make: Callable[[], Shop], closed_and_open: list[Any]
) -> None:
    shop = make()
    shop.adapter.deliver(order("FILLED_IN"))  # the first purchase: 2 taken
    merged = order("MERGED", 2).model_copy(update={"merged_into": "combined-form"})

    with pytest.raises(ShopUnavailable, match=f"not in {shop.name} yet"):
        shop.adapter.deliver(merged)
    assert shop.level() == 8
    shop.adapter.deliver(combined_payment())
    assert shop.level() == 6  # for a moment taken twice: errs low
    shop.adapter.deliver(merged)

    assert shop.states() == closed_and_open
    assert shop.level() == 8  # each unit taken once
