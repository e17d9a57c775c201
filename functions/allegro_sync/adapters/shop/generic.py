"""The generic webhook contract: signed JSON any shop can send (documented in `/openapi.json`).

A delivery is one event or `{"events": [...]}` (up to `MAX_EVENTS`), signed as `signing.py` describes.
Checks run cheapest-first and nothing past a failed check is looked at: media type, signature headers,
signature (constant time), replay window, JSON, schema. The input models below ARE the contract: the
OpenAPI file is generated from them, so the documentation cannot drift from what is enforced.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, ValidationError

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.errors import Problem, WebhookRejected, field_path, schema_violation
from allegro_sync.adapters.shop.json_body import header as _header
from allegro_sync.adapters.shop.json_body import load_json, require_json
from allegro_sync.contracts.messages import (
    Money,
    PriceSet,
    ProductDelete,
    ProductUpsert,
    ShopEvent,
    Sku,
    Stock,
    StockSet,
)
from allegro_sync.contracts.webhooks import Delivery

MAX_EVENTS = 50
DEFAULT_REPLAY_WINDOW_SECONDS = 300
EVENT_TYPES = ("product.upsert", "product.delete", "stock.set", "price.set")


class _EventIn(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    sku: Sku = Field(description="The shop's SKU; becomes the Allegro offer's external id.")
    occurred_at: AwareDatetime | None = Field(
        default=None,
        description="When the change happened in the shop (defaults to the delivery timestamp); "
        "never in the future. Older changes never overwrite newer ones.",
    )
    version: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="The shop's own revision counter, if any; breaks ties of occurred_at."
    )


class ProductUpsertIn(_EventIn):
    """The full picture of a product (not a diff)."""

    type: Literal["product.upsert"]
    name: Annotated[str, Field(min_length=1, max_length=500)]
    ean: Annotated[str, Field(pattern=r"^\d{8}$|^\d{12,14}$")] | None = Field(
        default=None, description="EAN-8/UPC-12/EAN-13/GTIN-14 digits."
    )
    description_html: Annotated[str, Field(max_length=200_000)] = ""
    image_urls: Annotated[list[HttpUrl], Field(max_length=16)] = []
    price: Money = Field(description='Gross list price in PLN, e.g. "129.99" or 129.99; at most 99999999.99.')
    currency: Literal["PLN"] = "PLN"
    cost_price: Money | None = Field(default=None, description="Purchase price, for margin rules.")
    stock: Stock | None = Field(default=None, description="Absolute stock level (at most 1,000,000).")
    category_path: Annotated[
        list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=10)
    ] = Field(description='The shop category from the root, e.g. ["Dom", "Kuchnia", "Garnki"].')
    attributes: dict[str, str] = Field(default={}, description='e.g. {"Kolor": "czerwony"}')


class ProductDeleteIn(_EventIn):
    """The product is gone from the shop; its offers end."""

    type: Literal["product.delete"]


class StockSetIn(_EventIn):
    """The absolute stock level (never a delta)."""

    type: Literal["stock.set"]
    stock: Stock


class PriceSetIn(_EventIn):
    """The list price."""

    type: Literal["price.set"]
    price: Money
    currency: Literal["PLN"] = "PLN"


EventIn = Annotated[ProductUpsertIn | ProductDeleteIn | StockSetIn | PriceSetIn, Field(discriminator="type")]
EVENT_IN: TypeAdapter[EventIn] = TypeAdapter(EventIn, config=ConfigDict(defer_build=True))


class BatchIn(BaseModel):
    """Several events in one delivery, queued in this order."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_EVENTS)]


_DOMAIN = {
    "product.upsert": ProductUpsert,
    "product.delete": ProductDelete,
    "stock.set": StockSet,
    "price.set": PriceSet,
}


