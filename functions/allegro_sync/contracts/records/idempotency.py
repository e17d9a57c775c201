"""Items of the `idempotency` table: webhook delivery markers and the shop product index.

Layout (string keys `pk`, `sk`):
- delivery marker: pk="webhook-delivery#<source>#<key>", sk="delivery"   `DeliveryMarkerItem`; TTL
  `expiration` (the table's TTL attribute) `DELIVERY_MEMORY_DAYS` ahead;
- product index:   pk="webhook-product#<source>#<shop>#<id>", sk="skus"  `ProductIndexItem`; no TTL;
- inventory item:  pk="shopify-inventory#<shop>#<item id>", sk="levels"   `InventoryItemRecord`; no TTL;
- refused input:   pk="shop-refusal#<sku>", sk="latest"                  `RefusalItem`; TTL as markers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from allegro_sync.contracts.records.item import Item


class DeliveryMarkerItem(Item):
    """A shop delivery whose events are queued (`queued`: a redelivery is a duplicate), written once after
    the queueing. `pending` is what earlier versions wrote before queueing; it never makes a duplicate."""

    status: Literal["pending", "queued"]
    received_at: int  # epoch seconds
    expiration: int  # epoch seconds (TTL)
    events: int | None = None  # set with `queued`


class ProductIndexItem(Item):
    """Every SKU a shop product (and its variations) was seen with, so WooCommerce's id-only delete can
    name them."""

    skus: set[str] = Field(default_factory=set)  # a DynamoDB string set; only ever grows
    updated_at: int | None = None


class RefusalItem(Item):
    """The last shop data refused for a SKU (answered 2xx: the shop cannot fix it by resending), shown by
    `products status SKU` until the TTL."""

    source: str
    reason: str
    delivery: str
    at: int  # epoch seconds
    expiration: int  # epoch seconds (TTL)


class InventoryItemRecord(Item):
    """A Shopify inventory item: its variant's SKU (set by products/* deliveries) and the last `available`
    per location (`levels`, a map set one location at a time by inventory_levels/update)."""

    sku: str | None = None
    levels: dict[str, int] = Field(default_factory=dict)
