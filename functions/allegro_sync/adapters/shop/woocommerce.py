r"""WooCommerce's native webhooks, as WooCommerce sends them, mapped onto the shop events.

What WooCommerce sends (class WC_Webhook): a POST with `Content-Type: application/json`, the REST API's
product JSON as body, and `X-WC-Webhook-Topic`, `-Resource`, `-Event`, `-ID`, `-Source` (the shop's home
URL), `-Delivery-ID` and `-Signature` = base64(HMAC-SHA256(webhook secret, raw body)); the body is
`trim(wp_json_encode($payload))` (`\/` and `\uXXXX` escapes), so the signature is checked over the raw
bytes, never a re-serialisation. When a webhook is saved it first sends an unsigned, form-encoded ping
`webhook_id=<id>` (`deliver_ping`) and saves the webhook only on exactly 200. A failed delivery is not
retried; an answer other than 2xx/301/302 counts as a failure, and after more than 5 in a row the webhook
is set to `disabled` (`log_delivery`, `failed_delivery`; woocommerce/woocommerce,
plugins/woocommerce/includes/class-wc-webhook.php). So once the signature is good, everything is
answered 2xx: a product we cannot sync (no SKU, grouped) "ignored", data we cannot take (a price of
"1e308", an absurd stock, a control character in a SKU, an unknown topic, not JSON) "refused" with the
reason in the body and on the product's status. Only a bad signature is 401.

Mapping choices (see docs/webhooks.md):
- SKU = `sku`; a product without one is ignored. Status other than `publish` ends the offers (delete).
- price = `price` (the active price, the sale price during a sale), else `regular_price`; rounded to grosze.
- stock = `stock_quantity` when `manage_stock` (negative backorder levels count as 0); unmanaged stock is
  0 when `outofstock`, otherwise unknown (left to the worker's ledger).
- EAN = `global_unique_id` (WooCommerce 9.2+), else meta `_global_unique_id`, `_ean`, `ean`; an invalid
  one is dropped with a note rather than blocking the product.
- Category path = the FIRST assigned category's name, as a one-element path: the webhook payload carries
  no parent chain (categories are `{id, name, slug}`), and the mapping table keys on that name.
- A variable product yields one upsert per variation. WooCommerce's default payload lists only variation
  ids; their objects are read through the REST API (`ProductReader`, the shop credentials). Each
  variation's own delivery (`woocommerce_update_product_variation` fires `product.updated` with
  `type: "variation"`, `parent_id`) becomes a full upsert with its parent read the same way. When the
  shop cannot be read, a variation delivery still carries its stock.set + price.set, and a variable
  product is ignored with the reason.
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
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from allegro_sync.adapters.shop import mapping
from allegro_sync.adapters.shop.errors import Problem, WebhookRejected, schema_violation
from allegro_sync.adapters.shop.json_body import load_json, require_json
from allegro_sync.adapters.shop.platforms import (
    WOOCOMMERCE_DELIVERY_HEADER,
    WOOCOMMERCE_TOPIC_HEADER,
    is_woocommerce_ping,
)
from allegro_sync.contracts.messages import (
    MAX_PRICE,
    PriceSet,
    ProductDelete,
    ProductUpsert,
    ShopEvent,
    StockSet,
)
from allegro_sync.contracts.webhooks import DeleteByProductId, Delivery, Refusal

TOPIC_HEADER = WOOCOMMERCE_TOPIC_HEADER
SIGNATURE_HEADER = "x-wc-webhook-signature"
DELIVERY_HEADER = WOOCOMMERCE_DELIVERY_HEADER
is_ping = is_woocommerce_ping  # the unsigned ping sent when a webhook is saved
# Shared with the other platforms' mappings (adapters/shop/mapping.py), by the names they had here.
MAX_IMAGES = mapping.MAX_IMAGES
images, printable, build_event, sign = mapping.images, mapping.printable, mapping.build_event, mapping.sign
# The order meta our orders carry their checkout form in (written by woocommerce_rest, read back by the
# fulfillment intake): here, so reading it does not import the REST client and httpx.
CHECKOUT_FORM_META = "_allegro_checkout_form_id"
SOURCE_HEADER = "x-wc-webhook-source"
WEBHOOK_ID_HEADER = "x-wc-webhook-id"
TOPICS = ("product.created", "product.updated", "product.restored", "product.deleted")
EAN_META_KEYS = ("_global_unique_id", "_ean", "ean")
_EAN = re.compile(r"^\d{8}$|^\d{12,14}$")


class ProductReader(Protocol):
    """The shop's REST API, for what a delivery leaves out (`woocommerce_rest.WooCommerceProducts`)."""

    def product(self, product_id: int) -> dict[str, Any]: ...

    def variations(self, product_id: int) -> list[dict[str, Any]]: ...


