"""The shop's order updates in (fulfillment back): generic `order.status`, WooCommerce `order.updated`,
Shopify `orders/updated` (and `orders/fulfilled`, `orders/partially_fulfilled`, `orders/cancelled`).

Same verification as the product webhooks (generic: our HMAC scheme and replay window; WooCommerce: its
base64 HMAC of the body), then one `ShopOrderStatus`. A WooCommerce order that does not carry our
`_allegro_checkout_form_id` meta was not created by us (a shop-own order): it is ignored, not refused.
Tracking numbers from WooCommerce come from the Shipment Tracking extension's `_wc_shipment_tracking_items`
meta (WooCommerce core has no tracking field). A Shopify order is ours when its `note_attributes` (the
REST name of the `customAttributes` `orderCreate` was given) carry `allegro_checkout_form_id`; its
tracking numbers are its fulfillments' `tracking_company` + `tracking_numbers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from allegro_sync.adapters.shop import woocommerce_after_sale as woo_after_sale
from allegro_sync.adapters.shop.errors import Problem, WebhookRejected, schema_violation
from allegro_sync.adapters.shop.json_body import load_json, require_json
from allegro_sync.adapters.shop.platforms import SHOPIFY_FORM_ATTRIBUTE, is_woocommerce_ping
from allegro_sync.contracts.fulfillment_status import FulfillmentStatus
from allegro_sync.contracts.messages import (
    CheckoutFormId,
    Parcel,
    ShopOrderStatus,
    ShopRefund,
    ShopRefundLine,
)
from allegro_sync.domain.shop_orders import WOOCOMMERCE_STATUS

if TYPE_CHECKING:  # each parser imports its platform's adapter when it runs (one seller, one platform)
    from allegro_sync.adapters.shop.shopify import ShopifyKeys

TRACKING_META = "_wc_shipment_tracking_items"
WOOCOMMERCE_ORDER_TOPICS = ("order.updated", "order.created")
SHOPIFY_ORDER_TOPICS = (
    "orders/updated",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/cancelled",
)


class OrderStatusIn(BaseModel):
    """The generic contract's order update (docs/shop-adapters.md)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    type: Literal["order.status"]
    checkout_form_id: CheckoutFormId = Field(description="The Allegro checkout form id we sent as the order.")
    status: FulfillmentStatus | None = Field(default=None, description="Allegro fulfillment status to set.")
    parcels: Annotated[list[Parcel], Field(max_length=20)] = []
    # issue 15, item 2: the order's invoice, a PDF the worker fetches once and uploads when the buyer asked
    invoice_url: HttpUrl | None = Field(default=None, description="The order's invoice (PDF, at most 3 MB).")
    invoice_number: str | None = Field(default=None, max_length=60)


class OrderRefundedIn(BaseModel):
    """Issue 15: the generic contract's refund (docs/after-sale.md): once per `refund_id`."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    type: Literal["order.refunded"]
    checkout_form_id: CheckoutFormId
    refund_id: str
    lines: list[ShopRefundLine] = []


def _generic_refund(data: Any) -> ShopOrderStatus:
    try:
        parsed = OrderRefundedIn.model_validate(data)
        refund = ShopRefund(refund_id=parsed.refund_id, lines=tuple(parsed.lines))
    except ValidationError as exc:
        raise schema_violation(exc, "the body is not an order.refunded update") from None
    return ShopOrderStatus(checkout_form_id=parsed.checkout_form_id, refund=refund)


def parse_generic_status(
    headers: Mapping[str, str], body: bytes, secrets: list[str], *, now: float, replay_window: int
) -> ShopOrderStatus:
    from allegro_sync.adapters.shop import generic

    require_json(headers)
    generic.verify(headers, body, secrets, now=now, replay_window=replay_window)
    data = load_json(body)
    if isinstance(data, dict) and data.get("type") == "order.refunded":
        return _generic_refund(data)
    try:
        parsed = OrderStatusIn.model_validate(data)
    except ValidationError as exc:
        raise schema_violation(exc, "the body is not an order.status update") from None
    if parsed.status is None and not parsed.parcels and parsed.invoice_url is None:
        raise WebhookRejected(
            422, "nothing_to_do", "give a status, parcels or both", [Problem("status", "or parcels required")]
        )
    return ShopOrderStatus(
        checkout_form_id=parsed.checkout_form_id,
        status=parsed.status,
        parcels=tuple(parsed.parcels),
        invoice_url=str(parsed.invoice_url) if parsed.invoice_url else None,
        invoice_number=parsed.invoice_number,
    )


def _meta(order: Mapping[str, Any], key: str) -> Any:
    for entry in order.get("meta_data") or []:
        if isinstance(entry, dict) and entry.get("key") == key:
            return entry.get("value")
    return None


def _parcels(order: Mapping[str, Any]) -> tuple[Parcel, ...]:
    items = _meta(order, TRACKING_META)
    parcels: list[Parcel] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        carrier = str(item.get("custom_tracking_provider") or item.get("tracking_provider") or "").strip()
        number = str(item.get("tracking_number") or "").strip()
        if carrier and number:
            try:
                parcels.append(Parcel(carrier=carrier, waybill=number))
            except ValidationError:
                continue  # a malformed tracking entry must not block the status update
    return tuple(parcels[:20])


def _order_of(
    headers: Mapping[str, str], body: bytes, topics: tuple[str, tuple[str, ...]], platform: str
) -> dict[str, Any]:
    """A verified order delivery's JSON object; WebhookRejected for a topic not handled or another body."""
    header, handled = topics
    topic = (headers.get(header.lower()) or "").strip()
    if topic not in handled:
        raise WebhookRejected(
            400,
            "unknown_topic",
            f"topic {topic[:60]!r} is not handled here",
            [Problem(header, f"must be one of {', '.join(handled)}")],
        )
    order = load_json(body)
    if not isinstance(order, dict):
        raise WebhookRejected(422, "schema_violation", f"expected a {platform} order object")
    return order


