"""Webhook intake's vocabulary: an accepted delivery, its queued events and the intake's answer.

The intake use case (`services.webhooks`) and the shop webhook adapters (`adapters/shop/*`, the delivery
markers in `adapters/shop/deliveries.py`) share these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from allegro_sync.contracts.messages import ShopEvent

Source = Literal["generic", "woocommerce", "prestashop", "shopify"]
DELIVERY_MEMORY_DAYS = 14  # as long as the shop-events queue keeps a message


@dataclass(frozen=True)
class Refusal:
    """Shop data taken but not applied: resending cannot fix it (a price of "1e308", a SKU with a control
    character), so it is answered 2xx and kept on the product's status (`products status SKU`)."""

    sku: str
    reason: str


@dataclass(frozen=True)
class Delivery:
    """One accepted webhook request: who sent it, its de-duplication key and the events it carries.

    `ignored` explains a well-formed delivery that carries nothing to sync (a WooCommerce product
    without a SKU, say); it is still answered 2xx so the shop does not disable the webhook.
    """

    source: Source
    key: str
    events: tuple[ShopEvent, ...]
    ignored: str | None = None
    # WooCommerce only: the shop's product id, remembered with its SKUs so a later `product.deleted`
    # (whose payload is just `{"id": N}`) can name the SKUs to end.
    shop_product: str | None = None
    # Things the adapter dropped or guessed (an invalid EAN, a skipped variation), for the log.
    notes: tuple[str, ...] = ()
    # Products of the delivery whose data could not be taken, each with its reason.
    refused: tuple[Refusal, ...] = ()
    # A verified delivery refused as a whole (unknown topic, not JSON...), answered 2xx with this error.
    error: dict[str, Any] | None = None
    # Only absolute stock levels, each with the shop's own `occurred_at`: a repeat carries the same order
    # keys, so the catalogue and the ledger already make it a no-op; no delivery marker is written for it.
    self_ordered: bool = False
    # Shopify only: (inventory item key, SKU) of each variant, so a later `inventory_levels/update` (which
    # names only the inventory item) can name the SKU without asking Shopify.
    inventory_items: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DeleteByProductId:
    """A platform's delete notice that names only its own product id (WooCommerce's `{"id": N}`)."""

    source: Source
    key: str
    delivery_id: str
    product: str
    occurred_at: datetime


@dataclass(frozen=True)
class InventoryLevel:
    """Shopify's `inventory_levels/update`: one location's `available` for an inventory item (no SKU)."""

    source: Source
    key: str
    delivery_id: str
    item: str  # "<shop domain>#<inventory_item_id>"
    location: str
    available: int
    occurred_at: datetime
    counted: frozenset[str]  # the location ids the seller counts (the shop credentials secret)


@dataclass(frozen=True)
class QueuedEvent:
    """What the publisher sends: the event plus its FIFO group and de-duplication id."""

    event: ShopEvent
    group_id: str
    deduplication_id: str


class Outcome(StrEnum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REFUSED = "refused"  # verified, but nothing in it can be applied; the reason is kept and answered


@dataclass(frozen=True)
class IntakeResult:
    outcome: Outcome
    delivery_key: str
    events: int = 0
    skus: tuple[str, ...] = field(default=())
    reason: str | None = None
    refused: tuple[Refusal, ...] = ()
    error: dict[str, Any] | None = None
