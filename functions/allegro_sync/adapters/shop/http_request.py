"""API Gateway HTTP API (payload 2.0) requests as the shop webhook routes read them.

An HTTP API hands Lambda the body as text only for `text/*`, `application/json`, `application/xml` and
`application/javascript`; anything else (WooCommerce's form-encoded ping included) arrives base64-encoded
with `isBase64Encoded: true` (see `allegro_sync.local.events`, which reproduces it, for the sources). Every
body is therefore decoded by that flag, never guessed; it is refused by size before it is decoded (base64
is 4/3 of what it encodes).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError

from allegro_sync.adapters import alarm_metrics
from allegro_sync.adapters.queues import PublishFailed
from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.errors import Problem, WebhookRejected
from allegro_sync.adapters.shop.platforms import (
    SHOPIFY_DELIVERY_HEADER,
    WOOCOMMERCE_DELIVERY_HEADER,
    is_woocommerce_ping,
)
from allegro_sync.adapters.shop.signing_secret import SigningNotConfigured
from allegro_sync.contracts.webhooks import (
    DeleteByProductId,
    Delivery,
    IntakeResult,
    InventoryLevel,
    Outcome,
    Source,
)

if TYPE_CHECKING:  # each route imports its platform's adapter when it parses (one seller, one platform)
    from allegro_sync.adapters.shop.woocommerce import Reader


def json_response(status: int, body: Mapping[str, Any]) -> Response[Any]:
    """A JSON answer no proxy may cache (webhook answers are per delivery)."""
    return Response(status, "application/json", dict(body), {"Cache-Control": "no-store"})


def headers_of(event: APIGatewayProxyEventV2) -> dict[str, str]:
    """The request's headers with lower-case names (HTTP API already lower-cases; tests may not)."""
    return {k.lower(): v for k, v in (event.headers or {}).items() if v is not None}


def delivery_id(event: APIGatewayProxyEventV2, header: str) -> str:
    """The shop's delivery id from `header`, or API Gateway's request id: the delivery's correlation id."""
    return headers_of(event).get(header.lower()) or event.request_context.request_id


def body_of(event: APIGatewayProxyEventV2, limit: int) -> bytes:
    """The raw body, decoded if API Gateway base64-encoded it; 413 over `limit`, 400 if undecodable."""
    raw = event.body or ""
    encoded_limit = limit * 4 // 3 + 4 if event.is_base64_encoded else limit
    if len(raw) > encoded_limit or (not event.is_base64_encoded and len(raw.encode()) > limit):
        raise too_large(limit)
    if not event.is_base64_encoded:
        return raw.encode()
    try:
        body = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise WebhookRejected(400, "malformed_body", "the body could not be decoded") from None
    if len(body) > limit:
        raise too_large(limit)
    return body


def too_large(limit: int) -> WebhookRejected:
    return WebhookRejected(
        413,
        "body_too_large",
        f"the body exceeds {limit} bytes",
        [Problem("(body)", f"at most {limit} bytes")],
    )


@dataclass(frozen=True)
class WebhookRoute:
    """What differs between the shop webhook routes: who sends, how big, which header names the delivery,
    and how a verified body becomes a delivery (`parse(headers, body, keys, now, replay_window, reader)`;
    `keys` are the route's secrets: `SigningSecrets`, or `ShopifyKeys` for Shopify; `reader` builds the
    shop's REST reader when a delivery needs it)."""

    source: Source
    max_body_bytes: int
    delivery_header: str
    parse: Callable[
        [Mapping[str, str], bytes, Any, float, int, Reader], Delivery | DeleteByProductId | InventoryLevel
    ]


def _generic(
    headers: Mapping[str, str], body: bytes, secrets: Any, now: float, window: int, _reader: Reader
) -> Delivery:
    from allegro_sync.adapters.shop.generic import parse_generic

    return parse_generic(headers, body, secrets.generic, now=now, replay_window=window)


def _woocommerce(
    headers: Mapping[str, str], body: bytes, secrets: Any, now: float, _window: int, reader: Reader
) -> Delivery | DeleteByProductId:
    from allegro_sync.adapters.shop.woocommerce import parse_woocommerce

    return parse_woocommerce(headers, body, secrets.woocommerce, now=now, reader=reader)


def _shopify(
    headers: Mapping[str, str], body: bytes, keys: Any, now: float, _window: int, _reader: Reader
) -> Delivery | DeleteByProductId | InventoryLevel:
    from allegro_sync.adapters.shop.shopify import parse_shopify

    return parse_shopify(headers, body, keys, now=now)


# The generic contract's limit: every event must fit one SQS message (256 KiB), and so must the delivery.
GENERIC = WebhookRoute("generic", 256 * 1024, signing.DELIVERY_HEADER, _generic)
# WooCommerce disables a webhook after 5 failed deliveries, so its (chattier) product JSON gets more room;
# each event it yields is still bounded by the event model.
WOOCOMMERCE = WebhookRoute("woocommerce", 1024 * 1024, WOOCOMMERCE_DELIVERY_HEADER, _woocommerce)
# Shopify's product JSON with many variants is large; each event it yields is bounded by the event model.
SHOPIFY = WebhookRoute("shopify", 1024 * 1024, SHOPIFY_DELIVERY_HEADER, _shopify)
# AWS failed while queueing or reading the secret: the shop should send the delivery again.
TRANSIENT_FAILURES = (PublishFailed, GetParameterError, ClientError, BotoCoreError)
SEND_AGAIN = "the delivery was not queued; send it again"
# Tried again inside the request before giving up (on top of boto3's own retries): a blip of SQS or
# DynamoDB costs the shop a second, not a failed delivery. Accepting is idempotent (the pending marker may
# be claimed again, FIFO de-duplication ids are stable), so a whole attempt is simply repeated.
RETRY_DELAYS = (0.2, 0.8)
_T = TypeVar("_T")
DEFERRED = (
    "not queued: AWS is failing; nothing to resend, the scheduled shop reconciliation applies this change"
)


