"""POST /webhooks/woocommerce end to end: WooCommerce's own headers, signature and product JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.contracts.messages import PriceSet, ProductDelete, ProductUpsert, StockSet, parse_shop_event
from tests.integration.webhooks.conftest import WOO_SECRET, Webhooks

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[3] / "docs" / "webhook-examples" / "woocommerce-product.json"


def product(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    data.update(overrides)
    return data


def events(webhooks: Webhooks) -> list[Any]:
    return [parse_shop_event(m["Body"]) for m in webhooks.queued()]


def test_the_ping_sent_when_a_webhook_is_saved_gets_200_and_queues_nothing(webhooks: Webhooks) -> None:
    status, body = webhooks.post(
        "/webhooks/woocommerce",
        b"webhook_id=15",
        [("Content-Type", "application/x-www-form-urlencoded"), ("User-Agent", "WooCommerce/9.4.2 Hookshot")],
    )

    assert (status, body) == (200, {"status": "pong"})
    webhooks.assert_untouched()


def test_a_simple_product_becomes_one_upsert_with_the_mapped_fields(webhooks: Webhooks) -> None:
    status, body = webhooks.woo(product())

    assert (status, body["status"], body["events"]) == (202, "queued", 1)
    [event] = events(webhooks)
    assert isinstance(event, ProductUpsert)
    assert event.source == "woocommerce"
    assert event.sku == "PATELNIA-28"
    assert str(event.price) == "119.00"  # the active (sale) price
    assert event.stock == 23
    assert event.ean == "5907654321091"
    assert event.category_path == ["Patelnie"]
    assert event.attributes == {"Średnica": "28 cm", "Kolor": "grafitowy"}
    assert [str(u) for u in event.image_urls] == [
        "https://sklep.example.pl/wp-content/uploads/2026/10/patelnia-28.jpg"
    ]
    assert event.occurred_at.isoformat() == "2026-11-27T22:05:10+00:00"


def test_a_variable_product_with_embedded_variations_yields_one_event_per_variation(
    webhooks: Webhooks,
) -> None:
    variations = [
        {
            "id": 900 + i,
            "sku": f"KOSZULKA-{size}",
            "price": "59.90",
            "regular_price": "59.90",
            "manage_stock": True,
            "stock_quantity": stock,
            "status": "publish",
            "attributes": [{"id": 3, "name": "Rozmiar", "option": size}],
            "image": {"src": f"https://sklep.example.pl/img/koszulka-{size}.jpg"},
        }
        for i, (size, stock) in enumerate([("S", 4), ("M", 0), ("L", 9)])
    ]
    parent = product(
        id=850,
        type="variable",
        sku="KOSZULKA",
        name="Koszulka lniana",
        attributes=[
            {"name": "Rozmiar", "options": ["S", "M", "L"], "variation": True},
            {"name": "Materiał", "options": ["len"], "variation": False},
        ],
        variations=variations,
    )

    status, body = webhooks.woo(parent)

    assert (status, body["events"]) == (202, 3)
    queued = webhooks.queued()
    assert sorted(m["Attributes"]["MessageGroupId"] for m in queued) == [
        "KOSZULKA-L",
        "KOSZULKA-M",
        "KOSZULKA-S",
    ]
    by_sku = {e.sku: e for e in (parse_shop_event(m["Body"]) for m in queued)}
    medium = by_sku["KOSZULKA-M"]
    assert isinstance(medium, ProductUpsert)
    assert (medium.name, medium.stock, medium.attributes) == (
        "Koszulka lniana - M",
        0,
        {"Rozmiar": "M", "Materiał": "len"},
    )
    assert str(medium.image_urls[0]).endswith("koszulka-M.jpg")


def test_a_variation_delivery_sets_stock_and_price_of_its_own_sku(webhooks: Webhooks) -> None:
    variation = product(
        id=901, parent_id=850, type="variation", sku="KOSZULKA-S", price="49.90", stock_quantity=2
    )

    webhooks.woo(variation)

    got = events(webhooks)
    assert [type(e) for e in got] == [StockSet, PriceSet]
    assert {e.sku for e in got} == {"KOSZULKA-S"}


def test_a_variable_product_whose_variations_cannot_be_read_is_ignored_with_a_reason(
    webhooks: Webhooks,
) -> None:
    # No WooCommerce credentials stored here: the variations cannot be read (see test_woocommerce_as_sent).
    status, body = webhooks.woo(product(type="variable", variations=[901, 902]))

    assert (status, body["status"]) == (202, "ignored")
    assert "could not be read from the shop" in body["reason"]
    webhooks.assert_untouched()


def test_a_negative_price_is_ignored_with_its_reason_not_refused(webhooks: Webhooks) -> None:
    # Resending cannot fix it; a 4xx would count towards WooCommerce disabling the webhook.
    status, body = webhooks.woo(product(price="-5.00", regular_price="-5.00"))

    assert (status, body["status"]) == (202, "ignored")
    assert "price -5.00 is below 0; not synced (fix it in WooCommerce)" in json.dumps(body)
    webhooks.assert_untouched()


def test_a_product_without_sku_is_ignored_not_refused(webhooks: Webhooks) -> None:
    # A 4xx would count towards WooCommerce disabling the webhook after 5 failures.
    status, body = webhooks.woo(product(sku=""))

    assert (status, body["status"]) == (202, "ignored")
    assert "no SKU" in body["reason"]
    webhooks.assert_untouched()


def test_a_deleted_product_ends_every_sku_it_was_seen_with(webhooks: Webhooks) -> None:
    webhooks.woo(product(id=850, type="variable", variations=[{"id": 901, "sku": "K-S", "price": "1"}]))
    webhooks.woo(product(id=902, parent_id=850, type="variation", sku="K-M", price="2"))
    webhooks.consume()

    status, body = webhooks.woo({"id": 850}, topic="product.deleted")

    assert (status, body["events"]) == (202, 2)
    got = events(webhooks)
    assert all(isinstance(e, ProductDelete) for e in got)
    assert sorted(e.sku for e in got) == ["K-M", "K-S"]


def test_deleting_a_product_never_seen_is_ignored(webhooks: Webhooks) -> None:
    status, body = webhooks.woo({"id": 4242}, topic="product.deleted")

    assert (status, body["status"]) == (202, "ignored")
    webhooks.assert_untouched()


def test_a_draft_ends_the_offer(webhooks: Webhooks) -> None:
    webhooks.woo(product(status="draft"))

    [event] = events(webhooks)
    assert isinstance(event, ProductDelete)
    assert event.sku == "PATELNIA-28"


def test_a_redelivery_is_a_duplicate_but_another_product_in_the_same_second_is_not(
    webhooks: Webhooks,
) -> None:
    # WooCommerce's delivery id is a hash of (webhook id, current second): it repeats across products.
    first = webhooks.woo(product(), delivery="same-second")
    again = webhooks.woo(product(), delivery="same-second")
    other = webhooks.woo(product(id=813, sku="PATELNIA-24"), delivery="same-second")

    assert [first[1]["status"], again[1]["status"], other[1]["status"]] == ["queued", "duplicate", "queued"]
    assert sorted(e.sku for e in events(webhooks)) == ["PATELNIA-24", "PATELNIA-28"]


UNSIGNED: list[tuple[str, dict[str, Any], str]] = [
    ("bad signature", {"secret": "wrong"}, "invalid_signature"),
    ("no signature", {"drop": ["X-WC-Webhook-Signature"]}, "missing_signature"),
]


@pytest.mark.parametrize(("kwargs", "code"), [pytest.param(*case[1:], id=case[0]) for case in UNSIGNED])
def test_only_a_bad_signature_is_refused_with_401_and_changes_nothing(
    webhooks: Webhooks, kwargs: dict[str, Any], code: str
) -> None:
    got_status, body = webhooks.woo(product(), **kwargs)

    assert (got_status, body["error"]["code"]) == (401, code), body
    assert "X-WC-Webhook-Signature" in [d["field"] for d in body["error"]["details"]], body
    webhooks.assert_untouched()


# Signed, but nothing in it can be taken: resending cannot fix it, and WooCommerce would disable the
# webhook after more than 5 failed answers in a row (class-wc-webhook.php, failed_delivery). So: 2xx,
# "refused", with the error that says why; nothing queued.
BAD_WOO: list[tuple[str, dict[str, Any], str, str]] = [
    ("order topic", {"topic": "order.created"}, "unknown_topic", "X-WC-Webhook-Topic"),
    ("no topic", {"drop": ["X-WC-Webhook-Topic"]}, "unknown_topic", "X-WC-Webhook-Topic"),
    (
        "no delivery id",
        {"drop": ["X-WC-Webhook-Delivery-ID"]},
        "missing_delivery_id",
        "X-WC-Webhook-Delivery-ID",
    ),
    ("not json", {"raw": b"{oops"}, "malformed_json", "(body)"),
    ("wrong media type", {"content_type": "text/xml"}, "unsupported_media_type", "Content-Type"),
    ("id not a number", {"payload": {"id": "abc", "sku": "X"}}, "schema_violation", "id"),
    ("stock not a number", {"payload": product(stock_quantity="lots")}, "schema_violation", "stock_quantity"),
    ("delete without id", {"payload": {}, "topic": "product.deleted"}, "schema_violation", "id"),
]


@pytest.mark.parametrize(
    ("kwargs", "code", "field"), [pytest.param(*case[1:], id=case[0]) for case in BAD_WOO]
)
def test_bad_signed_woocommerce_input_is_answered_2xx_with_the_error_and_changes_nothing(
    webhooks: Webhooks, kwargs: dict[str, Any], code: str, field: str
) -> None:
    kwargs = dict(kwargs)
    payload = kwargs.pop("payload", product())

    got_status, body = webhooks.woo(payload, **kwargs)

    assert (got_status, body["status"], body["error"]["code"]) == (202, "refused", code), body
    assert field in [d["field"] for d in body["error"]["details"]], body
    assert webhooks.queued() == []
    assert webhooks.markers() == 0


UNTAKEABLE: list[tuple[str, dict[str, Any], str]] = [
    ("price 1e308", {"price": "1e308"}, "price: Input should be less than or equal to 99999999.99"),
    ("absurd stock", {"stock_quantity": 10**12}, "stock: Input should be less than or equal to 1000000"),
    ("name too long", {"name": "x" * 501}, "name: String should have at most 500 characters"),
    ("control char in SKU", {"sku": "PATELNIA\x07-28"}, "sku: String should match pattern"),
]


@pytest.mark.parametrize(("fields", "reason"), [pytest.param(*case[1:], id=case[0]) for case in UNTAKEABLE])
def test_data_the_shop_cannot_fix_is_answered_2xx_and_kept_on_the_products_status(
    webhooks: Webhooks, fields: dict[str, Any], reason: str
) -> None:
    status, body = webhooks.woo(product(**fields))

    assert (status, body["status"]) == (202, "refused"), body
    [refused] = body["refused"]
    assert reason in refused["reason"], refused
    assert webhooks.queued() == []
    kept = webhooks.runtime.application("shop_webhook").shop_refusals().latest(refused["sku"])
    assert kept is not None
    assert reason in kept.reason
    if "sku" in fields:
        assert refused["sku"] == "PATELNIA\\x07-28"  # shown and typed as an escape, never raw


def test_an_unsigned_body_that_only_looks_like_a_ping_is_not_a_ping(webhooks: Webhooks) -> None:
    status, body = webhooks.post(
        "/webhooks/woocommerce",
        b"webhook_id=15",
        [("Content-Type", "application/x-www-form-urlencoded"), ("X-WC-Webhook-Topic", "product.updated")],
    )

    assert (status, body["error"]["code"]) == (401, "missing_signature")
    webhooks.assert_untouched()


def test_the_ping_answers_200_before_any_secret_is_stored(webhooks: Webhooks) -> None:
    webhooks.set_secret({"configured": False, "note": "placeholder"})

    status, body = webhooks.post(
        "/webhooks/woocommerce", b"webhook_id=15", [("Content-Type", "application/x-www-form-urlencoded")]
    )

    assert (status, body) == (200, {"status": "pong"})


def test_aws_failing_throughout_a_woocommerce_delivery_is_answered_2xx_deferred(
    webhooks: Webhooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import EndpointConnectionError

    from allegro_sync.adapters.queues import SqsFifoPublisher

    def down(self: SqsFifoPublisher, messages: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sqs")

    monkeypatch.setattr(SqsFifoPublisher, "send", down)
    monkeypatch.setattr("allegro_sync.adapters.shop.http_request.RETRY_DELAYS", (0.0, 0.0))

    status, body = webhooks.woo(product())

    assert (status, body["status"]) == (202, "deferred")  # never 5xx: WooCommerce would not resend
    assert "shop reconciliation" in body["reason"]


def test_a_woocommerce_body_over_1_mib_is_413_and_changes_nothing(webhooks: Webhooks) -> None:
    status, body = webhooks.woo(product(description="x" * (1024 * 1024)))

    assert (status, body["error"]["code"]) == (413, "body_too_large")
    webhooks.assert_untouched()


def test_an_order_update_while_sqs_keeps_failing_is_2xx_deferred_and_an_unknown_order_2xx_refused(
    webhooks: Webhooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import EndpointConnectionError

    from allegro_sync.adapters.dynamodb.orders import DynamoOrderRepository
    from allegro_sync.adapters.queues import SqsFifoPublisher
    from allegro_sync.adapters.shop.woocommerce import CHECKOUT_FORM_META
    from allegro_sync.local.events import HttpRequest, http_api_v2_event

    def post(known: bool) -> tuple[int, dict[str, Any]]:
        order = {"id": 5, "status": "completed", "meta_data": [{"key": CHECKOUT_FORM_META, "value": "cf-1"}]}
        monkeypatch.setattr(DynamoOrderRepository, "get", lambda self, form: object() if known else None)
        body = wc.dumps(order)
        headers = [("Content-Type", "application/json"), ("X-WC-Webhook-Topic", "order.updated")]
        headers += [("X-WC-Webhook-Signature", wc.sign(WOO_SECRET, body))]
        path = "/webhooks/woocommerce/orders"
        event = http_api_v2_event(
            HttpRequest("POST", path, headers=headers, body=body), route_key=f"POST {path}"
        )
        answer = webhooks.runtime.invoke("fulfillment_intake", event)
        return int(answer["statusCode"]), json.loads(answer["body"])

    def down(self: SqsFifoPublisher, messages: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sqs")

    monkeypatch.setattr(SqsFifoPublisher, "send", down)
    monkeypatch.setattr("allegro_sync.adapters.shop.http_request.RETRY_DELAYS", (0.0, 0.0))

    assert post(known=True)[1]["status"] == "deferred"
    assert post(known=True)[0] == 202
    status, body = post(known=False)
    assert (status, body["status"], body["error"]["code"]) == (202, "refused", "unknown_order")
