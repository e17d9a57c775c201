"""The shop's changes as the rest of the system sees them, whatever shop platform sent them.

`shop_webhook` turns each delivery (generic signed JSON or WooCommerce's native webhooks) into one or
more of these events and queues them on the `shop-events` FIFO queue, grouped by SKU. Workers only ever
see this shape, so a new shop platform means a new mapping in the webhook adapter and nothing else.

Ordering: `occurred_at` is the shop's own timestamp of the change (and `version`, when the shop has one,
breaks ties). Consumers keep the newest they have applied per SKU and ignore anything older, so a delayed or
replayed delivery never overwrites a newer state.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter

Sku = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\s]+$")]
"""A shop SKU; it becomes the offer's `external.id`, which Allegro limits to 100 characters."""

Money = Annotated[Decimal, Field(ge=Decimal("0"), max_digits=12, decimal_places=2)]


class _ShopEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    delivery_id: Annotated[str, Field(min_length=1, max_length=200)]
    occurred_at: AwareDatetime
    version: int | None = None
    source: Literal["generic", "woocommerce"] = "generic"
    sku: Sku

    @property
    def order_key(self) -> tuple[datetime, int]:
        """What 'newer' means for two events of one SKU."""
        return (self.occurred_at, self.version if self.version is not None else -1)


class ProductUpsert(_ShopEvent):
    """A product was added or changed in the shop: the full picture, not a diff."""

    type: Literal["product.upsert"] = "product.upsert"
    name: Annotated[str, Field(min_length=1, max_length=500)]
    ean: Annotated[str, Field(pattern=r"^\d{8}$|^\d{12,14}$")] | None = None
    description_html: Annotated[str, Field(max_length=200_000)] = ""
    image_urls: Annotated[list[HttpUrl], Field(max_length=16)] = []
    price: Money
    currency: Literal["PLN"] = "PLN"
    cost_price: Money | None = None
    stock: Annotated[int, Field(ge=0)] | None = None
    category_path: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=10)]
    attributes: dict[str, str] = {}


class ProductDelete(_ShopEvent):
    """The product is gone from the shop: its offers end."""

    type: Literal["product.delete"] = "product.delete"


class StockSet(_ShopEvent):
    """The shop's absolute stock level for the SKU at `occurred_at`."""

    type: Literal["stock.set"] = "stock.set"
    stock: Annotated[int, Field(ge=0)]


class PriceSet(_ShopEvent):
    """The shop's (list) price for the SKU at `occurred_at`."""

    type: Literal["price.set"] = "price.set"
    price: Money
    currency: Literal["PLN"] = "PLN"


ShopEvent = Annotated[ProductUpsert | ProductDelete | StockSet | PriceSet, Field(discriminator="type")]

SHOP_EVENT_ADAPTER: TypeAdapter[ShopEvent] = TypeAdapter(ShopEvent)


def parse_shop_event(raw: str | bytes) -> ShopEvent:
    """Parse one queued event (JSON); raises pydantic.ValidationError on anything malformed."""
    return SHOP_EVENT_ADAPTER.validate_json(raw)