def retrying(attempt: Callable[[], _T], sleep: Callable[[float], None] = time.sleep) -> _T:
    """`attempt()`, repeated after each of `RETRY_DELAYS` while AWS fails; the last failure is raised."""
    for delay in RETRY_DELAYS:
        try:
            return attempt()
        except TRANSIENT_FAILURES:
            sleep(delay)
    return attempt()


def deferred(logger: Logger, source: str, error: Exception) -> Response[Any]:
    """WooCommerce's answer when AWS kept failing: 202, never 5xx (WooCommerce does not resend and would
    disable the webhook); the change is left to the shop reconciliation. Logged (`outcome: deferred`),
    not alarmed: nothing is lost, and AWS failing long enough raises the DLQ and 5xx alarms."""
    logger.error(
        "webhook not queued: AWS failed; deferred",
        extra={"source": source, "outcome": "deferred", "error": type(error).__name__},
    )
    return json_response(202, {"status": "deferred", "reason": DEFERRED})


def accepted_body(result: IntakeResult) -> dict[str, Any]:
    """The 202 answer: what happened to the delivery (queued, duplicate, ignored) and how many events."""
    answer: dict[str, Any] = {
        "status": result.outcome.value,
        "delivery": result.delivery_key,
        "events": result.events,
    }
    if result.reason:
        answer["reason"] = result.reason
    if result.refused:
        answer["refused"] = [{"sku": r.sku, "reason": r.reason} for r in result.refused]
    if result.error:
        answer.update(result.error)
    return answer


def refused(logger: Logger, source: str, exc: WebhookRejected) -> Response[Any]:
    """Log and count a refusal (never the body or the signature), and answer it. The metric has no
    `source`/`reason` dimension (each combination would be another billed metric): they are in the log."""
    fields = [d.field for d in exc.details]
    logger.warning(
        "webhook refused", extra={"source": source, "status": exc.status, "code": exc.code, "fields": fields}
    )
    alarm_metrics.count("WebhooksRejected")
    return json_response(exc.status, exc.body())


def accepted(logger: Logger, source: str, delivery: Delivery, result: IntakeResult) -> Response[Any]:
    """Log an accepted delivery (queued, duplicate, ignored or refused) with its counts, and answer 202."""
    for note in delivery.notes:
        logger.warning("webhook mapping note", extra={"note": note})
    for refusal in result.refused:
        logger.warning("shop data refused", extra={"sku": refusal.sku, "reason": refusal.reason})
    data_refused = max(1, len(result.refused)) if result.outcome is Outcome.REFUSED or result.refused else 0
    queued = result.events if result.outcome == "queued" else 0
    extra = {"source": source, "outcome": result.outcome.value, "events": result.events, "queued": queued}
    logger.info("webhook accepted", extra={**extra, "data_refused": data_refused, "skus": list(result.skus)})
    return json_response(202, accepted_body(result))


def woocommerce_ping(event: APIGatewayProxyEventV2) -> Response[Any] | None:
    """WooCommerce's "webhook_id=N" test delivery on saving a webhook: answered 200 (WooCommerce saves the
    webhook only on exactly 200, `WC_Webhook::deliver_ping`) in every state, before any secret is read.
    Form-encoded, so behind API Gateway it arrives base64-encoded: decoded by `isBase64Encoded`."""
    if len(event.body or "") > 128:
        return None
    try:
        body = body_of(event, 96)
    except WebhookRejected:
        return None
    if is_woocommerce_ping(headers_of(event), body):
        return json_response(200, {"status": "pong"})
    return None


@cache
def openapi_document() -> str:
    """The generic contract, as served at GET /openapi.json (rendered by `adapters/shop/openapi.py`)."""
    return (
        resources.files("allegro_sync.handlers").joinpath("webhooks_openapi.json").read_text(encoding="utf-8")
    )


def openapi_response() -> Response[str]:
    return Response(200, "application/json", openapi_document(), {"Cache-Control": "public, max-age=300"})


def order_update_not_queued(logger: Logger, source: Source, exc: Exception) -> Response[Any]:
    """The answer to a shop order update that is not queued. Only a bad signature, a missing secret and
    (for the generic contract, whose shops resend on 5xx and fix 4xx) its own refusals keep their error
    status; whatever resending cannot fix (an unknown order, a WooCommerce body we cannot read) is 202
    with the reason, and an AWS failure after the in-request retries is WooCommerce's "deferred"."""
    if isinstance(exc, SigningNotConfigured):
        unset = {"code": "not_configured", "message": "the signing secret is not set"}
        return json_response(503, {"error": unset})
    if not isinstance(exc, WebhookRejected):
        if source == "woocommerce":
            return deferred(logger, source, exc)
        logger.exception("order update not queued: AWS failed", extra={"error": type(exc).__name__})
        return json_response(503, {"error": {"code": "temporarily_unavailable", "message": SEND_AGAIN}})
    logger.warning("order update refused", extra={"status": exc.status, "code": exc.code})
    if exc.status == 401 or (source == "generic" and exc.code != "unknown_order"):
        return json_response(exc.status, exc.body())
    return json_response(202, {"status": "refused", "reason": exc.message, **exc.body()})
