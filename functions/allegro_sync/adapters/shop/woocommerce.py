"""WooCommerce's native webhooks, as WooCommerce sends them, mapped onto the shop events.

What WooCommerce sends (class WC_Webhook): a POST with `Content-Type: application/json`, the REST API's
product JSON as body, and `X-WC-Webhook-Topic`, `-Resource`, `-Event`, `-ID`, `-Source` (the shop's home
URL), `-Delivery-ID` and `-Signature` = base64(HMAC-SHA256(webhook secret, raw body)). When a webhook is
saved it first sends an unsigned ping whose body is `webhook_id=<id>` and refuses to activate unless it
gets 200. A failed delivery is not retried; after 5 consecutive non-2xx answers the webhook is disabled —
so a product we cannot sync (no SKU, grouped) is answered 202 "ignored", never 4xx.

Mapping choices (see docs/webhooks.md):
- SKU = `sku`; a product without one is ignored. Status other than `publish` ends the offers (delete).
- price = `price` (the active price, the sale price during a sale), else `regular_price`; rounded to grosze.
- stock = `stock_quantity` when `manage_stock` (negative backorder levels count as 0); unmanaged stock is
  0 when `outofstock`, otherwise unknown (left to the worker's ledger).
- EAN = `global_unique_id` (WooCommerce 9.2+), else meta `_global_unique_id`, `_ean`, `ean`; an invalid
  one is dropped with a note rather than blocking the product.
- Category path = the FIRST assigned category's name, as a one-element path: the webhook payload carries
  no parent chain (categories are `{id, name, slug}`), and the mapping table keys on that name.
- A variable product whose payload embeds its variations (objects) yields one upsert per variation; with
  only variation ids (WooCommerce's default) it is ignored and each variation's own delivery
  (`woocommerce_update_product_variation` fires `product.updated` with `type: "variation"`) becomes a
  stock.set + price.set for the variation's SKU.
- `product.deleted` carries only `{"id": N}`: the SKUs come from the product index the intake keeps.
- WooCommerce signs no timestamp: a replayed delivery is stopped by the delivery memory (id + body hash)
  and, beyond it, by `occurred_at` = `date_modified_gmt` (workers never apply an older state).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, ValidationError

from allegro_sync.adapters.shop.errors import Problem, WebhookRejected, schema_violation
from allegro_sync.adapters.shop.generic import load_json, require_json
from allegro_sync.contracts.messages import PriceSet, ProductDelete, ProductUpsert, ShopEvent, StockSet
from allegro_sync.contracts.webhooks import DeleteByProductId, Delivery

TOPIC_HEADER = "x-wc-webhook-topic"
SIGNATURE_HEADER = "x-wc-webhook-signature"
DELIVERY_HEADER = "x-wc-webhook-delivery-id"
SOURCE_HEADER = "x-wc-webhook-source"
WEBHOOK_ID_HEADER = "x-wc-webhook-id"
TOPICS = ("product.created", "product.updated", "product.restored", "product.deleted")
EAN_META_KEYS = ("_global_unique_id", "_ean", "ean")
MAX_IMAGES = 16
_EAN = re.compile(r"^\d{8}$|^\d{12,14}$")
_PING = re.compile(rb"^webhook_id=\d{1,20}$")
_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


class _Lenient(BaseModel):
    # WooCommerce payloads carry dozens of fields we do not use (and plugins add more).
    model_config = ConfigDict(extra="ignore", frozen=True)


class WcCategory(_Lenient):
    id: int = 0
    name: str
    slug: str = ""


class WcImage(_Lenient):
    src: str = ""


class WcAttribute(_Lenient):
    name: str
    options: list[str] = []
    option: str | None = None  # a variation's chosen value
    variation: bool = False


class WcMeta(_Lenient):
    key: str
    value: Any = None


class WcProduct(_Lenient):
    """The fields of `GET /wp-json/wc/v3/products/<id>` that the mapping reads."""

    id: int = Field(ge=1)
    parent_id: int = 0
    type: str = "simple"
    status: str = "publish"
    sku: str = ""
    name: str = ""
    description: str = ""
    short_description: str = ""
    price: str | None = ""
    regular_price: str | None = ""
    manage_stock: bool | Literal["parent"] = False
    stock_quantity: int | None = None
    stock_status: str = "instock"
    categories: list[WcCategory] = []
    images: list[WcImage] = []
    image: WcImage | None = None  # variations carry one image
    attributes: list[WcAttribute] = []
    meta_data: list[WcMeta] = []
    global_unique_id: str | None = ""
    date_modified_gmt: str | None = None
    variations: list[int | WcProduct] = []


class WcDeleted(_Lenient):
    id: int = Field(ge=1)


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """WooCommerce's unsigned "is this URL alive" ping, sent when a webhook is saved."""
    return not headers.get(TOPIC_HEADER) and bool(_PING.match(body.strip()))