Reader = Callable[[], ProductReader | None]
"""Builds the reader when a delivery needs one (None: no WooCommerce credentials stored)."""


class _Lenient(BaseModel):
    # WooCommerce payloads carry dozens of fields we do not use (and plugins add more).
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)


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
    if not value.is_finite():
        return None
    if abs(value) > MAX_PRICE:  # "1e308" cannot be rounded to grosze; the event model refuses it
        return value
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _price(product: WcProduct) -> Decimal | None:
    return _money(product.price) or _money(product.regular_price)


def stock_of(product: WcProduct) -> int | None:
    """The stock a product (or variation) reports: its count when managed, 0 when out of stock, else None."""
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
    """Builds the events of one delivery; data that cannot become an event is refused per SKU."""

    def __init__(self, delivery_id: str, received_at: datetime, reader: Reader | None = None) -> None:
        self.delivery_id = delivery_id
        self.received_at = received_at
        self.reader = reader
        self.notes: list[str] = []
        self.refused: list[Refusal] = []

    def _build(self, kind: type[ShopEvent], where: str, **fields: Any) -> list[ShopEvent]:
        return build_event(
            kind, where, self.refused, delivery_id=self.delivery_id, source="woocommerce", **fields
        )

    def _read(self, what: str, read: Callable[[ProductReader], Any]) -> Any:
        """What the shop's REST API says, or None (with a note) when it cannot be read now."""
        shop = self.reader() if self.reader is not None else None
        if shop is None:
            self.notes.append(f"{what}: no WooCommerce credentials stored to read it")
            return None
        try:
            return read(shop)
        except Exception as exc:  # any failure: the delivery still carries what it can
            self.notes.append(f"{what} could not be read: {type(exc).__name__}: {str(exc)[:200]}")
            return None

    def _parent(self, variation: WcProduct) -> WcProduct | None:
        raw = self._read(f"parent {variation.parent_id}", lambda shop: shop.product(variation.parent_id))
        try:
            return WcProduct.model_validate(raw) if raw is not None else None
        except ValidationError:
            self.notes.append(f"parent {variation.parent_id}: not a WooCommerce product")
            return None

    def _variations(self, parent: WcProduct) -> list[WcProduct]:
        embedded = [v for v in parent.variations if isinstance(v, WcProduct)]
        if embedded or not parent.variations:
            return embedded
        rows = self._read(f"variations of {parent.id}", lambda shop: shop.variations(parent.id)) or []
        found = []
        for row in rows:
            try:
                found.append(WcProduct.model_validate(row))
            except ValidationError:
                self.notes.append(f"a variation of {parent.id} is not a WooCommerce product; skipped")
        return found

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
            variations = self._variations(product)
            return [e for i, v in enumerate(variations) for e in self.embedded(product, v, i, when)]
        if product.type == "grouped" or not product.sku.strip():
            return []
        sku = product.sku.strip()
        if product.status != "publish":
            return self._build(ProductDelete, "", sku=sku, occurred_at=when)
        price = self._price(sku, product)
        if price is None:
            return []
        return self._build(
            ProductUpsert,
            "",
            sku=sku,
            occurred_at=when,
            name=product.name,
            ean=_ean(product, self.notes),
            description_html=product.description or product.short_description,
            image_urls=images(product.images),
            price=price,
            stock=stock_of(product),
            category_path=_category_path(product),
            attributes=_attributes(product),
        )

    def embedded(
        self, parent: WcProduct, variation: WcProduct, index: int, when: datetime
    ) -> list[ShopEvent]:
        sku = variation.sku.strip()
        where = f"variations[{index}]" if index >= 0 else ""  # -1: the variation's own delivery
        if not sku:
            self.notes.append(f"variation {variation.id} of {parent.id} has no SKU; skipped")
            return []
        when = max(when, _occurred_at(variation, self.received_at))
        if parent.status != "publish" or variation.status not in ("publish", ""):
            return self._build(ProductDelete, where, sku=sku, occurred_at=when)
        price = self._price(sku, variation)
        if price is None:
            return []
        chosen = _attributes(variation)
        shared = {k: v for k, v in _attributes(parent).items() if k not in chosen}
        suffix = ", ".join(chosen.values())
        return self._build(
            ProductUpsert,
            where,
            sku=sku,
            occurred_at=when,
            name=variation.name or (f"{parent.name} - {suffix}" if suffix else parent.name),
            ean=_ean(variation, self.notes),
            description_html=variation.description or parent.description or parent.short_description,
            image_urls=images([variation.image] if variation.image else [], parent.images),
            price=price,
            stock=stock_of(variation),
            category_path=_category_path(parent),
            attributes={**shared, **chosen},
        )

    def variation(self, variation: WcProduct, when: datetime) -> list[ShopEvent]:
        """A variation's own delivery: a full upsert with its parent read from the shop, or (the shop
        cannot be read now) the stock and price it carries."""
        sku = variation.sku.strip()
        if not sku:
            return []
        parent = self._parent(variation) if variation.parent_id else None
        if parent is not None:
            return self.embedded(parent, variation, -1, max(when, _occurred_at(parent, self.received_at)))
        if variation.status not in ("publish", ""):
            return self._build(ProductDelete, "", sku=sku, occurred_at=when)
        events: list[ShopEvent] = []
        stock = stock_of(variation)
        if stock is not None:
            events += self._build(StockSet, "", sku=sku, occurred_at=when, stock=stock)
        price = self._price(sku, variation, missing_ok=True)
        if price is not None:
            events += self._build(PriceSet, "", sku=sku, occurred_at=when, price=price)
        return events


