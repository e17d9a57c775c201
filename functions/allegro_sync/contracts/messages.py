"""One model per queue message: what every producer builds and every consumer parses.

| queue (type, group) | model | producers | consumers |
| --- | --- | --- | --- |
| `shop-events` (FIFO, SKU) | `ShopEvent` | shop_webhook, `catalog import` | catalog_worker |
| `orders` (FIFO, checkout form) | `OrderNotice` | order_poller, order_gap_scan | order_worker |
| `stock-changes` (FIFO, SKU) | `StockChanged` | order_worker, catalog_worker | stock_propagator |
| `shop-outbox` (standard) | `OrderChanged` | order_worker | shop_notifier |
| `fulfillment` (FIFO, checkout form) | `ShopOrderStatus` | fulfillment_intake | fulfillment_worker |
| `token-recovery` (standard, delayed) | `TokenRecovery` | every refresh of a token | token_recovery |
| `poll-tick` (standard, delayed) | `PollTick` | order_poller (itself, and its watchdog) | order_poller |
| `stock-rechecks` (standard, delayed) | `StockRecheck` | catalog_worker, shop_notifier | stock_rechecker |

Bodies are the models' JSON; consumers receive them parsed by their batch processor
(`adapters/sqs_records.py`), so a malformed body fails its record and ends in the DLQ. The correlation id
travels as a message attribute, never in a body (`allegro_sync.correlation`), so de-duplication ids and
idempotency keys only ever see what is here.
Everything money-like stays a decimal string, as Allegro sends it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, model_validator

from allegro_sync.contracts.fulfillment_status import FulfillmentStatus

# SQS FIFO group and de-duplication ids: 1..128 printable ASCII characters.
_FIFO_SAFE = re.compile(r"^[!-~]{1,128}$")


def fifo_safe(value: str) -> str:
    """`value` if SQS accepts it as a FIFO group/de-duplication id, else a stable hash of it."""
    if _FIFO_SAFE.fullmatch(value):
        return value
    return "h:" + hashlib.sha256(value.encode()).hexdigest()


# ------------------------------------------------------------------------------------------ shop-events
# The shop's changes as the rest of the system sees them, whatever shop platform sent them.
#
# `shop_webhook` turns each delivery (generic signed JSON or WooCommerce's native webhooks) into one or more
# of these events and queues them grouped by SKU. Workers only ever see this shape, so a new shop platform
# means a new mapping in the webhook adapter and nothing else.
#
# Ordering: `occurred_at` is the shop's own timestamp of the change (and `version`, when the shop has one,
# breaks ties). Consumers keep the newest they have applied per SKU and ignore anything older, so a delayed
# or replayed delivery never overwrites a newer state.

Sku = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\s\x00-\x1f\x7f-\x9f]+$")]
"""A shop SKU; it becomes the offer's `external.id`, which Allegro limits to 100 characters. No spaces and
no control characters (C0, DEL, C1): they cannot be typed into `products status` or Allegro's panel."""

MAX_PRICE = Decimal("99999999.99")
"""The highest shop price taken (just under 100 million PLN): beyond it a price is a typo or junk."""
MAX_STOCK = 1_000_000
"""The highest shop stock level taken: beyond it a level is a typo or junk (no seller has a million)."""

Money = Annotated[Decimal, Field(ge=Decimal("0"), le=MAX_PRICE, decimal_places=2)]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK)]


class _ShopEvent(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    delivery_id: Annotated[str, Field(min_length=1, max_length=200)]
    occurred_at: AwareDatetime
    version: int | None = None
    source: Literal["generic", "woocommerce", "prestashop", "shopify"] = "generic"
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
    stock: Stock | None = None
    category_path: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=10)]
    attributes: dict[str, str] = {}


class ProductDelete(_ShopEvent):
    """The product is gone from the shop: its offers end."""

    type: Literal["product.delete"] = "product.delete"


class StockSet(_ShopEvent):
    """The shop's absolute stock level for the SKU at `occurred_at`."""

    type: Literal["stock.set"] = "stock.set"
    stock: Stock


class PriceSet(_ShopEvent):
    """The shop's (list) price for the SKU at `occurred_at`."""

    type: Literal["price.set"] = "price.set"
    price: Money
    currency: Literal["PLN"] = "PLN"


ShopEvent = Annotated[ProductUpsert | ProductDelete | StockSet | PriceSet, Field(discriminator="type")]

SHOP_EVENT_ADAPTER: TypeAdapter[ShopEvent] = TypeAdapter(ShopEvent, config=ConfigDict(defer_build=True))


def parse_shop_event(raw: str | bytes) -> ShopEvent:
    """Parse one queued event (JSON); raises pydantic.ValidationError on anything malformed."""
    return SHOP_EVENT_ADAPTER.validate_json(raw)


