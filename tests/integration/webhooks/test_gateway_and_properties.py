"""Over real HTTP through the local gateway, and hypothesis throwing arbitrary requests at the handler."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.contracts.messages import StockSet, parse_shop_event
from tests.integration.webhooks.conftest import SECRET, WOO_SECRET, Webhooks, upsert

pytestmark = pytest.mark.integration


def test_a_delivery_through_the_http_gateway_is_queued_and_the_contract_is_served(webhooks: Webhooks) -> None:
    base = webhooks.runtime.start_gateway()
    body = json.dumps(upsert("HTTP-1")).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        **signing.signed_headers(SECRET, "over-http-1", body, int(time.time())),
    }

    with httpx.Client(base_url=base, timeout=30) as http:
        accepted = http.post("/webhooks/shop", content=body, headers=headers)
        refused = http.post("/webhooks/shop", content=body + b" ", headers=headers)
        ping = http.post("/webhooks/woocommerce", content=b"webhook_id=3")
        contract = http.get("/openapi.json")

    assert accepted.status_code == 202
    assert accepted.json() == {"status": "queued", "delivery": "over-http-1", "events": 1}
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "invalid_signature")
    assert (ping.status_code, ping.json()) == (200, {"status": "pong"})
    assert contract.status_code == 200
    assert contract.json()["openapi"] == "3.1.0"
    assert [m["Attributes"]["MessageGroupId"] for m in webhooks.queued()] == ["HTTP-1"]


skus = st.from_regex(r"[A-Z0-9][A-Z0-9\-]{0,15}", fullmatch=True)
valid_events = st.one_of(
    st.builds(lambda s, n: {"type": "stock.set", "sku": s, "stock": n}, skus, st.integers(0, 10**6)),
    st.builds(
        lambda s, p: {"type": "price.set", "sku": s, "price": str(p)},
        skus,
        st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False),
    ),
    st.builds(lambda s: {"type": "product.delete", "sku": s}, skus),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)
invalid_events = st.one_of(
    valid_events.map(lambda e: {**e, "sku": ""}),
    valid_events.map(lambda e: {**e, "type": "stock.set", "stock": -1}),
    st.dictionaries(st.sampled_from(["type", "sku", "stock", "price", "x"]), json_values, max_size=4).filter(
        lambda d: not (d.get("type") == "product.delete" and isinstance(d.get("sku"), str))
    ),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, bytes, list[tuple[str, str]], bool]:
    """(path, body, headers, whether it deserves to be queued)."""
    route = draw(st.sampled_from(["generic", "woocommerce"]))
    kind = draw(st.sampled_from(["valid", "invalid", "junk"]))
    if kind == "valid":
        body = json.dumps(draw(valid_events)).encode()
    elif kind == "invalid":
        body = json.dumps(draw(invalid_events)).encode()
    else:
        body = draw(st.binary(max_size=64))
    # Biased towards the right answers so the "deserved" branch is exercised too.
    signature = draw(st.sampled_from(["right", "right", "wrong", "missing", "garbage"]))
    content_type = draw(st.sampled_from(["application/json", "application/json", "text/plain", None]))
    headers: list[tuple[str, str]] = [("Content-Type", content_type)] if content_type else []
    delivery = uuid.uuid4().hex
    if route == "generic":
        ts = int(time.time()) + draw(st.sampled_from([0, 0, -10_000, 10_000]))
        headers += [(signing.DELIVERY_HEADER, delivery), (signing.TIMESTAMP_HEADER, str(ts))]
        value = {
            "right": signing.sign(SECRET, ts, delivery, body),
            "wrong": signing.sign("nope", ts, delivery, body),
            "garbage": draw(st.text(max_size=80).filter(lambda t: "\n" not in t and "\r" not in t)),
        }.get(signature)
        if value is not None:
            headers.append((signing.SIGNATURE_HEADER, value))
        deserved = (
            kind == "valid"
            and signature == "right"
            and content_type == "application/json"
            and abs(ts - time.time()) < 200
        )
        return "/webhooks/shop", body, headers, deserved
    # WooCommerce: the body is a product; a valid event body is not one, so wrap the valid case.
    if kind == "valid":
        body = wc.dumps(
            {"id": 7, "sku": draw(skus), "name": "N", "price": "10.00", "categories": [{"name": "A"}]}
        )
    headers += [("X-WC-Webhook-Topic", "product.updated"), ("X-WC-Webhook-Delivery-ID", delivery)]
    value = {
        "right": wc.sign(WOO_SECRET, body),
        "wrong": wc.sign("nope", body),
        "garbage": draw(st.text(max_size=80).filter(lambda t: "\n" not in t and "\r" not in t)),
    }.get(signature)
    if value is not None:
        headers.append(("X-WC-Webhook-Signature", value))
    deserved = kind == "valid" and signature == "right" and content_type == "application/json"
    return "/webhooks/woocommerce", body, headers, deserved


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests())
def test_no_request_gives_a_5xx_or_queues_unless_signed_and_valid(
    webhooks: Webhooks, request: tuple[str, bytes, list[tuple[str, str]], bool]
) -> None:
    path, body, headers, deserved = request
    before = webhooks.markers()

    status, answer = webhooks.post(path, body, headers)

    assert status < 500, answer
    grew = webhooks.markers() - before
    if deserved:
        assert (status, answer["status"], grew) == (202, "queued", 1)
    else:
        assert status >= 400 or answer["status"] in ("ignored", "refused"), answer
        assert grew == 0
    webhooks.consume()


def test_the_property_oracle_can_fail(webhooks: Webhooks) -> None:
    """Guard against a vacuous property: a deserved request really is queued, an undeserved one is not."""
    ts = int(time.time())
    body = json.dumps({"type": "stock.set", "sku": "P-1", "stock": 1}).encode()
    good: list[tuple[str, str]] = [
        ("Content-Type", "application/json"),
        (signing.DELIVERY_HEADER, "oracle"),
        (signing.TIMESTAMP_HEADER, str(ts)),
        (signing.SIGNATURE_HEADER, signing.sign(SECRET, ts, "oracle", body)),
    ]

    assert webhooks.post("/webhooks/shop", body, good)[0] == 202
    [message] = webhooks.queued()
    assert isinstance(parse_shop_event(message["Body"]), StockSet)
