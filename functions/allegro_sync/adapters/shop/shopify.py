"""Shopify's webhooks, as Shopify sends them, mapped onto the shop events (docs/shop-adapters.md, Shopify).

What Shopify sends: a POST with the resource's JSON (the REST Admin API's shape of the webhook's API
version) and `X-Shopify-Topic`, `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(raw body, the app's client
secret)), `X-Shopify-Shop-Domain`, `X-Shopify-API-Version`, `X-Shopify-Webhook-Id` (the same on every
retry of one delivery: the de-duplication key), `X-Shopify-Event-Id`, `X-Shopify-Triggered-At`. Shopify
waits 5 s, retries a failed delivery 8 times over 4 hours and deletes a subscription made through the
Admin API after 8 failures in a row (shopify.dev changelog "Updates to webhook retry mechanism",
2024-09-10). So only a bad signature is 401; anything else it sends is answered 2xx with the reason, and
nothing here calls Shopify.

Mapping (each variant is its own SKU, like a WooCommerce variation):
- `products/create`, `products/update`: one upsert per variant with a `sku`; name = product title plus the
  variant's option values ("Default Title" is Shopify's name for "no options"); EAN = `barcode` when it
  is 8 or 12-14 digits; price = variant `price`; category = `product_type`; attributes = option name ->
  value. Stock is not taken from `inventory_quantity` (the sum over ALL locations): it comes from
  `inventory_levels/update` for the locations the seller counts. A product not `active` ends the offers.
  Each variant's `inventory_item_id` is remembered with its SKU.
- `products/delete` carries only `{"id": N}`: the SKUs come from the product index, as for WooCommerce.
- `inventory_levels/update` carries `inventory_item_id`, `location_id`, `available`: resolved by the intake
  from what the product deliveries stored (services/webhooks.py `inventory_level`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, HttpUrl, ValidationError

from allegro_sync.adapters.shop.errors import Problem, WebhookRejected, schema_violation
from allegro_sync.adapters.shop.json_body import load_json
from allegro_sync.adapters.shop.mapping import build_event, images, sign
from allegro_sync.adapters.shop.platforms import SHOPIFY_DELIVERY_HEADER, SHOPIFY_FORM_ATTRIBUTE
from allegro_sync.contracts.messages import ProductDelete, ProductUpsert, ShopEvent
from allegro_sync.contracts.webhooks import DeleteByProductId, Delivery, InventoryLevel, Refusal

TOPIC_HEADER = "x-shopify-topic"
SIGNATURE_HEADER = "x-shopify-hmac-sha256"
SHOP_HEADER = "x-shopify-shop-domain"
DELIVERY_HEADER = SHOPIFY_DELIVERY_HEADER
FORM_ATTRIBUTE = SHOPIFY_FORM_ATTRIBUTE
VERSION_HEADER = "x-shopify-api-version"
EVENT_HEADER = "x-shopify-event-id"
TRIGGERED_HEADER = "x-shopify-triggered-at"
PRODUCT_TOPICS = ("products/create", "products/update")
TOPICS = (*PRODUCT_TOPICS, "products/delete", "inventory_levels/update")
DEFAULT_TITLE = "Default Title"
_EAN = re.compile(r"^\d{8}$|^\d{12,14}$")


@dataclass(frozen=True)
class ShopifyKeys:
    """What the intake needs from the `shopify` shop credentials: the app's client secret(s), the shop
    the deliveries must come from, and the location ids whose stock counts."""

    secrets: list[str] = field(repr=False)
    shop_domain: str
    locations: frozenset[str]
    api_version: str = ""  # the Admin API version we call; the subscriptions should use the same


class _Lenient(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)


class SfVariant(_Lenient):
    id: int
    sku: str | None = ""
    barcode: str | None = None
    price: str | None = None
    title: str = ""
    option1: str | None = None
    option2: str | None = None
    option3: str | None = None
    inventory_item_id: int | None = None
    image_id: int | None = None
    updated_at: str | None = None


class SfOption(_Lenient):
    name: str
    position: int = 1


class SfImage(_Lenient):
    id: int | None = None
    src: str = ""


class SfProduct(_Lenient):
    id: int
    title: str = ""
    body_html: str | None = ""
    product_type: str | None = ""
    status: str = "active"
    updated_at: str | None = None
    variants: list[SfVariant] = []
    options: list[SfOption] = []
    images: list[SfImage] = []


class SfDeleted(_Lenient):
    id: int


class SfLevel(_Lenient):
    inventory_item_id: int
    location_id: int
    available: int | None = None
    updated_at: str | None = None


def verify(headers: Mapping[str, str], body: bytes, secrets: list[str]) -> None:
    """`X-Shopify-Hmac-Sha256` over the raw bytes, compared in constant time against every secret."""
    sent = (headers.get(SIGNATURE_HEADER) or "").strip()
    ok = False
    for secret in secrets:
        ok |= hmac.compare_digest(sent.encode(), sign(secret, body).encode())
    if not sent or not ok:
        raise WebhookRejected(
            401,
            "invalid_signature" if sent else "missing_signature",
            "the delivery is not signed with the app's client secret",
            [Problem("X-Shopify-Hmac-Sha256", "expected base64(HMAC-SHA256(client secret, raw body))")],
        )


def _when(raw: str | None, fallback: datetime) -> datetime:
    """A Shopify timestamp (`2026-11-27T13:05:10+01:00`, or `...877041743Z` in the header), never later
    than the delivery's arrival (a clock running ahead must not outrank every later change)."""
    if raw:
        try:
            parsed = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", raw.strip()))
            return min(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), fallback)
        except ValueError:
            pass
    return fallback


