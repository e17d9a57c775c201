"""The marketplace's whole mutable state, the fault knobs and the scheduler of asynchronous work.

Allegro finishes many things later than the request that asked for them (offer operations, batch
command tasks, ending an offer whose stock went to 0, order events that lag). All of that is queued
here against the emulator `Clock`, so a test jumps ahead with `clock.advance` instead of sleeping.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from allegro_sync.emulator.market.catalogue import Catalogue
from allegro_sync.emulator.market.messaging import Inbox
from allegro_sync.emulator.market.shipments import Wza
from allegro_sync.emulator.types import Clock

ARCHIVE_AFTER = timedelta(days=60)  # #10743: ended > 60 days ago -> archived, the id answers 404
ORDER_EVENT_RETENTION = timedelta(days=60)  # #5626, #11417
OFFER_EVENT_RETENTION = timedelta(hours=24)
SALES_WINDOW = timedelta(days=30)  # stock.sold and stats are 30-day figures


@dataclass
class Faults:
    """Switchable misbehaviour and timings (scalars only: the emulator's admin API sets them by name).

    Delays are emulated seconds; with 0 the work finishes on the next request, which still shows the
    "counts are 0 right after the PUT" behaviour (#6260) without slowing tests down.
    """

    order_event_delay_seconds: float = 0.0  # events appear only this long after they happened
    order_event_duplicate_rate: float = 0.0  # share of events served twice with the same id
    order_event_skip_rate: float = 0.0  # share of READY_FOR_PROCESSING not emitted at first (#8498)
    order_event_reemit_after_seconds: float = 3600.0  # ... and re-emitted later with a NEW id
    patch_conflict_rate: float = 0.0  # share of PATCHes answering 409 as if an edit were running
    async_offer_share: float = 0.0  # share of POST/PATCH product-offers answering 202 + operation
    offer_operation_seconds: float = 0.0  # how long such an operation runs
    offer_end_delay_seconds: float = 0.0  # PATCH stock 0 ends an ACTIVE offer after this delay
    command_delay_seconds: float = 0.0  # batch command tasks complete after this delay
    activation_overtakes_rate: float = 0.0  # share of publication commands run before earlier work (#10251)
    # --- allegro-orders: combined payments and changes after payment (docs/allegro-behaviours.md) ---
    combined_payments: bool = True  # paying several purchases together merges them into a NEW form (#1111)
    post_payment_changes: bool = (
        True  # the buyer may change the address or cancel a paid order (#3730, #3085)
    )
    # allegro-limits: share of 202 operations that fail; a failed create leaves an INACTIVE draft (#11011)
    offer_operation_failure_rate: float = 0.0
    # --- issue 14, items 6-8 (allegro-misc): beyond the spec, on by default (docs/allegro-behaviours.md) ---
    image_ttl_seconds: float = 10800.0  # an unused upload expires after hours, not a day (#2584, #4454)
    waybill_max_orders: int = 3  # a waybill on this many of a seller's orders: the next one answers 409
    shipment_sets_sent: bool = True  # Allegro marks a form SENT itself once every line item has a parcel
    microsecond_event_ids: bool = True  # order event ids look like microsecond timestamps (#5576)
    # The next N activations refuse stock >= 1 as below 1 (#9846, #3514: Allegro's own stale stock; it
    # passes on a later try). Off by default: Allegro's bug comes and goes, a count keeps tests exact.
    stale_stock_refusals: int = 0
    # Every offer must carry a responsible producer and safety information (#11239, #10772), as in the
    # categories GPSR covers. Off by default: the public API does not say which categories those are (#11422).
    gpsr_required: bool = False
    # --- issue 16, item 1 (marketplaces): CZK prices take whole korunas only (#7323, #8661, #13367) ---
    whole_czk: bool = True
    # --- issue 15, item 3 (returns): beyond the spec, on by default (docs/allegro-behaviours.md) ---
    # A second commission refund claim for a line item answers 422 ClaimExistsException (#9992), even when
    # the first was rejected; off: the spec alone, which creates another claim.
    refund_claim_once: bool = True
    # --- issue 15, item 1 (labels): Ship with Allegro (market/shipments.py, docs/allegro-behaviours.md) ---
    shipment_command_seconds: float = 0.0  # create/cancel/pickup commands stay IN_PROGRESS this long
    label_needs_octet_accept: bool = True  # label/protocol answer 406 unless Accept names octet-stream
    # --- issue 15, item 4 (messages): a buyer's message reaches the API dated this long before (its createdAt
    # is when it was written, not confirmed: #13907); 0 = the spec alone (dated when it shows)
    message_backdated_seconds: float = 600.0


@dataclass
class Seller:
    id: str
    company: bool = True
    login: str = ""


@dataclass
class OfferContent:
    """An offer as its seller describes it: what a validated create/edit body carries and an `Offer` keeps."""

    name: str
    category_id: str
    product_id: str | None
    parameters: list[dict[str, Any]]
    product_parameters: list[dict[str, Any]]
    price: Decimal
    stock: int
    unit: str
    description: dict[str, Any] | None
    images: list[str]
    external_id: str | None
    extras: dict[str, Any]
    safety: list[dict[str, Any]]  # GPSR fields of each productSet[] element (market/gpsr.py)
    markets: dict[
        str, Decimal
    ]  # additional marketplace -> the seller's price in its currency (marketplaces.py)


@dataclass
class Offer(OfferContent):
    id: str
    seller_id: str
    created_at: datetime
    updated_at: datetime
    status: str = "INACTIVE"
    ended_by: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    sales: list[tuple[datetime, int]] = field(default_factory=list)
    visits: int = 0
    watchers: int = 0
    busy_until: datetime | None = None  # a 202 edit is still running: PATCH answers 409
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # marketplace id -> rule assignment
    campaign: dict[str, Any] | None = None  # an Allegro campaign owns the buyer's price (#13617, #9578)

    def archived(self, now: datetime) -> bool:
        return self.status == "ENDED" and self.ended_at is not None and now - self.ended_at > ARCHIVE_AFTER

    def sold(self, now: datetime) -> int:
        return sum(q for at, q in self.sales if now - at <= SALES_WINDOW)


@dataclass
class Operation:
    id: str
    offer_id: str
    started_at: datetime
    done: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)  # a failed operation's errors (#11011)


@dataclass
class Command:
    """A batch command (quantity, price, publication or price automation)."""

    kind: str
    id: str
    seller_id: str
    created_at: datetime
    offer_ids: list[str]
    modification: dict[str, Any]
    tasks: list[dict[str, Any]] | None = None  # None until processed: counts read 0 (#6260)
    completed_at: datetime | None = None


@dataclass
class EventRecord:
    id: str
    seller_id: str
    type: str
    occurred_at: datetime
    payload: dict[str, Any]


@dataclass
class CheckoutForm:
    id: str
    seller_id: str
    status: str
    buyer: dict[str, Any]
    line_items: list[dict[str, Any]]
    delivery: dict[str, Any]
    total: Decimal
    bought_at: datetime
    updated_at: datetime
    revision: str
    payment: dict[str, Any] | None = None
    fulfillment_status: str = "NEW"
    shipments: list[dict[str, Any]] = field(default_factory=list)
    surcharges: list[dict[str, Any]] = field(default_factory=list)
    revision_counter: int = 0
    marketplace: str = "allegro-pl"  # where the buyer bought (issue 16: allegro-cz, -sk, -hu too)
    currency: str = "PLN"  # the currency of every amount on the form
    invoice_required: bool = False  # issue 15, item 2: the buyer asked for an invoice
    invoices: list[dict[str, Any]] = field(default_factory=list)  # the seller's (market/invoices.py)


@dataclass
class MarketState:
    """Everything the marketplace knows; guarded by the Marketplace's lock."""

    clock: Clock
    rng: Random
    catalogue: Catalogue
    faults: Faults = field(default_factory=Faults)
    sellers: dict[str, Seller] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    commands: dict[tuple[str, str], Command] = field(default_factory=dict)  # (kind, id) -> command
    rules: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # seller -> id -> rule
    images: dict[str, datetime | None] = field(default_factory=dict)  # location -> expiry (None: in use)
    checkout_forms: dict[str, CheckoutForm] = field(default_factory=dict)
    order_events: list[EventRecord] = field(default_factory=list)
    offer_events: list[EventRecord] = field(default_factory=list)
    gpsr: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)  # (seller, kind)
    # issue 16 (gpsr2): offer attachments by id (market/attachments.py)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # --- issue 15, item 3 (returns): customer returns, payment refunds, commission refund claims by id ---
    customer_returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    wza: Wza = field(default_factory=Wza)  # issue 15: Ship with Allegro (market/shipments.py)
    inbox: Inbox = field(default_factory=Inbox)  # issue 15, item 4: threads and issues (market/messaging.py)
    _queue: list[tuple[datetime, int, Callable[[], None]]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _offer_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7_700_000_001))
    _order_event_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(3_100_000_001))
    _offer_event_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5_200_000_001))
    _last_event_stamp: int = 0

    def now(self) -> datetime:
        return self.clock.now()

    def chance(self, rate: float) -> bool:
        """A fault that fires with probability `rate` (1.0 always, 0.0 never: tests stay deterministic)."""
        return rate >= 1.0 or (rate > 0.0 and self.rng.random() < rate)

    def schedule(self, delay_seconds: float, action: Callable[[], None]) -> None:
        due = self.now() + timedelta(seconds=max(0.0, delay_seconds))
        heapq.heappush(self._queue, (due, next(self._seq), action))

    def schedule_first(self, action: Callable[[], None]) -> None:
        """Queue `action` ahead of everything already waiting (Allegro reordering work, #10251)."""
        earliest = min([self.now()] + [due for due, _, _ in self._queue])
        heapq.heappush(self._queue, (earliest - timedelta(microseconds=1), next(self._seq), action))

    def run_due(self) -> int:
        """Run queued work whose time has come, oldest first; work may queue more work."""
        done = 0
        while self._queue and self._queue[0][0] <= self.now():
            _, _, action = heapq.heappop(self._queue)
            action()
            done += 1
        return done

    def pending(self) -> int:
        return len(self._queue)

    def next_offer_id(self) -> str:
        return str(next(self._offer_ids))

    def record_offer_event(self, offer: Offer, kind: str, extra: dict[str, Any] | None = None) -> None:
        """Offer events (`GET /sale/offer-events`): the offer id and the seller's external id."""
        payload: dict[str, Any] = {"id": offer.id, "external": _external(offer.external_id)}
        payload.update(extra or {})
        self.offer_events.append(
            EventRecord(
                str(next(self._offer_event_ids)), offer.seller_id, kind, self.now(), {"offer": payload}
            )
        )

    def next_order_event_id(self) -> str:
        """Real ids are microsecond timestamps, e.g. 1661520629376105 (#5576): strictly increasing here."""
        if not self.faults.microsecond_event_ids:
            return str(next(self._order_event_ids))
        stamp = int(self.now().timestamp() * 1_000_000)
        self._last_event_stamp = max(stamp, self._last_event_stamp + 1)
        return str(self._last_event_stamp)


def _external(external_id: str | None) -> dict[str, str]:
    return {"id": external_id} if external_id else {}