# ------------------------------------------------------------------------------------------------ orders


class OrderNotice(BaseModel):
    """A message on the `orders` FIFO queue: "look at this checkout form of this account".

    From the poller (`source="event"`, one per Allegro order event) or from the gap scan (`source="scan"`,
    one per form whose stored revision is behind). The worker always re-reads the form, so the notice
    itself carries no order data.
    """

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    account: str = Field(min_length=1, max_length=64)
    checkout_form_id: str = Field(min_length=1, max_length=100)
    source: Literal["event", "scan"]
    event_id: str | None = Field(default=None, max_length=200)
    event_type: str | None = Field(default=None, max_length=64)
    revision: str | None = Field(default=None, max_length=100)
    occurred_at: str | None = Field(default=None, max_length=64)

    @property
    def group_id(self) -> str:
        return fifo_safe(self.checkout_form_id)

    @property
    def deduplication_id(self) -> str:
        if self.source == "event":
            return fifo_safe(f"{self.account}:event:{self.event_id}")
        return fifo_safe(f"{self.account}:scan:{self.checkout_form_id}:{self.revision}")


# ----------------------------------------------------------------------------------------- stock-changes
# "SKU X is at ledger revision N": sent whenever something moved a SKU's ledger, by the order worker (a sale
# or a cancellation) and by the catalogue worker (a new shop stock level). Group = SKU, de-duplication id =
# `message_id` (one per SKU revision), so a change both report for one revision is pushed once.


class _Message(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class OfferQuantity(_Message):
    """What one linked offer should show: SET `quantity` (>= 1), END (0 left) or HOLD (level unknown)."""

    offer_id: str
    account: str
    action: Literal["SET", "END", "HOLD"]
    quantity: int | None


class _OfferTarget(Protocol):
    @property
    def offer_id(self) -> str: ...

    @property
    def account(self) -> str: ...

    @property
    def action(self) -> str: ...

    @property
    def quantity(self) -> int | None: ...


class LedgerView(Protocol):
    """The part of the stock ledger's view (`domain.ledger.StockView`) a `StockChanged` snapshots."""

    @property
    def sku(self) -> str: ...

    @property
    def revision(self) -> int: ...

    @property
    def available(self) -> int | None: ...

    @property
    def offers(self) -> Sequence[_OfferTarget]: ...


def stock_message_id(sku: str, revision: int) -> str:
    """One id per SKU revision: FIFO de-duplication and the consumer both drop a resend."""
    return f"stock:{sku}:{revision}"


class StockChanged(BaseModel):
    """The `stock-changes` message: which SKU moved, to which ledger revision, and why.

    The propagator reads only `sku`, `revision` (the ledger, not the message, says what to show), `cause`
    and `checkout_form_id` (for the change log's reason). `available` and `offers` are the ledger's view
    when it was sent, for people reading the queue or the DLQ.

    Two shapes are in flight and both parse: the order worker's (with `checkout_form_id`, `account` and
    `sale_ids`) and the catalogue's (without them; until this model it was a hand-built dict). Unknown
    fields are ignored rather than refused, so a message from a newer producer still reaches an older
    consumer instead of the DLQ; producers build it only through `from_view`.
    """

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)

    kind: Literal["stock.changed"] = "stock.changed"
    message_id: str = ""  # stock_message_id(sku, revision) when not given
    sku: str = Field(min_length=1, max_length=100)
    revision: int = Field(ge=0)
    available: int | None = None  # None: the shop's level is unknown, change nothing on Allegro
    offers: tuple[OfferQuantity, ...] = ()
    cause: str | None = Field(default=None, max_length=50)  # 'sale', 'cancellation', 'shop stock level'
    checkout_form_id: str | None = Field(default=None, max_length=100)
    account: str | None = None
    sale_ids: tuple[str, ...] = ()
    # Never in the body: the consumer sets the message's `correlation_id` attribute here, so the SKU's
    # Allegro calls are logged under the event that moved it.
    correlation_id: str | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _default_message_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("message_id") and "sku" in data and "revision" in data:
            return {**data, "message_id": f"stock:{data['sku']}:{data['revision']}"}
        return data

    @classmethod
    def from_view(
        cls,
        view: LedgerView,
        *,
        cause: str,
        checkout_form_id: str | None = None,
        account: str | None = None,
        sale_ids: tuple[str, ...] = (),
    ) -> StockChanged:
        return cls(
            message_id=stock_message_id(view.sku, view.revision),
            sku=view.sku,
            revision=view.revision,
            available=view.available,
            offers=tuple(
                OfferQuantity.model_validate(
                    {
                        "offer_id": t.offer_id,
                        "account": t.account,
                        "action": str(t.action),
                        "quantity": t.quantity,
                    }
                )
                for t in view.offers
            ),
            cause=cause,
            checkout_form_id=checkout_form_id,
            account=account,
            sale_ids=sale_ids,
        )

    def reason(self, revision: int) -> str:
        """Why an offer's stock changed, in the seller's words (the change log)."""
        why = f"stock level at ledger revision {revision}"
        if self.cause:
            why += f" after a {self.cause}"
        if self.checkout_form_id:
            why += f" (Allegro order {self.checkout_form_id})"
        return why