def verify(headers: Mapping[str, str], body: bytes, secrets: list[str]) -> None:
    sent = (headers.get(SIGNATURE_HEADER) or "").strip()
    if not sent:
        raise WebhookRejected(
            401,
            "missing_signature",
            "the delivery is not signed; set a secret on the WooCommerce webhook",
            [Problem("X-WC-Webhook-Signature", "required")],
        )
    ok = False
    for secret in secrets:
        want = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        ok |= hmac.compare_digest(sent.encode(), want.encode())
    if not ok:
        raise WebhookRejected(
            401,
            "invalid_signature",
            "the signature does not match the body and the webhook secret",
            [Problem("X-WC-Webhook-Signature", "expected base64(HMAC-SHA256(secret, raw body))")],
        )


def _topic(headers: Mapping[str, str]) -> str:
    topic = (headers.get(TOPIC_HEADER) or "").strip()
    if topic not in TOPICS:
        raise WebhookRejected(
            400,
            "unknown_topic",
            f"topic {topic[:60]!r} is not handled" if topic else "the delivery names no topic",
            [Problem("X-WC-Webhook-Topic", f"must be one of {', '.join(TOPICS)}")],
        )
    return topic


def delivery_key(headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
    """(delivery id, de-duplication key).

    WooCommerce's delivery id is `wp_hash(webhook id . current second)`: two different products saved in
    the same second by one webhook share it. The key therefore adds the body's hash, so only a true
    redelivery (same id, same body) counts as a duplicate.
    """
    delivery = (headers.get(DELIVERY_HEADER) or "").strip()
    if not delivery or len(delivery) > 200:
        raise WebhookRejected(
            400,
            "missing_delivery_id",
            "the delivery has no usable id",
            [Problem("X-WC-Webhook-Delivery-ID", "required, at most 200 characters")],
        )
    webhook = (headers.get(WEBHOOK_ID_HEADER) or "").strip()[:40]
    return delivery, f"{webhook}:{delivery}:{hashlib.sha256(body).hexdigest()[:32]}"


def _shop(headers: Mapping[str, str]) -> str:
    return (headers.get(SOURCE_HEADER) or "").strip()[:300]


def _occurred_at(product: WcProduct, received_at: datetime) -> datetime:
    """`date_modified_gmt`, but never later than the delivery's arrival: a shop clock running ahead must
    not stamp a state that every later (real) change would look older than."""
    if product.date_modified_gmt:
        try:
            return min(datetime.fromisoformat(product.date_modified_gmt).replace(tzinfo=UTC), received_at)
        except ValueError:
            pass
    return received_at


def _money(raw: str | None) -> Decimal | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if value.is_finite() else None


def _price(product: WcProduct) -> Decimal | None:
    return _money(product.price) or _money(product.regular_price)


def _stock(product: WcProduct) -> int | None:
    if product.manage_stock and product.stock_quantity is not None:
        return max(0, product.stock_quantity)
    return 0 if product.stock_status == "outofstock" else None


def _ean(product: WcProduct, notes: list[str]) -> str | None:
    candidates = [product.global_unique_id or ""]
    candidates += [str(m.value) for m in product.meta_data if m.key in EAN_META_KEYS and m.value]
    for raw in candidates:
        value = raw.strip()
        if not value:
            continue
        if _EAN.match(value):
            return value
        notes.append(f"{product.sku or product.id}: EAN {value[:20]!r} is not 8 or 12-14 digits; dropped")
    return None


def _images(*sources: list[WcImage]) -> list[HttpUrl]:
    urls: list[HttpUrl] = []
    for image in (i for group in sources for i in group):
        try:
            url = _URL.validate_python(image.src)
        except ValidationError:
            continue
        if url not in urls:
            urls.append(url)
    return urls[:MAX_IMAGES]


def _category_path(product: WcProduct) -> list[str]:
    names = [c.name.strip() for c in product.categories if c.name.strip()]
    return names[:1] or ["Uncategorized"]


def _attributes(product: WcProduct) -> dict[str, str]:
    found: dict[str, str] = {}
    for attribute in product.attributes:
        value = attribute.option if attribute.option is not None else ", ".join(attribute.options)
        if attribute.name.strip() and value.strip():
            found[attribute.name.strip()] = value.strip()
    return found


class _Mapper:
    """Builds the events of one delivery; collects domain validation errors with their WooCommerce path."""

    def __init__(self, delivery_id: str, received_at: datetime) -> None:
        self.delivery_id = delivery_id
        self.received_at = received_at
        self.notes: list[str] = []

    def _build(self, kind: type[ShopEvent], where: str, **fields: Any) -> ShopEvent:
        try:
            return kind(delivery_id=self.delivery_id, source="woocommerce", **fields)
        except ValidationError as exc:
            raise schema_violation(exc, "the product cannot become a shop event", prefix=where) from None

    def _price(self, sku: str, product: WcProduct, *, missing_ok: bool = False) -> Decimal | None:
        """The shop price, or None with a note: a negative price (or none) is not synced, and answered 2xx,
        since resending cannot change it (a price of 0 is synced: the catalog worker refuses it visibly)."""
        price = _price(product)
        if price is None and not missing_ok:
            self.notes.append(f"{sku}: no price; not synced")
        if price is not None and price < 0:
            self.notes.append(f"{sku}: price {price} is below 0; not synced (fix it in WooCommerce)")
            return None
        return price

    def product(self, product: WcProduct) -> list[ShopEvent]:
        when = _occurred_at(product, self.received_at)
        if product.type == "variation":
            return self.variation(product, when)
        if product.type == "variable":
            embedded = [v for v in product.variations if isinstance(v, WcProduct)]
            return [e for i, v in enumerate(embedded) for e in self.embedded(product, v, i, when)]
        if product.type == "grouped" or not product.sku.strip():
            return []
        sku = product.sku.strip()
        if product.status != "publish":
            return [self._build(ProductDelete, "", sku=sku, occurred_at=when)]
        price = self._price(sku, product)
        if price is None:
            return []
        return [
            self._build(
                ProductUpsert,
                "",
                sku=sku,
                occurred_at=when,
                name=product.name,
                ean=_ean(product, self.notes),
                description_html=product.description or product.short_description,
                image_urls=_images(product.images),
                price=price,
                stock=_stock(product),
                category_path=_category_path(product),
                attributes=_attributes(product),
            )
        ]

    def embedded(
        self, parent: WcProduct, variation: WcProduct, index: int, when: datetime
    ) -> list[ShopEvent]:
        sku = variation.sku.strip()
        where = f"variations[{index}]"
        if not sku:
            self.notes.append(f"variation {variation.id} of {parent.id} has no SKU; skipped")
            return []
        when = max(when, _occurred_at(variation, self.received_at))
        if parent.status != "publish" or variation.status not in ("publish", ""):
            return [self._build(ProductDelete, where, sku=sku, occurred_at=when)]
        price = self._price(sku, variation)
        if price is None:
            return []
        chosen = _attributes(variation)
        shared = {k: v for k, v in _attributes(parent).items() if k not in chosen}
        suffix = ", ".join(chosen.values())
        return [
            self._build(
                ProductUpsert,
                where,
                sku=sku,
                occurred_at=when,
                name=variation.name or (f"{parent.name} - {suffix}" if suffix else parent.name),
                ean=_ean(variation, self.notes),
                description_html=variation.description or parent.description or parent.short_description,
                image_urls=_images([variation.image] if variation.image else [], parent.images),
                price=price,
                stock=_stock(variation),
                category_path=_category_path(parent),
                attributes={**shared, **chosen},
            )
        ]

    def variation(self, variation: WcProduct, when: datetime) -> list[ShopEvent]:
        sku = variation.sku.strip()
        if not sku:
            return []
        if variation.status not in ("publish", ""):
            return [self._build(ProductDelete, "", sku=sku, occurred_at=when)]
        events: list[ShopEvent] = []
        stock = _stock(variation)
        if stock is not None:
            events.append(self._build(StockSet, "", sku=sku, occurred_at=when, stock=stock))
        price = self._price(sku, variation, missing_ok=True)
        if price is not None:
            events.append(self._build(PriceSet, "", sku=sku, occurred_at=when, price=price))
        return events


def parse_woocommerce(
    headers: Mapping[str, str], body: bytes, secrets: list[str], *, now: float
) -> Delivery | DeleteByProductId:
    """A verified WooCommerce delivery (or a delete-by-id the intake resolves), or `WebhookRejected`."""
    require_json(headers)
    verify(headers, body, secrets)
    topic = _topic(headers)
    delivery_id, key = delivery_key(headers, body)
    data = load_json(body)
    received_at = datetime.fromtimestamp(now, UTC)
    shop = _shop(headers)
    try:
        if topic == "product.deleted":
            deleted = WcDeleted.model_validate(data)
            return DeleteByProductId("woocommerce", key, delivery_id, f"{shop}#{deleted.id}", received_at)
        product = WcProduct.model_validate(data)
    except ValidationError as exc:
        raise schema_violation(exc, "the body is not a WooCommerce product") from None
    mapper = _Mapper(delivery_id, received_at)
    events = tuple(mapper.product(product))
    owner = product.parent_id if product.type == "variation" and product.parent_id else product.id
    ignored = None
    if not events:
        ignored = "; ".join(mapper.notes) or _why_ignored(product)
    return Delivery(
        "woocommerce", key, events, ignored=ignored, shop_product=f"{shop}#{owner}", notes=tuple(mapper.notes)
    )


def _why_ignored(product: WcProduct) -> str:
    if product.type == "variable":
        return f"variable product {product.id}: its variations arrive as their own deliveries"
    if product.type == "grouped":
        return f"grouped product {product.id} has no stock or price of its own"
    if not product.sku.strip():
        return f"product {product.id} has no SKU"
    return f"product {product.id} has nothing to sync (no price or stock)"


def sign(secret: str, body: bytes) -> str:
    """The `X-WC-Webhook-Signature` WooCommerce would send for `body` (tests, CLI)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def dumps(payload: Any) -> bytes:
    """JSON the way WooCommerce's `wp_json_encode` sends it (compact)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