def verify(
    headers: Mapping[str, str], body: bytes, secrets: list[str], *, now: float, replay_window: int
) -> tuple[str, int]:
    """Check the signature headers; return (delivery id, timestamp) or raise 401."""
    delivery = _header(headers, signing.DELIVERY_HEADER)
    raw_timestamp = _header(headers, signing.TIMESTAMP_HEADER)
    signature = _header(headers, signing.SIGNATURE_HEADER)
    missing = [
        Problem(name, "required")
        for name, value in (
            (signing.SIGNATURE_HEADER, signature),
            (signing.TIMESTAMP_HEADER, raw_timestamp),
            (signing.DELIVERY_HEADER, delivery),
        )
        if not value
    ]
    if missing:
        raise WebhookRejected(401, "missing_signature", "the delivery is not signed", missing)
    delivery, raw_timestamp, signature = delivery or "", raw_timestamp or "", signature or ""
    if not signing.DELIVERY_ID.match(delivery):
        raise WebhookRejected(
            401,
            "invalid_delivery_id",
            "the delivery id is malformed",
            [Problem(signing.DELIVERY_HEADER, "1-200 characters of A-Z a-z 0-9 . _ : -")],
        )
    if not raw_timestamp.isdigit() or len(raw_timestamp) > 12:
        raise WebhookRejected(
            401,
            "invalid_timestamp",
            "the timestamp is malformed",
            [Problem(signing.TIMESTAMP_HEADER, "unix time in whole seconds, e.g. 1767225600")],
        )
    timestamp = int(raw_timestamp)
    if not signing.matches(secrets, signature, timestamp, delivery, body):
        raise WebhookRejected(
            401,
            "invalid_signature",
            "the signature does not match the body and the signing secret",
            [
                Problem(
                    signing.SIGNATURE_HEADER,
                    "expected v1=hex(HMAC-SHA256(secret, ts + '.' + id + '.' + body))",
                )
            ],
        )
    skew = timestamp - now
    if abs(skew) > replay_window:
        when = "old" if skew < 0 else "far in the future"
        raise WebhookRejected(
            401,
            "stale_timestamp" if skew < 0 else "future_timestamp",
            f"the delivery timestamp is {abs(int(skew))} s {when}; the window is ±{replay_window} s",
            [Problem(signing.TIMESTAMP_HEADER, f"must be within {replay_window} s of the receiver's clock")],
        )
    return delivery, timestamp


def parse_events(data: Any) -> list[EventIn]:
    """Validate the body's events (400 for an unknown type, 422 with every field error otherwise)."""
    if not isinstance(data, dict):
        raise WebhookRejected(
            422,
            "schema_violation",
            "the body must be a JSON object",
            [Problem("(body)", 'expected an event object or {"events": [...]}')],
        )
    batch = "events" in data
    raw = data.get("events") if batch else [data]
    if isinstance(raw, list):
        for index, item in enumerate(raw):
            kind = item.get("type") if isinstance(item, dict) else None
            if isinstance(kind, str) and kind not in EVENT_TYPES:
                where = f"events[{index}].type" if batch else "type"
                raise WebhookRejected(
                    400,
                    "unknown_event_type",
                    f"unknown event type {kind[:50]!r}",
                    [Problem(where, f"must be one of {', '.join(EVENT_TYPES)}")],
                )
    try:
        if batch:
            return list(BatchIn.model_validate(data).events)
        return [EVENT_IN.validate_python(data)]
    except ValidationError as exc:
        raise schema_violation(exc, drop=EVENT_TYPES) from None


def to_domain(
    events: list[EventIn], delivery_id: str, timestamp: int, *, latest: float, batch: bool
) -> tuple[ShopEvent, ...]:
    """Domain events; an `occurred_at` past `latest` (the receiver's clock + the replay window) is refused.

    Consumers keep the newest state per SKU, so one event stamped in the future by a shop's broken clock
    would make every real update of that SKU look older and be ignored until that moment.
    """
    sent_at = datetime.fromtimestamp(timestamp, UTC)
    out: list[ShopEvent] = []
    future: list[Problem] = []
    for index, event in enumerate(events):
        where = f"events[{index}]" if batch else ""
        if event.occurred_at is not None and event.occurred_at.timestamp() > latest:
            future.append(
                Problem(field_path(("occurred_at",), where), "is in the future of the receiver's clock")
            )
            continue
        fields = {k: getattr(event, k) for k in type(event).model_fields if k not in ("occurred_at", "type")}
        try:
            out.append(
                _DOMAIN[event.type](
                    **fields,
                    delivery_id=delivery_id,
                    source="generic",
                    occurred_at=event.occurred_at or sent_at,
                )
            )
        except ValidationError as exc:  # the contract and the domain disagree: say where
            raise schema_violation(exc, "an event is not acceptable", prefix=where) from None
    if future:
        raise WebhookRejected(422, "schema_violation", "an event is dated in the future", future)
    return tuple(out)


def parse_generic(
    headers: Mapping[str, str], body: bytes, secrets: list[str], *, now: float, replay_window: int
) -> Delivery:
    """A verified generic delivery, or `WebhookRejected` naming the first thing wrong with it."""
    require_json(headers)
    delivery_id, timestamp = verify(headers, body, secrets, now=now, replay_window=replay_window)
    data = load_json(body)
    batch = isinstance(data, dict) and "events" in data
    parsed = parse_events(data)
    events = to_domain(parsed, delivery_id, timestamp, latest=now + replay_window, batch=batch)
    # Every event an absolute level dated by the shop itself: its repeat is recognised by its order keys.
    self_ordered = bool(parsed) and all(e.type == "stock.set" and e.occurred_at is not None for e in parsed)
    return Delivery("generic", delivery_id, events, self_ordered=self_ordered)