def parse_woocommerce_order(
    headers: Mapping[str, str], body: bytes, secrets: list[str]
) -> ShopOrderStatus | None:
    """The update, or None for a ping or an order that is not from Allegro (nothing to do)."""
    if is_woocommerce_ping(headers, body):
        return None
    from allegro_sync.adapters.shop import woocommerce
    from allegro_sync.adapters.shop.woocommerce import CHECKOUT_FORM_META

    woocommerce.verify(headers, body, secrets)
    order = _order_of(headers, body, ("X-WC-Webhook-Topic", WOOCOMMERCE_ORDER_TOPICS), "WooCommerce")
    form_id = _meta(order, CHECKOUT_FORM_META)
    if not form_id:
        return None
    shop_status = str(order.get("status") or "")[:40]
    status = WOOCOMMERCE_STATUS.get(shop_status)
    # Issue 15: WooCommerce has no refund topic; a fully refunded order reaches us as status `refunded`,
    # and each refund (full or per line) as an id in `refunds`, whose lines the worker reads.
    refund = ShopRefund(refund_id="woocommerce-refunded") if shop_status == "refunded" else None
    invoice_url, invoice_number = woo_after_sale.invoice_of(order)
    order_id = order.get("id")
    try:
        return ShopOrderStatus(
            checkout_form_id=str(form_id),
            status=status,
            parcels=_parcels(order),
            refund=refund,
            shop_status=shop_status or None,
            invoice_url=invoice_url,
            invoice_number=invoice_number,
            shop_order_id=order_id if isinstance(order_id, int) else None,
            shop_refund_ids=woo_after_sale.refund_ids(order),
        )
    except ValidationError as exc:
        raise schema_violation(exc, "the order's Allegro id is malformed") from None


def _shopify_parcels(order: Mapping[str, Any]) -> tuple[Parcel, ...]:
    parcels: list[Parcel] = []
    for done in order.get("fulfillments") or []:
        if not isinstance(done, dict) or done.get("status") in ("cancelled", "error", "failure"):
            continue
        carrier = str(done.get("tracking_company") or "").strip()
        numbers = done.get("tracking_numbers") or [done.get("tracking_number")]
        for number in numbers if isinstance(numbers, list) else []:
            try:
                parcels.append(Parcel(carrier=carrier or "OTHER", waybill=str(number or "").strip()))
            except ValidationError:
                continue  # a fulfilment without a tracking number is still a status
    return tuple(parcels[:20])


def parse_shopify_order(headers: Mapping[str, str], body: bytes, keys: ShopifyKeys) -> ShopOrderStatus | None:
    """The update, or None for an order that is not from Allegro or says nothing to pass on."""
    from allegro_sync.adapters.shop import shopify

    shopify.verify(headers, body, keys.secrets)
    order = _order_of(headers, body, ("X-Shopify-Topic", SHOPIFY_ORDER_TOPICS), "Shopify")
    shop = (headers.get(shopify.SHOP_HEADER) or "").strip().lower()
    notes = {n.get("name"): n.get("value") for n in order.get("note_attributes") or [] if isinstance(n, dict)}
    form_id = notes.get(SHOPIFY_FORM_ATTRIBUTE)
    if not form_id or shop != keys.shop_domain.lower():
        return None
    status: FulfillmentStatus | None = None
    if order.get("cancelled_at"):
        status = "CANCELLED"
    elif order.get("fulfillment_status") == "fulfilled":
        status = "SENT"
    parcels = _shopify_parcels(order)
    if status is None and not parcels:
        return None
    try:
        return ShopOrderStatus(checkout_form_id=str(form_id), status=status, parcels=parcels)
    except ValidationError as exc:
        raise schema_violation(exc, "the order's Allegro id is malformed") from None
