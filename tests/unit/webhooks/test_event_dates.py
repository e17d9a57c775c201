"""A change dated in the future would shadow every real change of its SKU: refused (generic) or clamped
to the arrival time (WooCommerce, which must never get a 4xx for its own clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.adapters.shop.errors import WebhookRejected
from allegro_sync.adapters.shop.generic import parse_generic
from allegro_sync.contracts.webhooks import Delivery

NOW = 1_800_000_000
IN_AN_HOUR = datetime.fromtimestamp(NOW + 3600, UTC).isoformat()
A_MINUTE_AGO = datetime.fromtimestamp(NOW - 60, UTC).isoformat()


def deliver(payload: object) -> Delivery:
    body = json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "x-allegro-sync-delivery": "d",
        "x-allegro-sync-timestamp": str(NOW),
        "x-allegro-sync-signature": signing.sign("s", NOW, "d", body),
    }
    return parse_generic(headers, body, ["s"], now=NOW, replay_window=300)


def test_a_past_occurred_at_is_kept() -> None:
    [event] = deliver({"type": "stock.set", "sku": "A", "stock": 1, "occurred_at": A_MINUTE_AGO}).events

    assert event.occurred_at.timestamp() == NOW - 60


def test_a_future_occurred_at_is_refused_with_its_field() -> None:
    with pytest.raises(WebhookRejected) as refused:
        deliver({"type": "stock.set", "sku": "A", "stock": 1, "occurred_at": IN_AN_HOUR})

    assert refused.value.status == 422
    assert [d.field for d in refused.value.details] == ["occurred_at"]


def test_in_a_batch_the_future_event_is_named_by_index() -> None:
    events = [
        {"type": "stock.set", "sku": "A", "stock": 1},
        {"type": "stock.set", "sku": "B", "stock": 1, "occurred_at": IN_AN_HOUR},
    ]

    with pytest.raises(WebhookRejected) as refused:
        deliver({"events": events})

    assert [d.field for d in refused.value.details] == ["events[1].occurred_at"]


def test_a_woocommerce_date_ahead_of_our_clock_is_clamped_to_the_arrival() -> None:
    product = {"id": 1, "sku": "W", "name": "N", "price": "1.00", "date_modified_gmt": "2030-01-01T00:00:00"}
    body = wc.dumps(product)
    headers = {
        "content-type": "application/json",
        "x-wc-webhook-topic": "product.updated",
        "x-wc-webhook-delivery-id": "x",
        "x-wc-webhook-signature": wc.sign("s", body),
    }

    delivery = wc.parse_woocommerce(headers, body, ["s"], now=NOW)

    assert isinstance(delivery, Delivery)
    assert delivery.events[0].occurred_at.timestamp() == NOW
