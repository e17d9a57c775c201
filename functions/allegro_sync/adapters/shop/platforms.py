"""What the webhook handlers and the shop credentials need to know of each shop platform without importing
its adapter: one seller uses one platform, so a cold start imports only the adapter of the platform whose
request it serves, on first use (tests/unit/architecture/test_lazy_imports.py pins it).

The adapters (`woocommerce.py`, `shopify.py`) take these names from here, so each is said once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

WOOCOMMERCE_TOPIC_HEADER = "x-wc-webhook-topic"
WOOCOMMERCE_DELIVERY_HEADER = "x-wc-webhook-delivery-id"
SHOPIFY_DELIVERY_HEADER = "x-shopify-webhook-id"
SHOPIFY_FORM_ATTRIBUTE = "allegro_checkout_form_id"  # the custom attribute naming an order's checkout form
SHOPIFY_API_VERSION = "2026-01"  # supported until January 2027; @idempotent on inventory mutations
_WOOCOMMERCE_PING = re.compile(rb"^webhook_id=\d{1,20}$")


def is_woocommerce_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """WooCommerce's unsigned "is this URL alive" ping, sent when a webhook is saved."""
    return not headers.get(WOOCOMMERCE_TOPIC_HEADER) and bool(_WOOCOMMERCE_PING.match(body.strip()))