def parse_woocommerce(
    headers: Mapping[str, str],
    body: bytes,
    secrets: list[str],
    *,
    now: float,
    reader: Reader | None = None,
) -> Delivery | DeleteByProductId:
    """A verified WooCommerce delivery (or a delete-by-id the intake resolves); `WebhookRejected` only for
    a bad or missing signature. Anything else wrong is a refused delivery, answered 2xx with its reason."""
    verify(headers, body, secrets)
    try:
        return _parse_verified(headers, body, now, reader)
    except WebhookRejected as exc:
        key = f"refused:{hashlib.sha256(body).hexdigest()[:32]}"
        refused = _refused_sku(body, exc)
        return Delivery(
            "woocommerce", key, (), ignored=f"refused: {exc.message}", refused=refused, error=exc.body()
        )


def _refused_sku(body: bytes, exc: WebhookRejected) -> tuple[Refusal, ...]:
    """The refusal kept on a product's status, when the refused body still names a SKU."""
    try:
        data = json.loads(body)
    except ValueError:
        return ()
    sku = data.get("sku") if isinstance(data, dict) else None
    if not isinstance(sku, str) or not sku.strip():
        return ()
    details = "; ".join(f"{d.field}: {d.problem}" for d in exc.details)
    return (
        Refusal(
            printable(sku.strip()[:100]), f"not synced: {exc.message}" + (f" ({details})" if details else "")
        ),
    )


def _parse_verified(
    headers: Mapping[str, str], body: bytes, now: float, reader: Reader | None
) -> Delivery | DeleteByProductId:
    require_json(headers)
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
    mapper = _Mapper(delivery_id, received_at, reader)
    events = tuple(mapper.product(product))
    owner = product.parent_id if product.type == "variation" and product.parent_id else product.id
    ignored = None
    if not events:
        ignored = "; ".join([*mapper.notes, _why_ignored(product)])
    return Delivery(
        "woocommerce",
        key,
        events,
        ignored=ignored,
        shop_product=f"{shop}#{owner}",
        notes=tuple(mapper.notes),
        refused=tuple(mapper.refused),
    )


def _why_ignored(product: WcProduct) -> str:
    if product.type == "variable":
        return (
            f"variable product {product.id}: its variations could not be read from the shop now; "
            "each variation's own delivery still publishes it"
        )
    if product.type == "grouped":
        return f"grouped product {product.id} has no stock or price of its own"
    if not product.sku.strip():
        return f"product {product.id} has no SKU"
    return f"product {product.id} has nothing to sync (no price or stock)"


def dumps(payload: Any) -> bytes:
    """JSON byte for byte as WooCommerce sends it: `trim(wp_json_encode($payload))` — PHP's json_encode
    writes no spaces, escapes `/` as `\\/` and every non-ASCII character as `\\uXXXX` (UTF-16 pairs)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def rest_product(
    data: Any, *, delivery_id: str, received_at: datetime
) -> tuple[list[ShopEvent], str | None, list[str]]:
    """A product or variation as the REST API lists it, mapped exactly as its webhook delivery is (the shop
    reconciliation reads these): (events, why nothing is synced, notes). Raises WebhookRejected."""
    try:
        product = WcProduct.model_validate(data)
    except ValidationError as exc:
        raise schema_violation(exc, "the listed item is not a WooCommerce product") from None
    mapper = _Mapper(delivery_id, received_at)
    events = mapper.product(product)
    return events, (None if events else _why_ignored(product)), mapper.notes
