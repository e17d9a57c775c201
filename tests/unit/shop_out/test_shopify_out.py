"""Shopify out: Allegro orders through the Admin GraphQL API on the fake Shopify (tests/fixtures)."""

from __future__ import annotations

import httpx
import pytest

from allegro_sync.adapters.shop.shopify_admin import PENDING_TAG, ShopifyShop, form_tag
from allegro_sync.adapters.shop_credentials import ShopifyCredentials, parse_credentials
from allegro_sync.contracts.shop import ShopRejected, ShopUnavailable
from tests.fixtures.shopify_shop import MAIN, FakeShopify
from tests.unit.shop_out.fake_shops import mock_transport
from tests.unit.shop_out.test_shop_delivery import FORM, MemoryIndex, line, order


def shopify(fake: FakeShopify, index: MemoryIndex | None = None, token: str | None = None) -> ShopifyShop:
    http = httpx.Client(transport=mock_transport(fake))
    return ShopifyShop(
        "https://" + fake.domain, token or fake.token, http, index or MemoryIndex(), location=str(MAIN)
    )


def stocked(level: int = 10) -> FakeShopify:
    fake = FakeShopify()
    fake.add_product("Patelnia", [{"sku": "SKU-1", "price": "49.99"}])
    fake.set_level("SKU-1", MAIN, level)
    return fake


def test_a_paid_order_is_created_once_by_variant_and_shopify_takes_its_stock() -> None:
    fake = stocked()
    shop = shopify(fake)

    ack = shop.deliver(order())
    again = shop.deliver(order("READY_FOR_PROCESSING", 2))

    [created] = fake.orders.values()
    given = created["_input"]
    assert given["lineItems"][0]["variantId"] == fake.variant("SKU-1")["admin_graphql_api_id"]
    assert given["lineItems"][0]["priceSet"] == {"shopMoney": {"amount": "49.99", "currencyCode": "PLN"}}
    assert form_tag(FORM) in created["tags"]
    assert len(form_tag(FORM)) <= 40  # Shopify's limit for a tag
    assert {"key": "allegro_checkout_form_id", "value": FORM} in given["customAttributes"]
    assert (given["financialStatus"], fake.available("SKU-1")) == ("PAID", 8)
    assert ack.shop_order_id == again.shop_order_id == created["id"].rsplit("/", 1)[1]


def test_an_order_whose_answer_was_lost_is_found_by_its_tag_not_created_again() -> None:
    fake = stocked()
    fake.fail_next_create_response = True
    shop = shopify(fake, MemoryIndex())

    with pytest.raises(ShopUnavailable):
        shop.deliver(order())  # Shopify created it; the gateway timed out
    shopify(fake, MemoryIndex()).deliver(order())  # a retry with no index at all

    assert len(fake.orders) == 1
    assert fake.available("SKU-1") == 8


def test_an_order_created_before_its_stock_was_taken_takes_it_once_later() -> None:
    fake = stocked()
    shop = shopify(fake)
    shop.deliver(order("BOUGHT", 1, line(effect="NONE")))
    assert (fake.available("SKU-1"), PENDING_TAG in next(iter(fake.orders.values()))["tags"]) == (10, True)

    shop.deliver(order("READY_FOR_PROCESSING", 2))
    shop.deliver(order("READY_FOR_PROCESSING", 2))  # redelivered

    [created] = fake.orders.values()
    assert (fake.available("SKU-1"), created["displayFinancialStatus"]) == (8, "PAID")
    assert PENDING_TAG not in created["tags"]


def test_a_cancelled_order_is_cancelled_with_its_stock_restocked() -> None:
    fake = stocked()
    shop = shopify(fake)
    shop.deliver(order())
    shop.deliver(order("CANCELLED", 2, line(effect="RETURNED")))

    [created] = fake.orders.values()
    assert created["cancelledAt"] is not None
    assert fake.available("SKU-1") == 10


def test_a_wrong_token_is_refused_and_an_unknown_sku_becomes_a_titled_line() -> None:
    fake = stocked()
    with pytest.raises(ShopRejected, match="401"):
        shopify(fake, token="shpat_wrong").deliver(order())

    shopify(fake).deliver(order("READY_FOR_PROCESSING", 1, line(sku="NOPE")))
    [created] = fake.orders.values()
    assert created["_input"]["lineItems"][0]["title"] == "Allegro offer 7768432155 (NOPE)"


def test_shopify_credentials_name_what_is_missing_never_the_values() -> None:
    parsed = parse_credentials(
        '{"kind": "shopify", "shop_domain": "sklep.myshopify.com", "access_token": "shpat_x", '
        '"api_secret": "shpss_x", "location_ids": ["24826418"]}'
    )
    assert isinstance(parsed, ShopifyCredentials)
    assert (parsed.api_version, parsed.location_ids) == ("2026-01", ["24826418"])
    with pytest.raises(LookupError, match="location_ids") as caught:
        parse_credentials(
            '{"kind": "shopify", "shop_domain": "s.myshopify.com", "access_token": "shpat_SEKRET", '
            '"api_secret": "x"}'
        )
    assert "SEKRET" not in str(caught.value)
