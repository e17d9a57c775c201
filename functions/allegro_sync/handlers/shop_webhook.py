"""POST /webhooks/shop (generic, signed), POST /webhooks/woocommerce (native), GET /openapi.json.

Thin: the adapters verify and parse (`adapters.shop`), the use case de-duplicates and queues
(`services.webhooks`). Every refusal is a precise 4xx JSON error and queues nothing; 202 means the events
are on the `shop-events` FIFO queue (or were already). Neither bodies nor signatures are logged.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from allegro_sync.adapters import correlation
from allegro_sync.adapters.queues import PublishFailed
from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.errors import Problem, WebhookRejected
from allegro_sync.adapters.shop.generic import parse_generic
from allegro_sync.adapters.shop.signing_secret import SigningNotConfigured, SigningSecrets
from allegro_sync.adapters.shop.woocommerce import DELIVERY_HEADER as WC_DELIVERY_HEADER
from allegro_sync.adapters.shop.woocommerce import is_ping, parse_woocommerce
from allegro_sync.bootstrap import application
from allegro_sync.services.webhooks import DeleteByProductId, Delivery, Source

logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()

# The generic contract's limit: every event must fit one SQS message (256 KiB), and so must the delivery.
GENERIC_MAX_BODY_BYTES = 256 * 1024
# WooCommerce disables a webhook after 5 failed deliveries, so its (chattier) product JSON gets more room;
# each event it yields is still bounded by the event model.
WOOCOMMERCE_MAX_BODY_BYTES = 1024 * 1024
OPENAPI_FILE = "webhooks_openapi.json"

Parser = Callable[[Mapping[str, str], bytes, SigningSecrets, float], Delivery | DeleteByProductId]


def _json(status: int, body: Mapping[str, Any]) -> Response[Any]:
    return Response(status, "application/json", dict(body), {"Cache-Control": "no-store"})


def _headers() -> dict[str, str]:
    return {k.lower(): v for k, v in (app.current_event.headers or {}).items() if v is not None}


def _body(limit: int) -> bytes:
    event = app.current_event
    raw = event.body or ""
    # Refuse before decoding: base64 is 4/3 the size of what it encodes.
    encoded_limit = limit * 4 // 3 + 4 if event.is_base64_encoded else limit
    if len(raw) > encoded_limit or (not event.is_base64_encoded and len(raw.encode()) > limit):
        raise _too_large(limit)
    if not event.is_base64_encoded:
        return raw.encode()
    try:
        body = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise WebhookRejected(400, "malformed_body", "the body could not be decoded") from None
    if len(body) > limit:
        raise _too_large(limit)
    return body


def _too_large(limit: int) -> WebhookRejected:
    return WebhookRejected(
        413,
        "body_too_large",
        f"the body exceeds {limit} bytes",
        [Problem("(body)", f"at most {limit} bytes")],
    )


def _reject(source: Source, exc: WebhookRejected) -> Response[Any]:
    logger.warning(
        "webhook refused",
        extra={
            "source": source,
            "status": exc.status,
            "code": exc.code,
            "fields": [d.field for d in exc.details],
        },
    )
    # One outcome per invocation, so the dimensions can live on the invocation's metric set.
    metrics.add_dimension(name="source", value=source)
    metrics.add_dimension(name="reason", value=exc.code)
    metrics.add_metric(name="WebhooksRejected", unit=MetricUnit.Count, value=1)
    return _json(exc.status, exc.body())


def _intake(source: Source, limit: int, delivery_header: str, parse: Parser) -> Response[Any]:
    # The delivery id follows the events to every queue and Allegro call (API Gateway's id if none).
    delivery_id = _headers().get(delivery_header.lower()) or app.current_event.request_context.request_id
    with correlation.scope(delivery_id):
        return _accept(source, limit, parse)


def _accept(source: Source, limit: int, parse: Parser) -> Response[Any]:
    headers = _headers()
    try:
        body = _body(limit)
        built = application()
        secrets = built.signing_secrets().read()
        parsed = parse(headers, body, secrets, time.time())
        intake = built.webhook_intake()
        delivery = intake.deletion(parsed) if isinstance(parsed, DeleteByProductId) else parsed
        result = intake.accept(delivery)
    except WebhookRejected as exc:
        return _reject(source, exc)
    except SigningNotConfigured as exc:
        logger.error("webhook refused: signing secret not configured", extra={"reason": str(exc)})
        return _reject(source, WebhookRejected(503, "not_configured", str(exc)))
    except (PublishFailed, GetParameterError, ClientError, BotoCoreError) as exc:
        logger.exception("webhook not queued: AWS failed", extra={"error": type(exc).__name__})
        return _reject(
            source,
            WebhookRejected(503, "temporarily_unavailable", "the delivery was not queued; send it again"),
        )
    for note in delivery.notes:
        logger.warning("webhook mapping note", extra={"note": note})
    metrics.add_dimension(name="source", value=source)
    metrics.add_metric(name="WebhooksAccepted", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="ShopEventsQueued",
        unit=MetricUnit.Count,
        value=result.events if result.outcome == "queued" else 0,
    )
    logger.info(
        "webhook accepted",
        extra={
            "source": source,
            "outcome": result.outcome.value,
            "events": result.events,
            "skus": list(result.skus),
        },
    )
    answer: dict[str, Any] = {
        "status": result.outcome.value,
        "delivery": result.delivery_key,
        "events": result.events,
    }
    if result.reason:
        answer["reason"] = result.reason
    return _json(202, answer)


@app.post("/webhooks/shop")
def generic() -> Response[Any]:
    def parse(headers: Mapping[str, str], body: bytes, secrets: SigningSecrets, now: float) -> Delivery:
        window = application().settings.webhook_replay_window_seconds
        return parse_generic(headers, body, secrets.generic, now=now, replay_window=window)

    return _intake("generic", GENERIC_MAX_BODY_BYTES, signing.DELIVERY_HEADER, parse)


@app.post("/webhooks/woocommerce")
def woocommerce() -> Response[Any]:
    headers = _headers()
    raw = app.current_event.body or ""
    if len(raw) < 64 and not app.current_event.is_base64_encoded and is_ping(headers, raw.encode()):
        logger.info("WooCommerce ping answered")
        return _json(200, {"status": "pong"})

    def parse(
        headers: Mapping[str, str], body: bytes, secrets: SigningSecrets, now: float
    ) -> Delivery | DeleteByProductId:
        return parse_woocommerce(headers, body, secrets.woocommerce, now=now)

    return _intake("woocommerce", WOOCOMMERCE_MAX_BODY_BYTES, WC_DELIVERY_HEADER, parse)


@cache
def openapi_document() -> str:
    return resources.files("allegro_sync.handlers").joinpath(OPENAPI_FILE).read_text(encoding="utf-8")


@app.get("/openapi.json")
def openapi() -> Response[str]:
    return Response(200, "application/json", openapi_document(), {"Cache-Control": "public, max-age=300"})


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    finally:
        # Flushed (EMF to stdout) only when a webhook was judged: GET /openapi.json records nothing.
        if metrics.metric_set:
            metrics.flush_metrics()
        else:
            metrics.clear_metrics()
