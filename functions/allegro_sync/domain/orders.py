"""Order import decisions: when a checkout form's lines count against stock, and what we remember of it.

Pure: no I/O, no clock. The order worker reads the *current* checkout form (never trusts an event's copy),
asks `plan_lines` what each line should do, lets the stock ledger apply it exactly once per sale id, and
stores an `OrderRecord`. Because every decision is a function of the form's current state, a duplicated,
reordered, delayed or skipped event changes nothing: the next message for the form (or the gap scan)
converges on the same answer.

When stock is counted (`StockCountPoint`), default BOUGHT: Allegro itself takes the quantity off the offer
at purchase and the buyer may pay days later. Waiting for READY_FOR_PROCESSING would leave the item on
sale in the shop and on the seller's other accounts meanwhile: an oversell the system could have
prevented (invariant 2). An unpaid order ends as AUTO_CANCELLED, which gives the stock back.
Sellers who prefer to count only paid orders set ORDER_STOCK_COUNT_AT=READY_FOR_PROCESSING.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from allegro_sync.domain.ledger import LedgerError, line_sale_id

CANCELLED = "CANCELLED"
PAID = "READY_FOR_PROCESSING"
# Our own statuses for a form Allegro deleted (404): MERGED once another form carries its line items (a
# combined payment, allegro-api #1111), DELETED while that form has not been read yet. Stock is untouched.
MERGED = "MERGED"
DELETED = "DELETED"
KNOWN_STATUSES = frozenset({"BOUGHT", "FILLED_IN", PAID, CANCELLED})
MAX_SKU_LENGTH = 100  # Allegro's external.id limit


class OrderDomainError(ValueError):
    """Input the order import cannot work with; nothing was changed."""


class StockCountPoint(StrEnum):
    """The checkout-form status from which an order's lines count against stock."""

    BOUGHT = "BOUGHT"
    READY_FOR_PROCESSING = "READY_FOR_PROCESSING"

    @classmethod
    def parse(cls, raw: str | None) -> StockCountPoint:
        if raw is None or raw == "":
            return cls.BOUGHT
        try:
            return cls(raw.strip().upper())
        except ValueError:
            raise OrderDomainError(
                f"ORDER_STOCK_COUNT_AT must be BOUGHT or READY_FOR_PROCESSING, got {raw!r}"
            ) from None


class LineAction(StrEnum):
    TAKE = "TAKE"  # the sale counts: the ledger takes the quantity (once per sale id)
    GIVE_BACK = "GIVE_BACK"  # the order is cancelled: the ledger returns it (once), or tombstones it
    WAIT = "WAIT"  # not counted yet at this status


def line_action(status: str, point: StockCountPoint) -> LineAction:
    """What every line of a form in `status` should do. An unknown status waits (never guesses)."""
    if status == CANCELLED:
        return LineAction.GIVE_BACK
    if status == PAID:
        return LineAction.TAKE
    if status in ("BOUGHT", "FILLED_IN") and point is StockCountPoint.BOUGHT:
        return LineAction.TAKE
    return LineAction.WAIT


@dataclass(frozen=True)
class FormLine:
    """The facts of one checkout-form line the import needs (from Allegro's `lineItems[]`)."""

    line_item_id: str
    offer_id: str
    quantity: int
    external_id: str | None = None
    unit_price: str | None = None
    currency: str | None = None
    bought_at: str | None = None


@dataclass(frozen=True)
class PlannedLine:
    line: FormLine
    sale_id: str
    sku: str | None  # None: unmatched, see `problem`
    action: LineAction
    matched_by: Literal["external.id", "offer link", "none"]
    problem: str | None = None


SkuLookup = Callable[[str], Sequence[str]]
"""Offer id -> the SKUs the catalogue links to it on this account (empty: none, several: ambiguous)."""


def check_sku(value: str) -> str:
    if not value or len(value) > MAX_SKU_LENGTH or value != value.strip():
        raise OrderDomainError(f"{value!r} is not a usable SKU (1..{MAX_SKU_LENGTH} chars, no outer spaces)")
    return value


def match_sku(line: FormLine, linked: SkuLookup) -> tuple[str | None, str, str | None]:
    """external.id first (the seller's SKU), else the catalogue's offer link; never a guess."""
    if line.external_id is not None and line.external_id.strip():
        try:
            return check_sku(line.external_id), "external.id", None
        except OrderDomainError as error:
            return None, "none", f"line {line.line_item_id} (offer {line.offer_id}): external.id {error}"
    skus = sorted(set(linked(line.offer_id)))
    if len(skus) == 1:
        return skus[0], "offer link", None
    if not skus:
        return (
            None,
            "none",
            f"line {line.line_item_id}: offer {line.offer_id} has no external.id and no offer link; "
            "set the SKU as the offer's external.id or link the offer, then re-import",
        )
    return (
        None,
        "none",
        f"line {line.line_item_id}: offer {line.offer_id} is linked to several SKUs {skus}; "
        "stock was not changed",
    )


