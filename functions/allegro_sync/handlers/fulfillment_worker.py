"""Fulfillment back: shop order updates in over HTTP, applied to the Allegro order from a FIFO queue.

Two halves in one function, so the shop's update and its Allegro calls share one set of permissions:
- POST /webhooks/shop/orders (generic, signed) and POST /webhooks/woocommerce/orders (`order.updated`):
  verify, check the order is one we imported, queue on `fulfillment` (group = checkout form, so updates
  of one order apply in order; de-duplicated by content) and answer 202. The shop never waits on Allegro.
- the `fulfillment` queue: set the fulfillment status (revision-checked, 409 -> re-read) and add the
  parcels not on the order yet. Transient Allegro failures fail the record and SQS retries it; an order
  Allegro will never show us (account gone, form not found) is logged and dropped instead of cycling.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.adapters import correlation
from allegro_sync.adapters.allegro.errors import AllegroForbidden, AllegroNotFound
from allegro_sync.adapters.queues import FifoMessage
from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.errors import WebhookRejected
from allegro_sync.adapters.shop.fulfillment_in import parse_generic_status, parse_woocommerce_order
from allegro_sync.adapters.shop.generic import DEFAULT_REPLAY_WINDOW_SECONDS
from allegro_sync.adapters.shop.signing_secret import SigningNotConfigured, SigningSecrets
from allegro_sync.adapters.shop.woocommerce import DELIVERY_HEADER as WC_DELIVERY_HEADER
from allegro_sync.bootstrap import application
from allegro_sync.domain.orders import fifo_safe
from allegro_sync.domain.shop_orders import ShopOrderStatus
from allegro_sync.services.fulfillment import Fulfillment
from allegro_sync.services.tokens import AccountDisconnected, AccountNotFound

logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()
processor = SqsFifoPartialProcessor()

MAX_BODY_BYTES = 256 * 1024
UNREADABLE = (AccountNotFound, AccountDisconnected, AllegroNotFound, AllegroForbidden)


def _json(status: int, body: Mapping[str, Any]) -> Response[Any]:
    return Response(status, "application/json", dict(body), {"Cache-Control": "no-store"})


def _request() -> tuple[dict[str, str], bytes]:
    event = app.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items() if v is not None}
    body = event.decoded_body.encode() if isinstance(event.decoded_body, str) else b""
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejected(413, "body_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
    return headers, body


def _intake(
    parse: Callable[[dict[str, str], bytes, SigningSecrets], ShopOrderStatus | None],
) -> Response[Any]:
    try:
        secrets = application().signing_secrets().read()
    except SigningNotConfigured:
        return _json(503, {"error": {"code": "not_configured", "message": "the signing secret is not set"}})
    try:
        headers, body = _request()
        update = parse(headers, body, secrets)
        if update is None:
            return _json(200, {"status": "ignored"})
        if application().order_repository().get(update.checkout_form_id) is None:
            raise WebhookRejected(
                404,
                "unknown_order",
                f"no Allegro order {update.checkout_form_id} was imported by allegro-sync",
            )
    except WebhookRejected as exc:
        logger.warning("order update refused", extra={"status": exc.status, "code": exc.code})
        return _json(exc.status, exc.body())
    payload = update.model_dump_json()
    application().fulfillment_queue().send(
        [
            FifoMessage(
                payload, fifo_safe(update.checkout_form_id), hashlib.sha256(payload.encode()).hexdigest()
            )
        ]
    )
    metrics.add_metric("FulfillmentUpdatesQueued", MetricUnit.Count, 1)
    return _json(202, {"status": "queued", "checkout_form_id": update.checkout_form_id})


def _delivery_id(header: str) -> str:
    """The shop's delivery id (API Gateway's request id if none): this update's correlation id."""
    event = app.current_event
    return (event.headers or {}).get(header.lower()) or event.request_context.request_id


@app.post("/webhooks/shop/orders")
def generic_orders() -> Response[Any]:
    with correlation.scope(_delivery_id(signing.DELIVERY_HEADER)):
        return _intake(
            lambda h, b, s: parse_generic_status(
                h, b, s.generic, now=time.time(), replay_window=DEFAULT_REPLAY_WINDOW_SECONDS
            )
        )


@app.post("/webhooks/woocommerce/orders")
def woocommerce_orders() -> Response[Any]:
    with correlation.scope(_delivery_id(WC_DELIVERY_HEADER)):
        return _intake(lambda h, b, s: parse_woocommerce_order(h, b, s.woocommerce))


@correlation.per_record
def record_handler(record: SQSRecord) -> None:
    update = ShopOrderStatus.model_validate_json(record.body)
    logger.thread_safe_append_keys(checkout_form_id=update.checkout_form_id)
    app = application()
    order = app.order_repository().get(update.checkout_form_id)
    if order is None:
        logger.warning("order update for an order we never imported; dropped")
        return
    try:
        result = Fulfillment(app.allegro(order.account)).apply(update)
    except UNREADABLE as error:
        logger.warning(
            "Allegro will not show this order; update dropped", extra={"reason": type(error).__name__}
        )
        metrics.add_metric("FulfillmentUpdatesDropped", MetricUnit.Count, 1)
        return
    metrics.add_metric("FulfillmentShipmentsAdded", MetricUnit.Count, len(result.shipments_added))
    logger.info(
        "fulfillment applied",
        extra={
            "status_set": result.status_set,
            "shipments_added": len(result.shipments_added),
            "revision_retries": result.revision_retries,
        },
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        if "Records" in event:
            return dict(
                process_partial_response(
                    event=event, record_handler=record_handler, processor=processor, context=context
                )
            )
        return app.resolve(event, context)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
        else:
            metrics.clear_metrics()
