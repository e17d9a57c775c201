"""Items of the `catalog` table: shop products and their offer links, one partition per SKU.

Layout (string keys `pk`, `sk`):
- product: pk="product#<sku>", sk="product"        `ProductItem`, written only if its `order_key` is not
  older than the stored one (`contracts.catalog.order_key`); small, so a stock change costs 1 write unit;
- content: pk="product#<sku>", sk="content"        `ProductContentItem`, the last upsert (often several KB),
  written only when an upsert brings it, guarded by that upsert's own order key;
- link:    pk="product#<sku>", sk="offer#<account>" `OfferLinkItem`.
JSON-valued attributes (`upsert`, `candidates`, `last_error`) are strings, so the item stays readable in the
console and DynamoDB never sees a float.
"""

from __future__ import annotations

from pydantic import Field

from allegro_sync.contracts.records.item import Item


class ProductItem(Item):
    """The newest accepted state of a shop product (`contracts.catalog.StoredProduct`)."""

    sku: str
    order_key: str
    deleted: bool = False
    updated_at: str = ""
    upsert: str | None = None  # written by earlier versions only: the content item holds it now
    stock: int | None = None
    price: str | None = None  # decimal string
    # Issue 21: the content's few repricing facts, JSON {"cost", "price", "ean"} (decimal strings), copied on
    # every write so a repricing sweep reads this small item, not the content (often several KB); absent on
    # an item written by an earlier version (the sweep then reads the content).
    facts: str | None = None


class ProductContentItem(Item):
    """The last product.upsert of a SKU (JSON), kept apart so stock and price changes never rewrite it."""

    order_key: str  # the upsert's own (`contracts.catalog.order_key`)
    upsert: str


class OfferLinkItem(Item):
    """One SKU on one seller account (`contracts.catalog.OfferLink`)."""

    sku: str
    account: str
    status: str
    reasons: list[str] = Field(default_factory=list)
    candidates: str = "[]"  # JSON list of catalogue products matching the EAN
    synced: dict[str, str] = Field(default_factory=dict)
    images: dict[str, str] = Field(default_factory=dict)
    applied_key: str = ""
    creating_since: str = ""
    updated_at: str = ""
    offer_id: str | None = None
    product_id: str | None = None
    last_error: str | None = None  # JSON of Allegro's codes/metadata of the last rejection
    price: str | None = None