def parse_stock_changed(body: str | bytes) -> StockChanged:
    """For the consumer: a queue body back to its message (raises pydantic.ValidationError)."""
    return StockChanged.model_validate_json(body)


# ------------------------------------------------------------------------------------------- shop-outbox
# `OrderChanged` goes to the standard `shop-outbox` queue whenever an imported order's stored state changes
# (new order, paid, cancelled, a line that needs attention). The shop adapter creates or updates the order
# in the shop and, for each line whose `stock_effect` is TAKEN, applies the sale to the shop's stock and
# calls `StockLedger.confirm_delivered(sku, sale_id, ...)`. The queue is not FIFO and the worker may resend
# after a crash: consumers de-duplicate by `message_id` (the same content always has the same id). Its form
# is `order:<checkout form id>:v<n>`, `n` growing with each stored state of the order, so a consumer can
# also drop an older state that arrives after a newer one. It carries references, not the buyer's personal
# data: the order worker stores that on the `orders` table first (docs/privacy.md).


class OutboxLine(_Message):
    """One order line as the shop needs it. `sku` is None when it could not be matched (see attention)."""

    line_item_id: str
    sale_id: str
    offer_id: str
    sku: str | None
    quantity: int
    unit_price: str | None = None
    currency: str | None = None
    # TAKEN: the ledger counted this sale; RETURNED: a cancellation gave it back; NONE: stock untouched
    # (not counted yet at this status, or the line needs attention).
    stock_effect: Literal["TAKEN", "RETURNED", "NONE"]


class OrderChanged(_Message):
    kind: Literal["order.changed"] = "order.changed"
    message_id: str
    account: str
    checkout_form_id: str
    revision: str | None
    # Allegro's CheckoutFormStatus (BOUGHT, FILLED_IN, READY_FOR_PROCESSING, CANCELLED), or our MERGED: a
    # combined payment replaced this form by `merged_into` (close the order, leave stock alone).
    status: str
    updated_at: str | None
    lines: tuple[OutboxLine, ...]
    needs_attention: tuple[str, ...] = ()
    merged_into: str | None = None
    replaces: tuple[str, ...] = ()  # forms this combined payment replaced: their sales continue here
    # The buyer's personal data. On the queue: absent, and `buyer_data_stored` says the orders table keeps
    # it for this checkout form (the notifier reads it there); messages queued before that still carry it
    # here and are delivered as they are. To the shop: always filled in, as Allegro's checkout form has it.
    buyer: dict[str, Any] | None = None
    delivery: dict[str, Any] | None = None
    payment: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    buyer_data_stored: bool = False

    def with_buyer_data(self, buyer: dict[str, Any] | None, delivery: dict[str, Any] | None) -> OrderChanged:
        """The message as the shop gets it: the stored buyer and delivery filled in."""
        return self.model_copy(update={"buyer": buyer, "delivery": delivery, "buyer_data_stored": False})


# --- issue 15, item 3: a customer return the seller took back into stock (docs/after-sale.md) ---


class ReturnedLine(_Message):
    """One returned line: `quantity` items of the order line `line_item_id` (sale `sale_id`) came back."""

    line_item_id: str
    sale_id: str
    offer_id: str
    sku: str
    quantity: int = Field(ge=1)
    return_line_id: str  # the ledger's credit of this line (domain.returns.return_line_id)


class OrderReturned(_Message):
    """To the shop: put these items back into stock, once per `message_id` (`return:<return id>`)."""

    kind: Literal["order.returned"] = "order.returned"
    message_id: str
    account: str
    checkout_form_id: str
    return_id: str
    status: str  # the return's Allegro status when it was taken back (DELIVERED, FINISHED, ...)
    lines: tuple[ReturnedLine, ...]


# --- issue 15, item 1: a shipping label stored for an order, handed to the shop (docs/after-sale.md) ---


class OrderLabel(_Message):
    """To the shop: the order's label is stored; the notifier presigns a link to it when it delivers (a
    link made earlier could expire while the shop is down), once per `message_id` (`label:<form>:<n>`)."""

    kind: Literal["order.label"] = "order.label"
    message_id: str
    account: str
    checkout_form_id: str
    package: int = Field(ge=1)
    waybill: str | None = None
    carrier: str | None = None
    label_key: str  # the PDF in the labels bucket; never sent to the shop (it gets a link)


