"""The stock ledger's decisions: what a SKU may still sell, and what every linked offer should show.

Pure: no I/O, no clock. The repository stores a `SkuLedger` (one item per SKU) and a `SaleRecord` (one item
per Allegro sale); the stock service reads both, asks this module what changes, and commits the answer with
conditional writes. Everything here is a function of its inputs, so property tests can hammer it.

The model (see docs/stock-ledger.md):
- the shop reports an absolute level `L` at shop time `t` (and a version when it has one);
- every Allegro sale is subtracted until the shop's level *reflects* it: the shop acknowledged applying the
  sale at shop time `a` (or at stock version `v`) and `L` was read at or after it. With versions the
  comparison is exact; with timestamps a sale counts as reflected only when `a <= t - clock_skew`, erring
  toward less stock.
  A stale webhook (sent before the shop knew of a sale) therefore still has the sale subtracted: it can never
  bring sold stock back, while a real restock reported after the acknowledgement is taken as it is;
- available = L - unreflected sales - buffer, clamped at 0. An unknown level gives `None` (HOLD), never 0 and
  never plenty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

_V = TypeVar("_V")

DEFAULT_CLOCK_SKEW = timedelta(seconds=5)
# Allegro keeps order events 60 days and has re-emitted old ones: a sale record must outlive any redelivery.
DEFAULT_SALE_RETENTION = timedelta(days=120)
MAX_ID_LENGTH = 200


class LedgerError(ValueError):
    """Bad input to the ledger; the operation changed nothing."""


def _check_id(what: str, value: object, max_length: int = MAX_ID_LENGTH) -> str:
    if not isinstance(value, str) or not value or len(value) > max_length or value != value.strip():
        raise LedgerError(f"{what} must be a non-empty string of at most {max_length} characters: {value!r}")
    return value


def _check_time(what: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise LedgerError(f"{what} must be a timezone-aware datetime: {value!r}")
    return value


def _check_count(what: str, value: object, minimum: int) -> int:
    # bool is an int in Python; a True quantity is a bug upstream, not one item.
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise LedgerError(f"{what} must be an integer >= {minimum}: {value!r}")
    return value


def _check_optional_count(what: str, value: object, minimum: int) -> int | None:
    return None if value is None else _check_count(what, value, minimum)


def sale_id_of(checkout_form_id: str, line_item_id: str) -> str:
    """The sale id of versions before combined payments were handled: `<form id>:<line item id>`.

    Kept because sale records and order records written then still carry it (they are read, never
    rewritten); new sales use `line_sale_id`."""
    _check_id("checkout form id", checkout_form_id, 100)
    _check_id("line item id", line_item_id, 100)
    return f"{checkout_form_id}:{line_item_id}"


def line_sale_id(line_item_id: str) -> str:
    """One sale per purchase (order line), keyed by Allegro's line item id alone.

    A combined payment moves the same line items into a NEW checkout form and deletes the old one
    (allegro-api #1111, #1705): keyed by the line item, the sale keeps its identity and is taken once."""
    return _check_id("line item id", line_item_id, 100)


@dataclass(frozen=True)
class LedgerPolicy:
    """Knobs of the reflection rule; larger skew means more caution (less stock shown), never oversell."""

    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    sale_retention: timedelta = DEFAULT_SALE_RETENTION

    def __post_init__(self) -> None:
        if self.clock_skew < timedelta(0):
            raise LedgerError("clock_skew must not be negative")
        if self.sale_retention <= timedelta(0):
            raise LedgerError("sale_retention must be positive")


@dataclass(frozen=True)
class ShopLevel:
    """The shop's absolute stock of a SKU at shop time `at`; `quantity=None` means the shop could not say."""

    quantity: int | None
    at: datetime
    version: int | None = None

    def __post_init__(self) -> None:
        if self.quantity is not None and (
            not isinstance(self.quantity, int) or isinstance(self.quantity, bool)
        ):
            raise LedgerError(f"shop quantity must be an integer or unknown (None): {self.quantity!r}")
        _check_time("shop level time", self.at)
        _check_optional_count("shop stock version", self.version, 0)

    @property
    def key(self) -> tuple[datetime, int]:
        """What 'newer' means for two reports of one SKU (same rule as shop events' `order_key`)."""
        return (self.at, -1 if self.version is None else self.version)


class SaleStatus(StrEnum):
    UNCONFIRMED = "UNCONFIRMED"
    DELIVERED_TO_SHOP = "DELIVERED_TO_SHOP"
    CANCELLED = "CANCELLED"


class Outcome(StrEnum):
    """What an operation did, so callers can log it and decide whether to propagate."""

    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"  # already applied: changed nothing
    STALE = "STALE"  # an older shop report than the one held: ignored
    CANCELLED_FIRST = "CANCELLED_FIRST"  # a sale and its cancellation met out of order: net zero


@dataclass(frozen=True)
class Sale:
    """The facts of one Allegro sale (one checkout form line), as the order worker reads them."""

    sale_id: str
    sku: str
    quantity: int
    sold_at: datetime
    account: str
    offer_id: str | None = None

    def __post_init__(self) -> None:
        _check_id("sale id", self.sale_id)
        _check_id("sku", self.sku, 100)
        _check_count("sale quantity", self.quantity, 1)
        _check_time("sold_at", self.sold_at)
        _check_id("account", self.account)
        if self.offer_id is not None:
            _check_id("offer id", self.offer_id)


@dataclass(frozen=True)
class SaleRecord:
    """One stored sale: the exactly-once guard and the history of what happened to it.

    A cancellation that arrives before its sale leaves a CANCELLED record without facts (`quantity=None`);
    the sale, when it comes, fills them in and stays CANCELLED, so it never takes stock.
    `rev` counts writes of this record; the repository conditions every write on it.
    """

    sale_id: str
    sku: str
    status: SaleStatus
    rev: int = 0
    quantity: int | None = None
    sold_at: datetime | None = None
    account: str | None = None
    offer_id: str | None = None
    shop_ack_at: datetime | None = None
    shop_ack_version: int | None = None
    cancelled_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class OpenSale:
    """A sale the shop's level does not reflect yet; held on the SKU item so one read decides availability."""

    quantity: int
    sold_at: datetime
    account: str
    ack_at: datetime | None = None
    ack_version: int | None = None


@dataclass(frozen=True)
class OfferLink:
    """An Allegro offer selling this SKU; `cap` limits what that offer shows (a per-account share)."""

    offer_id: str
    account: str
    cap: int | None = None

    def __post_init__(self) -> None:
        _check_id("offer id", self.offer_id)
        _check_id("account", self.account)
        _check_optional_count("offer cap", self.cap, 0)


def _frozen(mapping: Mapping[str, _V]) -> Mapping[str, _V]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class SkuLedger:
    """Everything that decides a SKU's availability. `revision` grows by one on every change."""

    sku: str
    revision: int = 0
    level: ShopLevel | None = None
    buffer: int | None = None
    category: str | None = None
    open_sales: Mapping[str, OpenSale] = field(default_factory=dict)
    offers: Mapping[str, OfferLink] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_id("sku", self.sku, 100)
        _check_optional_count("buffer", self.buffer, 0)
        object.__setattr__(self, "open_sales", _frozen(self.open_sales))
        object.__setattr__(self, "offers", _frozen(self.offers))

    def bumped(self) -> SkuLedger:
        """The same state one revision later: every change goes through here, so revisions never repeat."""
        return replace(self, revision=self.revision + 1)


class OfferAction(StrEnum):
    SET = "SET"  # show `quantity` (>= 1)
    END = "END"  # nothing to sell: stock 0 ends the offer
    HOLD = "HOLD"  # the level is unknown: change nothing on Allegro


@dataclass(frozen=True)
class OfferTarget:
    offer_id: str
    account: str
    action: OfferAction
    quantity: int | None


@dataclass(frozen=True)
class StockView:
    """What a SKU may sell at `revision`; push it only if nothing newer was pushed."""

    sku: str
    revision: int
    available: int | None
    offers: tuple[OfferTarget, ...]


# --- reflection and availability -------------------------------------------------------------------------


def is_reflected(sale: OpenSale, level: ShopLevel | None, policy: LedgerPolicy) -> bool:
    """Is this sale already in the shop's level? Unsure means no: subtract it (less stock, no oversell)."""
    if level is None or sale.ack_at is None:
        return False
    if sale.ack_version is not None and level.version is not None:
        return level.version >= sale.ack_version
    return sale.ack_at <= level.at - policy.clock_skew


def recheck_after(ledger: SkuLedger, policy: LedgerPolicy) -> datetime | None:
    """The shop time after which a fresh read of the shop's level settles every sale in doubt; None when
    nothing is.

    In doubt: a sale the shop acknowledged (at `a`, without a stock version both sides share) that the held
    level does not reflect. Mostly a level read within `clock_skew` of `a`, which the rule above keeps
    subtracting (never oversell) although it may well count the sale; also an `a` later than the truth (our
    time of a redelivered answer). Either way the offers may show too little, and a shop that changes
    nothing more never sends another level. A level read at or after `a + clock_skew` decides it.
    """
    level = ledger.level
    if level is None:
        return None
    doubtful = [
        s.ack_at
        for s in ledger.open_sales.values()
        if s.ack_at is not None
        and not (s.ack_version is not None and level.version is not None)
        and not is_reflected(s, level, policy)
    ]
    return max(doubtful) + policy.clock_skew if doubtful else None


def _prune(ledger: SkuLedger, policy: LedgerPolicy) -> dict[str, OpenSale]:
    return {sid: s for sid, s in ledger.open_sales.items() if not is_reflected(s, ledger.level, policy)}


def effective_buffer(ledger: SkuLedger, category_buffer: int | None = None) -> int:
    """The SKU's own buffer wins over its category's; none at all is 0."""
    if ledger.buffer is not None:
        return ledger.buffer
    return category_buffer or 0


def unreflected_quantity(ledger: SkuLedger, policy: LedgerPolicy) -> int:
    return sum(s.quantity for s in ledger.open_sales.values() if not is_reflected(s, ledger.level, policy))


def available(ledger: SkuLedger, policy: LedgerPolicy, category_buffer: int | None = None) -> int | None:
    """What every channel may still sell; None when the shop's level is unknown (never 0, never plenty)."""
    if ledger.level is None or ledger.level.quantity is None:
        return None
    left = (
        ledger.level.quantity
        - unreflected_quantity(ledger, policy)
        - effective_buffer(ledger, category_buffer)
    )
    return max(0, left)


def offer_target(link: OfferLink, available_quantity: int | None) -> OfferTarget:
    if available_quantity is None:
        return OfferTarget(link.offer_id, link.account, OfferAction.HOLD, None)
    shown = available_quantity if link.cap is None else min(available_quantity, link.cap)
    action = OfferAction.SET if shown > 0 else OfferAction.END
    return OfferTarget(link.offer_id, link.account, action, shown)


def view(ledger: SkuLedger, policy: LedgerPolicy, category_buffer: int | None = None) -> StockView:
    qty = available(ledger, policy, category_buffer)
    targets = tuple(offer_target(link, qty) for _, link in sorted(ledger.offers.items()))
    return StockView(ledger.sku, ledger.revision, qty, targets)


# --- SKU transitions ---------------------------------------------------------------------------------------


def apply_level(ledger: SkuLedger, level: ShopLevel, policy: LedgerPolicy) -> tuple[Outcome, SkuLedger]:
    """Take a newer shop report; an older one is STALE. Equal keys with different numbers keep the lower."""
    held = ledger.level
    if held is not None:
        if level.key < held.key:
            return Outcome.STALE, ledger
        if level.key == held.key:
            if level.quantity == held.quantity:
                return Outcome.DUPLICATE, ledger
            if held.quantity is not None and (level.quantity is None or level.quantity > held.quantity):
                return Outcome.DUPLICATE, ledger
    moved = replace(ledger, level=level)
    return Outcome.APPLIED, replace(moved, level=level, open_sales=_prune(moved, policy)).bumped()


def add_sale(ledger: SkuLedger, sale: Sale) -> SkuLedger:
    if sale.sku != ledger.sku:
        raise LedgerError(f"sale {sale.sale_id} is for {sale.sku}, not {ledger.sku}")
    if sale.sale_id in ledger.open_sales:
        return ledger
    opened = OpenSale(sale.quantity, sale.sold_at, sale.account)
    return replace(ledger, open_sales={**ledger.open_sales, sale.sale_id: opened}).bumped()


def drop_sale(ledger: SkuLedger, sale_id: str) -> SkuLedger:
    """A cancelled sale stops counting. If the shop had already applied it, its level gives the stock back."""
    if sale_id not in ledger.open_sales:
        return ledger
    return replace(ledger, open_sales={k: v for k, v in ledger.open_sales.items() if k != sale_id}).bumped()


def acknowledge_sale(
    ledger: SkuLedger, sale_id: str, ack_at: datetime, ack_version: int | None, policy: LedgerPolicy
) -> SkuLedger:
    if sale_id not in ledger.open_sales:
        return ledger
    acked = replace(ledger.open_sales[sale_id], ack_at=ack_at, ack_version=ack_version)
    moved = replace(ledger, open_sales={**ledger.open_sales, sale_id: acked})
    return replace(ledger, open_sales=_prune(moved, policy)).bumped()


def set_buffer(ledger: SkuLedger, buffer: int | None, category: str | None = None) -> SkuLedger:
    _check_optional_count("buffer", buffer, 0)
    if category is not None:
        _check_id("category", category)
    if (buffer, category) == (ledger.buffer, ledger.category):
        return ledger
    return replace(ledger, buffer=buffer, category=category).bumped()


def check_category_buffer(category: str, buffer: int | None) -> None:
    """A category's default buffer obeys the same rules as a SKU's own."""
    _check_id("category", category)
    _check_optional_count("buffer", buffer, 0)


def link_offer(ledger: SkuLedger, link: OfferLink) -> SkuLedger:
    if ledger.offers.get(link.offer_id) == link:
        return ledger
    return replace(ledger, offers={**ledger.offers, link.offer_id: link}).bumped()


def unlink_offer(ledger: SkuLedger, offer_id: str) -> SkuLedger:
    if offer_id not in ledger.offers:
        return ledger
    return replace(ledger, offers={k: v for k, v in ledger.offers.items() if k != offer_id}).bumped()


# --- sale record transitions (the exactly-once guard) -------------------------------------------------------


def record_sale(existing: SaleRecord | None, sale: Sale) -> tuple[Outcome, SaleRecord | None]:
    """First sight of a sale takes stock; a repeat changes nothing; after its cancellation, nothing either."""
    if existing is None:
        record = SaleRecord(
            sale.sale_id,
            sale.sku,
            SaleStatus.UNCONFIRMED,
            quantity=sale.quantity,
            sold_at=sale.sold_at,
            account=sale.account,
            offer_id=sale.offer_id,
        )
        return Outcome.APPLIED, record
    _same_sku(existing, sale.sku)
    if existing.status is SaleStatus.CANCELLED and existing.quantity is None:
        filled = replace(
            existing,
            rev=existing.rev + 1,
            quantity=sale.quantity,
            sold_at=sale.sold_at,
            account=sale.account,
            offer_id=sale.offer_id,
        )
        return Outcome.CANCELLED_FIRST, filled
    return Outcome.DUPLICATE, None


def record_cancellation(
    existing: SaleRecord | None, sale_id: str, sku: str, at: datetime, policy: LedgerPolicy
) -> tuple[Outcome, SaleRecord | None]:
    """Cancel once. Before the sale is known, leave a tombstone so the late sale takes nothing."""
    _check_id("sale id", sale_id)
    _check_id("sku", sku, 100)
    _check_time("cancelled_at", at)
    expires = at + policy.sale_retention
    if existing is None:
        tomb = SaleRecord(sale_id, sku, SaleStatus.CANCELLED, cancelled_at=at, expires_at=expires)
        return Outcome.CANCELLED_FIRST, tomb
    _same_sku(existing, sku)
    if existing.status is SaleStatus.CANCELLED:
        return Outcome.DUPLICATE, None
    cancelled = replace(
        existing, rev=existing.rev + 1, status=SaleStatus.CANCELLED, cancelled_at=at, expires_at=expires
    )
    return Outcome.APPLIED, cancelled


def record_delivery(
    existing: SaleRecord | None,
    *,
    sale_id: str,
    sku: str,
    ack_at: datetime,
    ack_version: int | None,
    policy: LedgerPolicy,
) -> tuple[Outcome, SaleRecord | None]:
    """The shop applied the sale at shop time `ack_at` (stock version `ack_version`). The first ack counts."""
    _check_time("shop ack time", ack_at)
    _check_optional_count("shop ack version", ack_version, 0)
    if existing is None or existing.quantity is None:
        raise LedgerError(f"unknown sale {sale_id!r} for {sku!r}: apply the sale before confirming it")
    _same_sku(existing, sku)
    if existing.shop_ack_at is not None:
        return Outcome.DUPLICATE, None
    status = SaleStatus.CANCELLED if existing.status is SaleStatus.CANCELLED else SaleStatus.DELIVERED_TO_SHOP
    expires = existing.expires_at or (ack_at + policy.sale_retention)
    acked = replace(
        existing,
        rev=existing.rev + 1,
        status=status,
        shop_ack_at=ack_at,
        shop_ack_version=ack_version,
        expires_at=expires,
    )
    return Outcome.APPLIED, acked


def _same_sku(existing: SaleRecord, sku: str) -> None:
    if existing.sku != sku:
        raise LedgerError(f"sale {existing.sale_id!r} belongs to {existing.sku!r}, not {sku!r}")