def _images(product: SfProduct, variant: SfVariant) -> list[HttpUrl]:
    """The variant's own image first, then the product's."""
    ordered = sorted(product.images, key=lambda i: i.id != variant.image_id)
    return images(ordered)


class _Mapper:
    def __init__(self, delivery_id: str, when: datetime, stock: dict[int, int]) -> None:
        self.delivery_id, self.when, self.stock = delivery_id, when, stock
        self.notes: list[str] = []
        self.refused: list[Refusal] = []

    def _build(self, kind: type[ShopEvent], where: str, **fields: Any) -> list[ShopEvent]:
        common = {"delivery_id": self.delivery_id, "source": "shopify", "occurred_at": self.when}
        return build_event(kind, where, self.refused, **common, **fields)

    def variant(self, product: SfProduct, variant: SfVariant, index: int) -> list[ShopEvent]:
        sku, where = (variant.sku or "").strip(), f"variants[{index}]"
        if not sku:
            self.notes.append(f"variant {variant.id} of product {product.id} has no SKU; skipped")
            return []
        if product.status != "active":
            return self._build(ProductDelete, where, sku=sku)
        options = sorted(product.options, key=lambda o: o.position)
        values = [variant.option1, variant.option2, variant.option3]
        chosen = {
            o.name.strip(): v.strip()
            for o, v in zip(options, values, strict=False)
            if v and v.strip() and v != DEFAULT_TITLE and o.name.strip()
        }
        barcode = (variant.barcode or "").strip()
        if barcode and not _EAN.match(barcode):
            self.notes.append(f"{sku}: barcode {barcode[:20]!r} is not 8 or 12-14 digits; not sent as EAN")
        if variant.price is None:
            self.notes.append(f"{sku}: no price; not synced")
            return []
        suffix = ", ".join(chosen.values())
        return self._build(
            ProductUpsert,
            where,
            sku=sku,
            name=f"{product.title} - {suffix}" if suffix else product.title,
            ean=barcode if _EAN.match(barcode) else None,
            description_html=product.body_html or "",
            image_urls=_images(product, variant),
            price=variant.price,
            stock=self.stock.get(variant.inventory_item_id or 0),  # else inventory_levels/update says it
            category_path=[(product.product_type or "").strip() or "Uncategorized"],
            attributes=chosen,
        )


