"""POST /webhooks/shop (generic, signed), /webhooks/woocommerce, /webhooks/shopify; GET /openapi.json.

Thin: the adapters read, verify and parse (`adapters.shop`), the use case de-duplicates and queues
(`services.webhooks`). Every refusal is a precise 4xx JSON error and queues nothing; 202 means the events
are on the `shop-events` FIFO queue (or were already). Neither bodies nor signatures are logged.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync import correlation
from allegro_sync.adapters.shop import http_request as http
from allegro_sync.adapters.shop.errors import WebhookRejected
from allegro_sync.adapters.shop.signing_secret import SigningNotConfigured
from allegro_sync.bootstrap import application
from allegro_sync.contracts.webhooks import Delivery, IntakeResult

logger = Logger()
app = APIGatewayHttpResolver()


def _accept(route: http.WebhookRoute) -> tuple[Delivery, IntakeResult]:
    event, built = app.current_event, application()
    body = http.body_of(event, route.max_body_bytes)
    window = built.settings.webhook_replay_window_seconds
    keys = built.shopify_keys() if route.source == "shopify" else built.signing_secrets().read()
    parsed = route.parse(http.headers_of(event), body, keys, time.time(), window, built.shop_products)
    delivery = built.webhook_intake().resolve(parsed)
    return delivery, built.webhook_intake().accept(delivery)


def _intake(route: http.WebhookRoute) -> Response[Any]:
    with correlation.scope(http.delivery_id(app.current_event, route.delivery_header)):
        try:
            delivery, result = http.retrying(lambda: _accept(route))
        except WebhookRejected as exc:
            return http.refused(logger, route.source, exc)
        except SigningNotConfigured as exc:
            logger.error("webhook refused: signing secret not configured", extra={"reason": str(exc)})
            unset = WebhookRejected(503, "not_configured", str(exc))
            return http.refused(logger, route.source, unset)
        except http.TRANSIENT_FAILURES as exc:
            if route.source == "woocommerce":
                return http.deferred(logger, route.source, exc)
            logger.exception("webhook not queued: AWS failed", extra={"error": type(exc).__name__})
            again = WebhookRejected(503, "temporarily_unavailable", http.SEND_AGAIN)
            return http.refused(logger, route.source, again)
        return http.accepted(logger, route.source, delivery, result)


@app.post("/webhooks/shop")
def generic() -> Response[Any]:
    return _intake(http.GENERIC)


@app.post("/webhooks/woocommerce")
def woocommerce() -> Response[Any]:
    return http.woocommerce_ping(app.current_event) or _intake(http.WOOCOMMERCE)


@app.post("/webhooks/shopify")
def shopify() -> Response[Any]:
    return _intake(http.SHOPIFY)


@app.get("/openapi.json")
def openapi() -> Response[str]:
    return http.openapi_response()


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