# --- issue 15, item 4: a buyer's message or a message in a dispute/claim (docs/after-sale.md) ---


class BuyerMessage(_Message):
    """To the shop: the buyer wrote (Message Center thread, or a dispute's/claim's chat), once per
    `message_id` (`message:<Allegro message id>`). `text` is buyer personal data: forwarded, not kept."""

    kind: Literal["buyer.message"] = "buyer.message"
    message_id: str
    account: str
    source: Literal["thread", "issue"]
    thread_id: str | None = None  # the Message Center thread (source "thread")
    issue_id: str | None = None  # the dispute or claim (source "issue")
    issue_type: str | None = None  # DISPUTE or CLAIM
    checkout_form_id: str | None = None  # the order it is about, when Allegro says
    author_login: str
    created_at: str
    text: str


OutboxMessage = Annotated[
    OrderChanged | StockChanged | OrderReturned | OrderLabel | BuyerMessage, Field(discriminator="kind")
]
_outbox = TypeAdapter(OutboxMessage, config=ConfigDict(defer_build=True))


def parse_outbox_message(
    body: str,
) -> OrderChanged | StockChanged | OrderReturned | OrderLabel | BuyerMessage:
    """For consumers: a queue body back to its typed message (raises pydantic.ValidationError)."""
    return _outbox.validate_json(body)


# ------------------------------------------------------------------------------------------- fulfillment
# What the shop says about an order it ships: "order X (our Allegro checkout form id) is now in status S,
# shipped with these parcels", from the generic signed contract (`order.status`) or a WooCommerce
# `order.updated` webhook. Both become one `ShopOrderStatus`; the fulfillment use case turns it into
# Allegro's fulfillment status and shipments.

CheckoutFormId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class Parcel(BaseModel):
    """One tracking number; `carrier` is the shop's own name for the carrier ("InPost", "dpd", ...)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    carrier: Annotated[str, Field(min_length=1, max_length=100)]
    waybill: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")]


class ShopRefundLine(BaseModel):
    """Issue 15: what the shop gave back of one order line: whole items, or an amount (decimal string)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    line_item_id: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=MAX_STOCK)] | None = None
    amount: Annotated[str, Field(pattern=r"^\d{1,8}(\.\d{1,2})?$")] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ShopRefundLine:
        if (self.quantity is None) == (self.amount is None):
            raise ValueError("give either a quantity or an amount")
        return self


class ShopRefund(BaseModel):
    """Issue 15: the shop refunded the order (no lines: all of it), once per `refund_id` (the shop's own)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    refund_id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[!-~]+$")]
    lines: Annotated[tuple[ShopRefundLine, ...], Field(max_length=100)] = ()


class ShopOrderStatus(BaseModel):
    """The shop's view of one Allegro order: where it is in fulfillment and its parcels (and, issue 15, a
    refund it made)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    checkout_form_id: CheckoutFormId
    status: FulfillmentStatus | None = None
    parcels: Annotated[tuple[Parcel, ...], Field(max_length=20)] = ()
    refund: ShopRefund | None = None
    # issue 15: the shop's own status word (a WooCommerce status), which a seller's label rule may name
    shop_status: str | None = Field(default=None, max_length=40)
    # issue 15, item 2: where the shop keeps the order's invoice PDF, and its number
    invoice_url: str | None = Field(default=None, max_length=2000)
    invoice_number: str | None = Field(default=None, max_length=60)
    # issue 15, item 3: the WooCommerce order and the refunds it lists (their lines are read by the worker)
    shop_order_id: int | None = None
    shop_refund_ids: Annotated[tuple[int, ...], Field(max_length=100)] = ()


class TokenRecovery(BaseModel):
    """Sent, delayed, just before a refresh calls Allegro: "if the pair refreshed from this token was not
    saved, refresh again with it" (services/tokens.py). A one-way fingerprint, never a token."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    account: str = Field(min_length=1, max_length=128)
    refresh_fingerprint: str = Field(pattern=r"^[0-9a-f]{32}$")


class PollTick(BaseModel):
    """The order poller's tick (services/orders/ticks.py): "poll every account once, then send me again a
    few seconds later". `chain` names the one live chain; a tick of any other chain stops instead, and so
    does a second tick with the same `seq` (a duplicate delivery or a retried tick that already sent its
    successor): the chain never forks."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    chain: str = Field(pattern=r"^[0-9a-f]{32}$")
    seq: int = Field(default=0, ge=0)


class StockRecheck(BaseModel):
    """Sent, delayed, when the ledger cannot tell whether a shop level already reflects a sale: "read this
    SKU's level from the shop again" (services/stock.py). The read is queued as a `stock.set`."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    sku: Sku
