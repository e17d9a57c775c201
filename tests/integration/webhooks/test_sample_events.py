"""The committed sample events are honest: signed with the documented local-only secret, and answered
exactly as docs/webhooks.md says (nothing bypasses the signature or the replay window for them)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from allegro_sync.adapters.shop import signing
from tests.integration.webhooks.conftest import Webhooks

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"
LOCAL_SECRET = "local-webhook-signing-secret"


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event


def answer(webhooks: Webhooks, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    result = webhooks.runtime.invoke("shop_webhook", event)
    return int(result["statusCode"]), json.loads(result["body"])


def test_with_the_placeholder_secret_both_samples_answer_not_configured(webhooks: Webhooks) -> None:
    webhooks.set_secret({"configured": False, "note": "placeholder created by the local runtime"})

    for name in ("shop_webhook-generic.json", "shop_webhook-woocommerce.json"):
        status, body = answer(webhooks, sample(name))
        assert (status, body["error"]["code"]) == (503, "not_configured"), name
    webhooks.assert_untouched()


def test_the_woocommerce_sample_is_validly_signed_and_queues_the_product(webhooks: Webhooks) -> None:
    webhooks.set_secret({"secret": LOCAL_SECRET})

    status, body = answer(webhooks, sample("shop_webhook-woocommerce.json"))

    assert (status, body["status"]) == (202, "queued")
    assert [m["Attributes"]["MessageGroupId"] for m in webhooks.queued()] == ["PATELNIA-28"]


def test_the_generic_sample_is_validly_signed_but_its_fixed_timestamp_is_stale(webhooks: Webhooks) -> None:
    webhooks.set_secret({"secret": LOCAL_SECRET})
    event = sample("shop_webhook-generic.json")
    headers = event["headers"]
    ts = int(headers[signing.TIMESTAMP_HEADER.lower()])

    assert signing.matches(
        [LOCAL_SECRET],
        headers[signing.SIGNATURE_HEADER.lower()],
        ts,
        headers[signing.DELIVERY_HEADER.lower()],
        event["body"].encode(),
    )
    status, body = answer(webhooks, event)
    if abs(time.time() - ts) <= 300:
        pytest.skip("the sample was signed less than 5 minutes ago")
    assert (status, body["error"]["code"]) == (401, "stale_timestamp")
    webhooks.assert_untouched()
