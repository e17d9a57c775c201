"""The Shopify change feed (shop reconciliation) on the fake Shopify: per variant, counted stock, cursor."""

from __future__ import annotations

import httpx

from allegro_sync.adapters.shop.shopify_admin import ShopifyAdmin
from allegro_sync.adapters.shop.shopify_changes import ShopifyChanges
from allegro_sync.contracts.messages import ProductUpsert
from tests.fixtures.shopify_shop import MAIN, POPUP, WAREHOUSE, FakeShopify
from tests.unit.shop_out.fake_shops import mock_transport


def feed(shop: FakeShopify) -> ShopifyChanges:
    http = httpx.Client(transport=mock_transport(shop))
    admin = ShopifyAdmin(f"https://{shop.domain}", shop.token, http, api_version="2026-01")
    return ShopifyChanges(admin, shop.domain, frozenset({str(MAIN), str(WAREHOUSE)}))


def test_a_lost_delivery_is_read_back_per_variant_with_the_counted_stock_and_linked_items() -> None:
    shop = FakeShopify()
    shop.add_product(
        "Koszulka",
        [
            {"sku": "K-S", "price": "59.90", "barcode": "5901234123457", "options": ["S"]},
            {"sku": "K-M", "price": "64.90", "options": ["M"]},
        ],
        options=["Rozmiar"],
    )
    shop.set_level("K-S", MAIN, 4)
    shop.set_level("K-S", WAREHOUSE, 3)
    shop.set_level("K-S", POPUP, 50)

    changes = feed(shop).read(None)
    again = feed(shop).read(changes.cursor)

    [delivery] = changes.deliveries
    upserts = {e.sku: e for e in delivery.events if isinstance(e, ProductUpsert)}
    assert (upserts["K-S"].stock, upserts["K-M"].stock) == (7, 0)  # the pop-up store never counts
    assert (upserts["K-S"].name, upserts["K-S"].ean, str(upserts["K-M"].price)) == (
        "Koszulka - S",
        "5901234123457",
        "64.90",
    )
    assert sorted(sku for _, sku in delivery.inventory_items) == ["K-M", "K-S"]
    assert changes.cursor is not None
    assert [d.key for d in again.deliveries] == [delivery.key]  # the overlap re-reads: the intake drops it
