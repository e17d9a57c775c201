"""POST /webhooks/shop end to end in the local runtime: what is queued, what is refused (and that a
refusal leaves both the queue and the delivery memory empty)."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from allegro_sync.adapters.shop import signing
from allegro_sync.contracts.messages import ProductUpsert, StockSet, parse_shop_event
from allegro_sync.handlers import shop_webhook
from allegro_sync.services.webhooks import group_id
from tests.integration.webhooks.conftest import SECRET, Webhooks, upsert

pytestmark = pytest.mark.integration


def test_a_signed_upsert_is_queued_once_grouped_by_sku(webhooks: Webhooks) -> None:
    status, body = webhooks.generic(upsert("GARNEK-24", ean="5901234123457"), delivery="d-42")

    assert (status, body) == (202, {"status": "queued", "delivery": "d-42", "events": 1})
    [message] = webhooks.queued()
    assert message["Attributes"]["MessageGroupId"] == "GARNEK-24"
    event = parse_shop_event(message["Body"])
    assert isinstance(event, ProductUpsert)
    assert (event.sku, event.ean, str(event.price), event.delivery_id) == (
        "GARNEK-24",
        "5901234123457",
        "189.99",
        "d-42",
    )


def test_the_same_delivery_again_is_a_duplicate_and_not_queued_twice(webhooks: Webhooks) -> None:
    first = webhooks.generic(upsert(), delivery="d-7")
    again = webhooks.generic(upsert(), delivery="d-7", timestamp=int(time.time()) + 5)  # re-signed retry

    assert first[0] == again[0] == 202
    assert again[1]["status"] == "duplicate"
    assert len(webhooks.queued()) == 1


def test_a_redelivery_beyond_the_sqs_window_is_still_a_duplicate(webhooks: Webhooks) -> None:
    webhooks.generic(upsert(), delivery="d-old")
    # Days later the queue has long been consumed: only the DynamoDB marker remembers the delivery.
    webhooks.consume()

    status, body = webhooks.generic(upsert(), delivery="d-old")

    assert (status, body["status"]) == (202, "duplicate")
    assert webhooks.queued() == []
    [marker] = webhooks.stored()
    assert marker["status"]["S"] == "queued"
    assert int(marker["expiration"]["N"]) > time.time() + 13 * 86_400


def test_a_batch_queues_every_event_in_order_with_distinct_dedup_ids(webhooks: Webhooks) -> None:
    payload = {
        "events": [
            {"type": "stock.set", "sku": "A-1", "stock": 3},
            {"type": "price.set", "sku": "B-2", "price": 10},
            {"type": "stock.set", "sku": "A-1", "stock": 2},
            {"type": "product.delete", "sku": "C-3"},
        ]
    }

    status, body = webhooks.generic(payload, delivery="batch-1")

    assert (status, body["events"]) == (202, 4)
    messages = webhooks.queued()
    assert len({m["Attributes"]["MessageDeduplicationId"] for m in messages}) == 4
    a_levels = [parse_shop_event(m["Body"]) for m in messages if m["Attributes"]["MessageGroupId"] == "A-1"]
    assert [e.stock for e in a_levels if isinstance(e, StockSet)] == [3, 2]


def test_a_sku_sqs_cannot_use_as_group_gets_a_stable_hashed_group(webhooks: Webhooks) -> None:
    webhooks.generic({"type": "stock.set", "sku": "ŻÓŁW-1", "stock": 1}, delivery="pl-1")

    [message] = webhooks.queued()
    assert message["Attributes"]["MessageGroupId"] == group_id("ŻÓŁW-1") != "ŻÓŁW-1"
    assert parse_shop_event(message["Body"]).sku == "ŻÓŁW-1"


def test_the_previous_secret_still_works_during_a_rotation(webhooks: Webhooks) -> None:
    webhooks.set_secret({"secret": "new-secret", "previous": SECRET})

    assert webhooks.generic(upsert(), delivery="r-1", secret=SECRET)[0] == 202
    assert webhooks.generic(upsert(), delivery="r-2", secret="new-secret")[0] == 202
    assert webhooks.generic(upsert(), delivery="r-3", secret="older")[0] == 401


def test_an_unconfigured_secret_answers_503_and_queues_nothing(webhooks: Webhooks) -> None:
    webhooks.set_secret({"configured": False, "note": "placeholder"})

    status, body = webhooks.generic(upsert())

    assert (status, body["error"]["code"]) == (503, "not_configured")
    webhooks.assert_untouched()


def test_a_missing_secret_answers_503_not_configured(webhooks: Webhooks) -> None:
    secrets = webhooks._client("secretsmanager")
    name = webhooks.runtime.wiring.secrets["webhook-signing"]
    secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    webhooks.forget_secret()
    try:
        status, body = webhooks.generic(upsert())
    finally:
        secrets.create_secret(Name=name, SecretString=json.dumps({"webhook-signing": {"secret": SECRET}}))

    assert (status, body["error"]["code"]) == (503, "not_configured")
    webhooks.assert_untouched()


def _sqs_failing(monkeypatch: pytest.MonkeyPatch, times: int) -> dict[str, int]:
    """SQS refusing the first `times` sends (no waiting between the in-request retries)."""
    from botocore.exceptions import EndpointConnectionError

    from allegro_sync.adapters.queues import SqsFifoPublisher

    real_send = SqsFifoPublisher.send
    calls = {"n": 0}

    def flaky_send(self: SqsFifoPublisher, messages: Any) -> None:
        calls["n"] += 1
        if calls["n"] <= times:
            raise EndpointConnectionError(endpoint_url="https://sqs")
        real_send(self, messages)

    monkeypatch.setattr(SqsFifoPublisher, "send", flaky_send)
    monkeypatch.setattr("allegro_sync.adapters.shop.http_request.RETRY_DELAYS", (0.0, 0.0))
    return calls


def test_a_blip_of_sqs_is_retried_within_the_request_and_queues_once(
    webhooks: Webhooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _sqs_failing(monkeypatch, times=2)

    status, body = webhooks.generic(upsert("BLIP-1"), delivery="blip-1")

    assert (status, body["status"], calls["n"]) == (202, "queued", 3)
    assert [m["Attributes"]["MessageGroupId"] for m in webhooks.queued()] == ["BLIP-1"]


def test_aws_failing_throughout_answers_503_and_the_resend_queues_once(
    webhooks: Webhooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqs_failing(monkeypatch, times=3)  # every attempt of the first request

    failed = webhooks.generic(upsert("RETRY-1"), delivery="retry-1")
    retried = webhooks.generic(upsert("RETRY-1"), delivery="retry-1")

    assert (failed[0], failed[1]["error"]["code"]) == (503, "temporarily_unavailable")
    assert (retried[0], retried[1]["status"]) == (202, "queued")
    assert [m["Attributes"]["MessageGroupId"] for m in webhooks.queued()] == ["RETRY-1"]


def _now() -> int:
    return int(time.time())


BAD_GENERIC: list[tuple[str, dict[str, Any], int, str, str | None]] = [
    # id, generic() kwargs, status, error code, offending field
    ("wrong signature", {"secret": "not-the-secret"}, 401, "invalid_signature", signing.SIGNATURE_HEADER),
    (
        "missing signature",
        {"drop": [signing.SIGNATURE_HEADER]},
        401,
        "missing_signature",
        signing.SIGNATURE_HEADER,
    ),
    (
        "missing timestamp",
        {"drop": [signing.TIMESTAMP_HEADER]},
        401,
        "missing_signature",
        signing.TIMESTAMP_HEADER,
    ),
    (
        "missing delivery id",
        {"drop": [signing.DELIVERY_HEADER]},
        401,
        "missing_signature",
        signing.DELIVERY_HEADER,
    ),
    ("stale timestamp", {"timestamp": -301}, 401, "stale_timestamp", signing.TIMESTAMP_HEADER),
    # A day ahead, far from the 300 s window: no slow request can make it valid (the old +301 s could).
    ("future timestamp", {"timestamp": 86_400}, 401, "future_timestamp", signing.TIMESTAMP_HEADER),
    ("bad delivery id", {"delivery": "has space"}, 401, "invalid_delivery_id", signing.DELIVERY_HEADER),
    ("malformed json", {"raw": b'{"type": "stock.set",'}, 400, "malformed_json", "(body)"),
    (
        "NaN is not JSON",
        {"raw": b'{"type":"price.set","sku":"A","price":NaN}'},
        400,
        "malformed_json",
        "(body)",
    ),
    ("wrong content type", {"content_type": "text/plain"}, 415, "unsupported_media_type", "Content-Type"),
    (
        "form content type",
        {"content_type": "application/x-www-form-urlencoded"},
        415,
        "unsupported_media_type",
        "Content-Type",
    ),
    (
        "wrong type",
        {"payload": {"type": "stock.set", "sku": "A", "stock": "many"}},
        422,
        "schema_violation",
        "stock",
    ),
    (
        "negative stock",
        {"payload": {"type": "stock.set", "sku": "A", "stock": -1}},
        422,
        "schema_violation",
        "stock",
    ),
    ("missing sku", {"payload": {"type": "stock.set", "stock": 1}}, 422, "schema_violation", "sku"),
    (
        "sku with spaces",
        {"payload": {"type": "stock.set", "sku": "A B", "stock": 1}},
        422,
        "schema_violation",
        "sku",
    ),
    (
        "three decimals",
        {"payload": {"type": "price.set", "sku": "A", "price": "1.999"}},
        422,
        "schema_violation",
        "price",
    ),
    (
        "unknown field",
        {"payload": {"type": "stock.set", "sku": "A", "stock": 1, "qty": 2}},
        422,
        "schema_violation",
        "qty",
    ),
    ("no type", {"payload": {"sku": "A", "stock": 1}}, 422, "schema_violation", None),
    ("not an object", {"payload": [1, 2]}, 422, "schema_violation", "(body)"),
    ("unknown type", {"payload": {"type": "order.created", "sku": "A"}}, 400, "unknown_event_type", "type"),
    (
        "unknown type in batch",
        {"payload": {"events": [{"type": "stock.set", "sku": "A", "stock": 1}, {"type": "x"}]}},
        400,
        "unknown_event_type",
        "events[1].type",
    ),
    (
        "bad event in batch",
        {
            "payload": {
                "events": [
                    {"type": "stock.set", "sku": "A", "stock": 1},
                    {"type": "price.set", "sku": "B", "price": -5},
                ]
            }
        },
        422,
        "schema_violation",
        "events[1].price",
    ),
    ("empty batch", {"payload": {"events": []}}, 422, "schema_violation", "events"),
    (
        "too many events",
        {"payload": {"events": [{"type": "product.delete", "sku": f"S{i}"} for i in range(51)]}},
        422,
        "schema_violation",
        "events",
    ),
    (
        "upsert without category",
        {"payload": upsert(category_path=[])},
        422,
        "schema_violation",
        "category_path",
    ),
    (
        "bad image url",
        {"payload": upsert(image_urls=["not a url"])},
        422,
        "schema_violation",
        "image_urls[0]",
    ),
    ("bad ean", {"payload": upsert(ean="12345")}, 422, "schema_violation", "ean"),
]


@pytest.mark.parametrize(
    ("kwargs", "status", "code", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_GENERIC],
)
def test_bad_input_is_refused_precisely_and_changes_nothing(
    webhooks: Webhooks, kwargs: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    kwargs = dict(kwargs)
    if "timestamp" in kwargs:
        kwargs["timestamp"] += _now()
    payload = kwargs.pop("payload", upsert())

    got_status, body = webhooks.generic(payload, **kwargs)

    assert got_status == status, body
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    if field is not None:
        assert field in [d["field"] for d in body["error"]["details"]], body
    assert all(set(d) == {"field", "problem"} and d["problem"] for d in body["error"]["details"])
    webhooks.assert_untouched()


def test_a_body_over_256_kib_is_413_and_changes_nothing(webhooks: Webhooks) -> None:
    huge = upsert(description_html="x" * (256 * 1024))

    status, body = webhooks.generic(huge)

    assert (status, body["error"]["code"]) == (413, "body_too_large")
    webhooks.assert_untouched()


def test_a_base64_body_is_verified_on_its_decoded_bytes(webhooks: Webhooks) -> None:
    body = json.dumps({"type": "stock.set", "sku": "B64", "stock": 2}).encode()
    ts = _now()
    headers = [
        ("Content-Type", "application/json"),
        (signing.DELIVERY_HEADER, "b64"),
        (signing.TIMESTAMP_HEADER, str(ts)),
        (signing.SIGNATURE_HEADER, signing.sign(SECRET, ts, "b64", body)),
    ]

    status, _ = webhooks.post("/webhooks/shop", body, headers, base64_body=True)

    assert status == 202
    assert [m["Attributes"]["MessageGroupId"] for m in webhooks.queued()] == ["B64"]


def test_logs_carry_the_delivery_id_but_never_the_secret_signature_or_body(webhooks: Webhooks) -> None:
    stream = io.StringIO()
    handler = shop_webhook.logger.registered_handler
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    payload = upsert("LOG-1", description_html="<p>tajny opis produktu</p>")
    body = json.dumps(payload).encode()
    ts = _now()
    signature = signing.sign(SECRET, ts, "log-delivery", body)
    headers = [
        ("Content-Type", "application/json"),
        (signing.DELIVERY_HEADER, "log-delivery"),
        (signing.TIMESTAMP_HEADER, str(ts)),
        (signing.SIGNATURE_HEADER, signature),
    ]
    webhooks.post("/webhooks/shop", body, headers)
    webhooks.post("/webhooks/shop", body + b" ", headers)  # refused: logged as a warning
    handler.setStream(previous)  # type: ignore[attr-defined]

    logs = stream.getvalue()
    records = [json.loads(line) for line in logs.splitlines() if line.startswith('{"level"')]
    assert [r["correlation_id"] for r in records] == ["log-delivery", "log-delivery"]
    for secret_or_content in (SECRET, signature[3:], "tajny opis"):
        assert secret_or_content not in logs


def test_a_refusal_raises_the_one_webhook_metric_and_logs_its_source_and_reason(
    webhooks: Webhooks, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 21: `WebhooksRejected` is alarmed, with the `service` dimension alone (one billed metric);
    which shop and why is in the log line, where a dimension would bill one metric per combination."""
    stream = io.StringIO()
    handler = shop_webhook.logger.registered_handler
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    capsys.readouterr()
    webhooks.generic(upsert(), delivery="metric-ok")
    accepted = capsys.readouterr().out
    webhooks.generic(upsert(), delivery="metric-bad", secret="not-the-secret")
    refused = capsys.readouterr().out
    handler.setStream(previous)  # type: ignore[attr-defined]

    assert '"_aws"' not in accepted  # an accepted delivery is a log line, not a metric
    (emf,) = [json.loads(line) for line in refused.splitlines() if '"_aws"' in line]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service"]]
    assert [m["Name"] for m in directive["Metrics"]] == ["WebhooksRejected"]
    logged = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith('{"level"')]
    (line,) = [r for r in logged if r["message"] == "webhook refused"]
    assert (line["source"], line["code"]) == ("generic", "invalid_signature")
    (ok,) = [r for r in logged if r["message"] == "webhook accepted"]
    assert (ok["source"], ok["outcome"], ok["queued"]) == ("generic", "queued", 1)
