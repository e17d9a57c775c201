"""Items of the `orders` table: each imported order and what the shop already has of it.

Layout (string keys `pk`, `sk`):
- order:          pk="order#<checkout form id>", sk="order"             `OrderItem` (every write conditioned
  on `version`)
- attention:      pk="attention", sk="order#<checkout form id>"         `AttentionItem` (present while the
  order needs the seller; written in the order's transaction)
- shop delivery:  pk="order#<checkout form id>", sk="shop-delivery#<message id>"  `ShopDeliveryItem`
- newest state:   pk="order#<checkout form id>", sk="shop-newest"       `NewestStateItem` (only grows)
- shop order:     pk="order#<checkout form id>", sk="shop-order"        `ShopOrderItem` (WooCommerce's order)
- line owner:     pk="line#<line item id>", sk="owner"                  `LineOwnerItem` (which form carries a
  purchase now, and its sale id: a combined payment moves line items to a new form, allegro-api #1111)
- refund:         pk="order#<checkout form id>", sk="refund#<request key>"  `RefundItem` (issue 15: claimed
  with a conditional put before Allegro is called, marked sent after; the command id never changes)
- buyer data:     pk="order#<checkout form id>", sk="buyer"             `BuyerDataItem` (the only personal
  data in any table; expires by TTL, erased by `buyers forget`)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from allegro_sync.contracts.records.item import Item
from allegro_sync.contracts.shipping import LabelRecord


class OrderLineItem(BaseModel):
    """One line of a stored order (`domain.orders.StoredLine`); `sku` None: it could not be matched."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True, coerce_numbers_to_str=True)

    line_item_id: str
    sale_id: str
    offer_id: str
    sku: str | None = None
    quantity: int
    unit_price: str | None = None
    currency: str | None = None


class OrderItem(Item):
    """What the order import keeps per checkout form (`domain.orders.OrderRecord`)."""

    checkout_form_id: str
    account: str
    status: str
    revision: str | None = None
    updated_at: str | None = None
    lines: list[OrderLineItem] = Field(default_factory=list)
    taken: list[str] = Field(default_factory=list)  # sale ids the ledger counted, sorted
    returned: list[str] = Field(default_factory=list)  # sale ids a cancellation gave back, sorted
    attention: list[str] = Field(default_factory=list)
    version: int
    merged_into: str | None = None  # absent in records written before combined payments were handled
    replaces: list[str] = Field(default_factory=list)
    published: bool = True  # absent in records written before it: their message went out before the save


class BuyerDataItem(Item):
    """A checkout form's buyer and delivery (`domain.orders.BuyerDetails`), as JSON text: Allegro's objects
    as they came, whatever numbers they hold. Gone at `expires_at` (the table's TTL attribute)."""

    account: str
    buyer: str | None = None  # JSON
    delivery: str | None = None  # JSON
    expires_at: int


class LineOwnerItem(Item):
    """The checkout form that carries a line item now, and the sale id the ledger knows it by."""

    checkout_form_id: str
    sale_id: str


class AttentionItem(Item):
    """An order that needs the seller, and why: "which orders need me?" is one Query."""

    account: str
    reasons: list[str]


class ShopDeliveryItem(Item):
    """The shop took this outbox message; kept as long as the order worker may resend it."""

    delivered_at: str  # ISO time
    shop_applied_at: str  # the shop's own clock
    expires_at: int
    shop_order_id: str | None = None


class ShopFailureItem(Item):
    """Why the shop did not take this outbox message the last time it was tried (`dlq show` reads it)."""

    failed_at: str  # ISO time
    reason: str  # safe to show: never a secret, never the order's body
    expires_at: int


class NewestStateItem(Item):
    """The highest order-state version the shop has (a late older state is not sent), and the order's
    delivery turn: `turn_by` (a message id) sends a state until `turn_until` (epoch seconds)."""

    version: int | None = None  # None: a first state is on its way
    expires_at: int | None = None
    turn_by: str | None = None
    turn_until: float | None = None


class ShopOrderItem(Item):
    """The WooCommerce order created for the checkout form, claimed before the create."""

    claimed_at: str  # ISO time
    shop_order_id: int | None = None


# --- issue 14, item 6 (allegro-misc) ---
# - fulfillment: pk="order#<checkout form id>", sk="fulfillment#<ISO time>#<n>"  `FulfillmentEntryItem`
# - refused:     pk="attention", sk="tracking#<checkout form id>"               `AttentionItem` (while a
#   tracking number Allegro refused has not been replaced by one it took)


class FulfillmentEntryItem(Item):
    """One fulfillment update as Allegro took it (`contracts.orders.FulfillmentEntry`)."""

    checkout_form_id: str
    account: str
    at: str
    status_set: str | None = None
    status_kept: str | None = None
    added: list[str] = Field(default_factory=list)
    refused: list[str] = Field(default_factory=list)


class RefundItem(Item):
    """One refund request of an order (`contracts.after_sale.RefundRequest`) and the Allegro command for it.

    `body` is the exact InitializeRefund (JSON) first planned: a retry sends it again verbatim, so Allegro's
    `commandId` idempotency answers with the first refund instead of paying twice."""

    command_id: str
    status: str  # "pending" (claimed, maybe sent) | "sent"
    body: str
    total: str
    refund_id: str | None = None
    created_at: str = ""


# --- issue 15, item 1 (labels): pk="order#<checkout form id>", sk="label#<package, 3 digits>" -------------


class LabelItem(Item, LabelRecord):
    """One package's Ship with Allegro label (`contracts.shipping.LabelRecord`); no buyer data: the
    receiver's address goes to Allegro only, and the PDF lives in the labels bucket (expired by lifecycle)."""

    model_config = Item.model_config  # read leniently, as every stored item