def plan_lines(
    status: str,
    lines: Sequence[FormLine],
    point: StockCountPoint,
    linked: SkuLookup,
    known: Mapping[str, str] | None = None,
) -> list[PlannedLine]:
    """One decision per line. Unmatched lines are planned as WAIT with a problem to show the seller.

    `known`: line item id -> the sale id it already has (an older record's `<form>:<line>` key, or the
    form a combined payment replaced); any other line's sale id is its line item id."""
    action = line_action(status, point)
    planned: list[PlannedLine] = []
    for line in lines:
        try:
            sale_id = (known or {}).get(line.line_item_id) or line_sale_id(line.line_item_id)
        except LedgerError as error:
            raise OrderDomainError(str(error)) from error
        if line.quantity < 1:
            raise OrderDomainError(f"line {line.line_item_id} has quantity {line.quantity}")
        sku, how, problem = match_sku(line, linked)
        if sku is None:
            planned.append(PlannedLine(line, sale_id, None, LineAction.WAIT, "none", problem))
        else:
            planned.append(PlannedLine(line, sale_id, sku, action, how))  # type: ignore[arg-type]
    return planned


def unknown_status_problem(status: str) -> str | None:
    if status in KNOWN_STATUSES:
        return None
    return f"checkout form status {status!r} is unknown to this version; stock was not changed"


@dataclass(frozen=True)
class StoredLine:
    line_item_id: str
    sale_id: str
    offer_id: str
    sku: str | None
    quantity: int
    unit_price: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class OrderRecord:
    """What the `orders` table keeps per checkout form: for exactly-once bookkeeping and for the shop.

    `taken` / `returned`: sale ids the ledger confirmed it counted / gave back. `version` counts writes;
    the repository conditions each write on it.
    """

    checkout_form_id: str
    account: str
    status: str
    revision: str | None
    updated_at: str | None
    lines: tuple[StoredLine, ...] = ()
    taken: frozenset[str] = field(default_factory=frozenset)
    returned: frozenset[str] = field(default_factory=frozenset)
    attention: tuple[str, ...] = ()
    version: int = 0
    merged_into: str | None = None  # MERGED: the form of the combined payment that carries our lines
    replaces: tuple[str, ...] = ()  # the forms a combined payment replaced (their lines are ours now)
    # False from the import's save until its outbox message is sent: a retry of the same state sends it
    # then (records written before this field count as sent).
    published: bool = True

    def same_state(self, other: OrderRecord) -> bool:
        """Nothing the shop or the seller could notice differs (ignores `version`)."""
        return (
            self.status,
            self.revision,
            self.lines,
            self.taken,
            self.returned,
            self.attention,
            self.merged_into,
            self.replaces,
        ) == (
            other.status,
            other.revision,
            other.lines,
            other.taken,
            other.returned,
            other.attention,
            other.merged_into,
            other.replaces,
        )


DAY_SECONDS = 86_400


@dataclass(frozen=True)
class BuyerDetails:
    """A checkout form's buyer and delivery, as Allegro gives them: the personal data the shop needs to
    ship. Kept apart from the `OrderRecord` (which outlives it) until `expires_at` (epoch seconds)."""

    checkout_form_id: str
    account: str
    buyer: Mapping[str, Any] | None
    delivery: Mapping[str, Any] | None
    expires_at: int

    @classmethod
    def until(
        cls,
        checkout_form_id: str,
        account: str,
        buyer: Mapping[str, Any] | None,
        delivery: Mapping[str, Any] | None,
        *,
        now: float,
        days: int,
    ) -> BuyerDetails:
        """Kept `days` after `now`, the order's latest change: each change (payment, a new address, the
        cancellation that closes it) restarts the clock, so a closed order's buyer goes `days` after it
        closed."""
        return cls(checkout_form_id, account, buyer, delivery, int(now) + days * DAY_SECONDS)


@dataclass(frozen=True)
class LineOwner:
    """Which checkout form carries a purchase (line item) now, and the sale id the ledger keeps it under."""

    checkout_form_id: str
    sale_id: str


def order_message_id(form_id: str, version: int) -> str:
    """The outbox id of the record's `version`-th state: a resend after a crash keeps the same id."""
    return f"order:{form_id}:v{version}"


def event_id_after(old: str | None, new: str) -> bool:
    """Does moving the cursor from `old` to `new` go forward? Ids are opaque strings (real ones look like
    microsecond timestamps, #5576, but nothing promises it): the journal's own order is the truth (`from` is
    exclusive, so whatever it returns is after the cursor). Only the cursor's own id coming back is a loop."""
    return old is None or new != old
