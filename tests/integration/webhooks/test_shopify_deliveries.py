"""POST /webhooks/shopify : Shopify's own headers, HMAC and JSON (tests/fixtures/shopify_shop.py)."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync.contracts.messages import ProductDelete, ProductUpsert, StockSet, parse_shop_event
from tests.fixtures.shopify_shop import MAIN, POPUP, WAREHOUSE, FakeShopify, sign
from tests.integration.webhooks.conftest import Webhooks

pytestmark = pytest.mark.integration


@pytest.fixture
def shop(webhooks: Webhooks) -> FakeShopify:
    fake = FakeShopify()
    webhooks.runtime.put_secret("shop-credentials", fake.credentials("http://127.0.0.1:9"))
    webhooks.runtime.application("shop_webhook").shop_credentials().forget()
    return fake


def send(webhooks: Webhooks, shop: FakeShopify, topic: str, payload: Any, **options: Any) -> tuple[int, Any]:
    body, headers = shop.webhook(topic, payload, **options)
    return webhooks.post("/webhooks/shopify", body, headers)


def events(webhooks: Webhooks) -> list[Any]:
    return [parse_shop_event(m["Body"]) for m in webhooks.queued()]


def koszulka(shop: FakeShopify) -> dict[str, Any]:
    return shop.add_product(
        "Koszulka Żółw",
        [
            {"sku": "KOSZ-S-CZ", "price": "59.90", "barcode": "5901234123457", "options": ["S", "czarna"]},
            {"sku": "KOSZ-M-CZ", "price": "64.90", "barcode": "ABC", "options": ["M", "czarna"]},
            {"sku": "", "price": "64.90", "options": ["L", "czarna"]},
        ],
        options=["Rozmiar", "Kolor"],
    )


def test_a_tampered_delivery_is_refused_with_401_and_nothing_is_queued(
    webhooks: Webhooks, shop: FakeShopify
) -> None:
    body, headers = shop.webhook("products/update", koszulka(shop))
    tampered = body.replace(b"59.90", b"5.90")

    status, answer = webhooks.post("/webhooks/shopify", tampered, headers)
    wrong_secret = send(webhooks, shop, "products/update", koszulka(shop), secret="not-the-app-secret")

    assert (status, answer["error"]["code"]) == (401, "invalid_signature")
    assert wrong_secret[0] == 401
    webhooks.assert_untouched()


def test_a_product_with_variants_is_published_per_variant(webhooks: Webhooks, shop: FakeShopify) -> None:
    status, answer = send(webhooks, shop, "products/create", koszulka(shop))

    assert (status, answer["status"], answer["events"]) == (202, "queued", 2)
    small, medium = events(webhooks)
    assert isinstance(small, ProductUpsert)
    assert isinstance(medium, ProductUpsert)
    assert (small.sku, small.name, str(small.price), small.ean) == (
        "KOSZ-S-CZ",
        "Koszulka Żółw - S, czarna",
        "59.90",
        "5901234123457",
    )
    assert small.attributes == {"Rozmiar": "S", "Kolor": "czarna"}
    assert (medium.sku, str(medium.price), medium.ean) == ("KOSZ-M-CZ", "64.90", None)  # "ABC" is no EAN
    assert small.source == "shopify"
    assert small.stock is None


def test_inventory_levels_count_only_the_chosen_locations(webhooks: Webhooks, shop: FakeShopify) -> None:
    send(webhooks, shop, "products/create", koszulka(shop))
    webhooks.consume()

    main = send(webhooks, shop, "inventory_levels/update", shop.set_level("KOSZ-S-CZ", MAIN, 4))
    warehouse = send(webhooks, shop, "inventory_levels/update", shop.set_level("KOSZ-S-CZ", WAREHOUSE, 3))
    popup = send(webhooks, shop, "inventory_levels/update", shop.set_level("KOSZ-S-CZ", POPUP, 50))

    assert (main[1]["status"], warehouse[1]["status"]) == ("queued", "queued")
    assert popup[0] == 202
    assert popup[1]["status"] == "ignored"
    assert f"location {POPUP} is not among the counted" in popup[1]["reason"]
    stock = [(e.sku, e.stock) for e in events(webhooks) if isinstance(e, StockSet)]
    assert stock == [("KOSZ-S-CZ", 4), ("KOSZ-S-CZ", 7)]  # 4 + 3; the pop-up store's 50 never counts


def test_a_level_of_an_unknown_inventory_item_is_answered_2xx_and_counted_once_named(
    webhooks: Webhooks, shop: FakeShopify
) -> None:
    product = koszulka(shop)
    early = send(webhooks, shop, "inventory_levels/update", shop.set_level("KOSZ-S-CZ", WAREHOUSE, 2))
    send(webhooks, shop, "products/create", product)
    webhooks.consume()
    later = send(webhooks, shop, "inventory_levels/update", shop.set_level("KOSZ-S-CZ", MAIN, 5))

    assert (early[0], early[1]["status"]) == (202, "ignored")
    assert "not known yet" in early[1]["reason"]
    assert later[1]["status"] == "queued"
    assert [(e.sku, e.stock) for e in events(webhooks)] == [("KOSZ-S-CZ", 7)]  # the early 2 was kept


def test_a_duplicate_webhook_id_is_queued_once(webhooks: Webhooks, shop: FakeShopify) -> None:
    product = koszulka(shop)

    first = send(
        webhooks, shop, "products/update", product, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    )
    retry = send(
        webhooks, shop, "products/update", product, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    )

    assert (first[1]["status"], retry[1]["status"]) == ("queued", "duplicate")
    assert retry[0] == 202
    assert len(webhooks.queued()) == 2  # two variants, once


def test_products_delete_ends_every_variant_seen_before(webhooks: Webhooks, shop: FakeShopify) -> None:
    product = koszulka(shop)
    send(webhooks, shop, "products/create", product)
    webhooks.consume()

    status, answer = send(webhooks, shop, "products/delete", {"id": product["id"]})

    assert (status, answer["status"]) == (202, "queued")
    assert sorted(e.sku for e in events(webhooks) if isinstance(e, ProductDelete)) == [
        "KOSZ-M-CZ",
        "KOSZ-S-CZ",
    ]


def test_what_cannot_be_used_is_answered_2xx_with_the_reason(webhooks: Webhooks, shop: FakeShopify) -> None:
    unknown_topic = send(webhooks, shop, "orders/paid", {"id": 1})
    _, headers = shop.webhook("products/update", {})
    raw = b"{not json"
    resigned = [(k, sign(shop.client_secret, raw) if k == "X-Shopify-Hmac-Sha256" else v) for k, v in headers]
    not_json = webhooks.post("/webhooks/shopify", raw, resigned)
    other_shop = FakeShopify(domain="ktos-inny.myshopify.com")
    elsewhere = send(webhooks, other_shop, "products/update", koszulka(other_shop))
    draft = shop.add_product("Szkic", [{"sku": "SZKIC-1", "price": "1.00"}], status="draft")
    ended = send(webhooks, shop, "products/update", draft)

    assert (unknown_topic[0], unknown_topic[1]["status"]) == (202, "refused")
    assert (not_json[0], not_json[1]["status"]) == (202, "refused")
    assert (elsewhere[0], elsewhere[1]["status"]) == (202, "ignored")
    assert ended[1]["status"] == "queued"
    assert [(type(e), e.sku) for e in events(webhooks)] == [(ProductDelete, "SZKIC-1")]  # a draft ends it
