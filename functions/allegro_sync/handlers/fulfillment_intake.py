"""POST /webhooks/shop/orders (generic), /webhooks/woocommerce/orders, /webhooks/shopify/orders.

Verify, check the order is one we imported, queue it on `fulfillment` (`fulfillment_worker`), answer 202:
the shop never waits on Allegro, and this function holds no Allegro credentials. Bodies are not logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync import correlation
from allegro_sync.adapters.shop import fulfillment_in, signing
from allegro_sync.adapters.shop import http_request as http
from allegro_sync.adapters.shop.errors import WebhookRejected
from allegro_sync.adapters.shop.platforms import SHOPIFY_DELIVERY_HEADER, WOOCOMMERCE_DELIVERY_HEADER
from allegro_sync.adapters.shop.signing_secret import SigningNotConfigured
from allegro_sync.bootstrap import Application, application
from allegro_sync.contracts.messages import ShopOrderStatus
from allegro_sync.contracts.webhooks import Source

logger = Logger()
app = APIGatewayHttpResolver()

MAX_BODY_BYTES = 256 * 1024
Parse = Callable[[dict[str, str], bytes, Application], ShopOrderStatus | None]  # reads its own secret


def _intake(delivery_header: str, parse: Parse, source: Source) -> Response[Any]:
    event, built = app.current_event, application()
    with correlation.scope(http.delivery_id(event, delivery_header)):
        try:
            update = parse(http.headers_of(event), http.body_of(event, MAX_BODY_BYTES), built)
            if update is None:
                return http.json_response(200, {"status": "ignored"})
            if built.order_repository().get(update.checkout_form_id) is None:
                unknown = f"no Allegro order {update.checkout_form_id} was imported by allegro-sync"
                raise WebhookRejected(404, "unknown_order", unknown)
            http.retrying(lambda: built.fulfillment_queue().send(update))
        except (WebhookRejected, SigningNotConfigured, *http.TRANSIENT_FAILURES) as exc:
            return http.order_update_not_queued(logger, source, exc)
        logger.info("order update queued", extra={"source": source})
        return http.json_response(202, {"status": "queued", "checkout_form_id": update.checkout_form_id})


@app.post("/webhooks/shop/orders")
def generic_orders() -> Response[Any]:
    window = application().settings.webhook_replay_window_seconds
    return _intake(
        signing.DELIVERY_HEADER,
        lambda h, b, a: fulfillment_in.parse_generic_status(
            h, b, a.signing_secrets().read().generic, now=time.time(), replay_window=window
        ),
        "generic",
    )


@app.post("/webhooks/woocommerce/orders")
def woocommerce_orders() -> Response[Any]:
    ping = http.woocommerce_ping(app.current_event)  # 200 in every state, before any secret is read
    woo = fulfillment_in.parse_woocommerce_order
    parse: Parse = lambda h, b, a: woo(h, b, a.signing_secrets().read().woocommerce)  # noqa: E731
    return ping or _intake(WOOCOMMERCE_DELIVERY_HEADER, parse, "woocommerce")


@app.post("/webhooks/shopify/orders")
def shopify_orders() -> Response[Any]:
    parse: Parse = lambda h, b, a: fulfillment_in.parse_shopify_order(h, b, a.shopify_keys())  # noqa: E731
    return _intake(SHOPIFY_DELIVERY_HEADER, parse, "shopify")


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