def parse_shopify(
    headers: Mapping[str, str], body: bytes, keys: ShopifyKeys, *, now: float
) -> Delivery | DeleteByProductId | InventoryLevel:
    """A verified Shopify delivery, a delete by id or a stock level (resolved by the intake);
    `WebhookRejected` only for a bad or missing signature, anything else is answered 2xx with its reason."""
    verify(headers, body, keys.secrets)
    delivery_id = (headers.get(DELIVERY_HEADER) or "").strip()[:200]
    key = delivery_id or f"unnamed:{hashlib.sha256(body).hexdigest()[:32]}"
    try:
        return _parse_verified(headers, body, keys, (delivery_id or key, key), now)
    except WebhookRejected as exc:
        return Delivery("shopify", key, (), ignored=f"refused: {exc.message}", error=exc.body())


def _parse_verified(
    headers: Mapping[str, str], body: bytes, keys: ShopifyKeys, ids: tuple[str, str], now: float
) -> Delivery | DeleteByProductId | InventoryLevel:
    delivery_id, key = ids
    topic = (headers.get(TOPIC_HEADER) or "").strip()
    shop = (headers.get(SHOP_HEADER) or "").strip().lower()
    if topic not in TOPICS:
        raise WebhookRejected(
            400, "unknown_topic", f"topic {topic[:60]!r} is not handled", [Problem("X-Shopify-Topic", "")]
        )
    if shop != keys.shop_domain.lower():
        why = f"the delivery is from {shop[:100]!r}, not the configured shop {keys.shop_domain!r}"
        return Delivery("shopify", key, (), ignored=why)
    received = datetime.fromtimestamp(now, UTC)
    triggered = _when(headers.get(TRIGGERED_HEADER), received)
    data = load_json(body)
    try:
        if topic == "products/delete":
            gone = SfDeleted.model_validate(data)
            return DeleteByProductId("shopify", key, delivery_id, f"{shop}#{gone.id}", triggered)
        if topic == "inventory_levels/update":
            level = SfLevel.model_validate(data)
            return _level(level, keys, f"{shop}#{level.inventory_item_id}", ids, triggered)
        product = SfProduct.model_validate(data)
    except ValidationError as exc:
        raise schema_violation(exc, f"the body is not a Shopify {topic} payload") from None
    mapped = map_product(product, shop, delivery_id, _when(product.updated_at, triggered))
    sent = (headers.get(VERSION_HEADER) or "").strip()[:20]
    notes = mapped.notes
    if sent and keys.api_version and sent != keys.api_version:  # the payload follows the webhook's version
        notes += (f"webhook API version {sent} differs from the Admin API version {keys.api_version}",)
    return dataclasses.replace(mapped, key=key, notes=notes)


def map_product(
    product: SfProduct, shop: str, delivery_id: str, when: datetime, stock: dict[int, int] | None = None
) -> Delivery:
    """One event per variant (keyed "" here: the caller keys it); `stock` per inventory item id when the
    caller read the levels (the shop reconciliation), else stock is left to `inventory_levels/update`."""
    mapper = _Mapper(delivery_id, when, stock or {})
    events = tuple(e for i, v in enumerate(product.variants) for e in mapper.variant(product, v, i))
    items = tuple(
        (f"{shop}#{v.inventory_item_id}", (v.sku or "").strip())
        for v in product.variants
        if v.inventory_item_id and (v.sku or "").strip()
    )
    ignored = None if events else "; ".join(mapper.notes) or f"product {product.id} has no variant SKU"
    return Delivery(
        "shopify",
        "",
        events,
        ignored=ignored,
        shop_product=f"{shop}#{product.id}",
        notes=tuple(mapper.notes),
        refused=tuple(mapper.refused),
        inventory_items=items,
    )


def _level(
    level: SfLevel, keys: ShopifyKeys, item: str, ids: tuple[str, str], triggered: datetime
) -> Delivery | InventoryLevel:
    delivery_id, key = ids
    if level.available is None:  # an item Shopify does not track: there is no level to sync
        why = f"inventory item {level.inventory_item_id} is not tracked (available: null)"
        return Delivery("shopify", key, (), ignored=why)
    return InventoryLevel(
        "shopify",
        key,
        delivery_id,
        item,
        str(level.location_id),
        level.available,
        _when(level.updated_at, triggered),
        keys.locations,
    )


def dumps(payload: Any) -> bytes:
    """JSON as Shopify sends it: compact, UTF-8 as is (no `\\uXXXX`), `/` unescaped."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
