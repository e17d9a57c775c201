"""What the order worker tells the rest of the system: the shop outbox and the stock-change hook.

Two messages, both JSON with a `kind` discriminator and a deterministic `message_id`:

- `OrderChanged` goes to the standard `shop-outbox` queue whenever an imported order's stored state
  changes (new order, paid, cancelled, a line that needs attention). The shop adapter creates or updates
  the order in the shop and, for each line whose `stock_effect` is TAKEN, applies the sale to the shop's
  stock and calls `StockLedger.confirm_delivered(sku, sale_id, ...)`. The queue is not FIFO and the
  worker may resend after a crash: consumers de-duplicate by `message_id` (the same content always has
  the same id). Its form is `order:<checkout form id>:v<n>`, `n` growing with each stored state of the
  order, so a consumer can also drop an older state that arrives after a newer one.
- `StockChanged` goes to the `stock-changes` FIFO queue (group = SKU, de-duplication id = `message_id`)
  whenever an order moved a SKU's ledger: "SKU X is at revision N, every channel may sell `available`".
  `offers` is the ledger's answer for every linked offer on every account. The propagation consumer pushes
  it only if no equal or newer revision was pushed (`StockLedger.claim_push`), so a resend is harmless.

Everything money-like stays a decimal string, as Allegro sends it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from allegro_sync.domain.ledger import StockView


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    status: str  # Allegro's CheckoutFormStatus: BOUGHT, FILLED_IN, READY_FOR_PROCESSING, CANCELLED
    updated_at: str | None
    lines: tuple[OutboxLine, ...]
    needs_attention: tuple[str, ...] = ()
    buyer: dict[str, Any] | None = None
    delivery: dict[str, Any] | None = None
    payment: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None


class OfferQuantity(_Message):
    """What one linked offer should show: SET `quantity` (>= 1), END (0 left) or HOLD (level unknown)."""

    offer_id: str
    account: str
    action: Literal["SET", "END", "HOLD"]
    quantity: int | None


class StockChanged(_Message):
    kind: Literal["stock.changed"] = "stock.changed"
    message_id: str
    sku: str
    revision: int
    available: int | None  # None: the shop's level is unknown, change nothing on Allegro
    offers: tuple[OfferQuantity, ...]
    cause: Literal["sale", "cancellation"]
    checkout_form_id: str
    account: str
    sale_ids: tuple[str, ...]

    @classmethod
    def from_view(
        cls,
        view: StockView,
        *,
        cause: Literal["sale", "cancellation"],
        checkout_form_id: str,
        account: str,
        sale_ids: tuple[str, ...],
    ) -> StockChanged:
        return cls(
            message_id=stock_message_id(view.sku, view.revision),
            sku=view.sku,
            revision=view.revision,
            available=view.available,
            offers=tuple(
                OfferQuantity(
                    offer_id=t.offer_id, account=t.account, action=t.action.value, quantity=t.quantity
                )
                for t in view.offers
            ),
            cause=cause,
            checkout_form_id=checkout_form_id,
            account=account,
            sale_ids=sale_ids,
        )


def stock_message_id(sku: str, revision: int) -> str:
    """One id per SKU revision: FIFO de-duplication and the consumer both drop a resend."""
    return f"stock:{sku}:{revision}"


OutboxMessage = Annotated[OrderChanged | StockChanged, Field(discriminator="kind")]
_outbox = TypeAdapter(OutboxMessage)


def parse_outbox_message(body: str) -> OrderChanged | StockChanged:
    """For consumers: a queue body back to its typed message (raises pydantic.ValidationError)."""
    return _outbox.validate_json(body)
