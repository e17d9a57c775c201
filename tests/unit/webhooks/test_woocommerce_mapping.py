"""WooCommerce product JSON -> shop events: the mapping rules, without any AWS."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.adapters.shop.errors import WebhookRejected
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.contracts.webhooks import DeleteByProductId, Delivery

NOW = 1_800_000_000.0


def headers(body: bytes, topic: str = "product.updated", **extra: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-delivery-id": "abc",
        "x-wc-webhook-id": "3",
        "x-wc-webhook-source": "https://sklep.example.pl/",
        "x-wc-webhook-signature": wc.sign("s", body),
        **extra,
    }


def parse(payload: dict[str, Any], topic: str = "product.updated") -> Delivery:
    body = wc.dumps(payload)
    result = wc.parse_woocommerce(headers(body, topic), body, ["s"], now=NOW)
    assert isinstance(result, Delivery)
    return result


def simple(**overrides: Any) -> dict[str, Any]:
    return {
        "id": 10,
        "type": "simple",
        "status": "publish",
        "sku": "S-1",
        "name": "Kubek",
        "price": "19.9",
        "regular_price": "24.90",
        "manage_stock": True,
        "stock_quantity": 3,
        "categories": [{"id": 1, "name": "Kubki", "slug": "kubki"}],
        **overrides,
    }


def only_upsert(delivery: Delivery) -> ProductUpsert:
    [event] = delivery.events
    assert isinstance(event, ProductUpsert)
    return event


def test_the_active_price_is_used_and_rounded_to_grosze() -> None:
    assert str(only_upsert(parse(simple(price="19.905"))).price) == "19.91"


def test_the_regular_price_stands_in_when_there_is_no_active_price() -> None:
    assert str(only_upsert(parse(simple(price=""))).price) == "24.90"


def test_a_product_without_any_price_is_ignored_with_a_note() -> None:
    delivery = parse(simple(price="", regular_price=""))

    assert delivery.events == ()
    assert delivery.ignored


@pytest.mark.parametrize(
    ("fields", "stock"),
    [
        ({"manage_stock": True, "stock_quantity": -4}, 0),  # backorders
        ({"manage_stock": False, "stock_status": "outofstock"}, 0),
        ({"manage_stock": False, "stock_status": "instock"}, None),
        ({"manage_stock": True, "stock_quantity": 7}, 7),
    ],
)
def test_stock_levels(fields: dict[str, Any], stock: int | None) -> None:
    assert only_upsert(parse(simple(**fields))).stock == stock


@pytest.mark.parametrize(
    ("fields", "ean"),
    [
        ({"global_unique_id": "5901234123457"}, "5901234123457"),
        ({"meta_data": [{"key": "_ean", "value": "12345678"}]}, "12345678"),
        (
            {"global_unique_id": "", "meta_data": [{"key": "_global_unique_id", "value": "012345678905"}]},
            "012345678905",
        ),
        ({"global_unique_id": "ABC"}, None),
    ],
)
def test_ean_sources(fields: dict[str, Any], ean: str | None) -> None:
    assert only_upsert(parse(simple(**fields))).ean == ean


def test_an_invalid_ean_is_dropped_with_a_note_instead_of_blocking_the_product() -> None:
    delivery = parse(simple(global_unique_id="59-01"))

    assert only_upsert(delivery).ean is None
    assert any("EAN" in note for note in delivery.notes)


def test_the_category_path_is_the_first_category_or_uncategorized() -> None:
    two = simple(categories=[{"name": "Kubki"}, {"name": "Prezenty"}])

    assert only_upsert(parse(two)).category_path == ["Kubki"]
    assert only_upsert(parse(simple(categories=[]))).category_path == ["Uncategorized"]


def test_invalid_image_urls_are_skipped_and_at_most_16_kept() -> None:
    images = [{"src": "not a url"}] + [{"src": f"https://img.example.pl/{i}.jpg"} for i in range(20)]

    urls = only_upsert(parse(simple(images=images))).image_urls

    assert len(urls) == 16
    assert str(urls[0]) == "https://img.example.pl/0.jpg"


def test_grouped_products_and_missing_skus_are_ignored() -> None:
    assert parse(simple(type="grouped")).ignored
    assert parse(simple(sku="  ")).ignored


def test_the_product_index_key_is_the_parent_for_a_variation() -> None:
    delivery = parse(simple(id=901, parent_id=850, type="variation"))

    assert delivery.shop_product == "https://sklep.example.pl/#850"


def test_a_delete_names_the_product_for_the_intake_to_resolve() -> None:
    body = wc.dumps({"id": 850})

    result = wc.parse_woocommerce(headers(body, "product.deleted"), body, ["s"], now=NOW)

    assert isinstance(result, DeleteByProductId)
    assert result.product == "https://sklep.example.pl/#850"


def test_the_delivery_key_separates_bodies_that_share_a_delivery_id() -> None:
    assert parse(simple()).key != parse(simple(stock_quantity=2)).key
    assert parse(simple()).key == parse(simple()).key


def test_a_non_ping_form_body_is_not_a_ping() -> None:
    assert wc.is_ping({}, b"webhook_id=12")
    assert not wc.is_ping({"x-wc-webhook-topic": "product.updated"}, b"webhook_id=12")
    assert not wc.is_ping({}, b"webhook_id=12&x=1")


def test_a_signature_made_with_another_secret_is_refused() -> None:
    body = wc.dumps(simple())

    with pytest.raises(WebhookRejected) as refused:
        wc.parse_woocommerce(headers(body), body, ["other"], now=NOW)

    assert (refused.value.status, refused.value.code) == (401, "invalid_signature")
