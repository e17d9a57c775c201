"""Orders in, exactly once: the poller, the gap scan and the import, written against ports.

- `OrderPoller.run` polls `/order/events` every `interval_seconds` for `run_seconds` (one scheduled run),
  per account, from a cursor kept in DynamoDB. Each account's cursor is claimed with a lease first, so two
  overlapping runs never both enqueue, and moved with a compare-and-swap on its sequence number, so it only
  goes forward. Events are enqueued before the cursor moves: a crash re-reads them and FIFO
  de-duplication (event id) plus the idempotent import absorb the repeat. The first run starts at
  `event-stats.latestEvent` (history is the gap scan's business, not a flood of old events).
- `GapScanner.scan` lists checkout forms updated since its watermark (minus an overlap; first scan: since
  the poller's first position) and enqueues a notice for each form whose stored revision is behind: orders
  whose events Allegro skipped or delayed come in through the same queue and the same import.
- `OrderImporter.import_form` applies the current checkout form: each line is one sale, taken or given
  back by the stock ledger exactly once per sale id; the order record, an `OrderChanged` for the shop and a
  `StockChanged` per moved SKU follow. Emission happens before the record is saved, so a crash in between
  re-emits with the same ids instead of losing a message.
One account's failure never stops the others; a 429 stops everything (calling extends the block).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from allegro_sync.contracts.allegro import (
    CheckoutForm,
    OrderEvent,
    OrderEventStats,
    OrderLineItem,
)
from allegro_sync.contracts.allegro_errors import AllegroRateLimited
from allegro_sync.contracts.messages import OrderChanged, OrderNotice, OutboxLine, StockChanged
from allegro_sync.contracts.orders import CursorLost as CursorLost
from allegro_sync.contracts.orders import CursorState as CursorState
from allegro_sync.contracts.orders import OrderConflict as OrderConflict
from allegro_sync.domain.ledger import LedgerError, Outcome, Sale, StockView
from allegro_sync.domain.orders import (
    FormLine,
    LineAction,
    OrderDomainError,
    OrderRecord,
    PlannedLine,
    StockCountPoint,
    StoredLine,
    event_id_after,
    order_message_id,
    plan_lines,
    unknown_status_problem,
)
from allegro_sync.services.stock import StockResult

EVENTS_PAGE = 1000


# ---- ports ----------------------------------------------------------------------------------------------


class OrderEventsApi(Protocol):
    """The part of the Allegro client the poller uses (one seller account)."""

    def order_events(
        self, from_id: str | None = None, *, limit: int = 100, types: Sequence[str] = ()
    ) -> list[OrderEvent]: ...

    def order_event_stats(self) -> OrderEventStats: ...


class CheckoutFormsApi(Protocol):
    """The part of the Allegro client the gap scan and the worker use."""

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm: ...

    def iter_checkout_forms(
        self, *, status: str | None = None, updated_at_gte: str | None = None, max_pages: int = 50
    ) -> Iterator[CheckoutForm]: ...


class CursorStore(Protocol):
    def claim(self, account: str, owner: str, now: float, lease_seconds: float) -> CursorState | None:
        """Take the account's polling lease; None while another run holds an unexpired one."""
        ...

    def start(
        self, account: str, owner: str, event_id: str | None, now: float, lease_seconds: float
    ) -> CursorState:
        """Set the first position (only if none was ever set, and only by the lease holder)."""
        ...

    def advance(
        self, account: str, owner: str, *, expected_seq: int, event_id: str, now: float, lease_seconds: float
    ) -> CursorState:
        """Move to `event_id` if the cursor is still at `expected_seq` and we hold the lease."""
        ...

    def release(self, account: str, owner: str) -> None: ...

    def read(self, account: str) -> CursorState | None: ...

    def gap_watermark(self, account: str) -> datetime | None: ...

    def set_gap_watermark(self, account: str, value: datetime) -> None:
        """Only forward: an older value than the stored one changes nothing."""
        ...


class OrderQueue(Protocol):
    def publish(self, notices: Sequence[OrderNotice]) -> None: ...


class OrderRepository(Protocol):
    def get(self, checkout_form_id: str) -> OrderRecord | None: ...

    def save(self, record: OrderRecord, expected_version: int) -> None:
        """Write if the stored version is `expected_version` (0: no record yet), else OrderConflict."""
        ...


class StockPort(Protocol):
    """The stock ledger use cases the import needs (`services.stock.StockLedger`)."""

    def apply_sale(self, sale: Sale) -> StockResult: ...

    def apply_cancellation(self, sku: str, sale_id: str, cancelled_at: datetime) -> StockResult: ...


class ShopOutbox(Protocol):
    def publish_order(self, message: OrderChanged) -> None: ...


class StockChangeHook(Protocol):
    def publish(self, messages: Sequence[StockChanged]) -> None: ...


class OfferLinks(Protocol):
    def skus_for_offer(self, account: str, offer_id: str) -> list[str]:
        """The SKUs the catalogue links to `offer_id` on `account` (normally zero or one)."""
        ...


# ---- the poller -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollSettings:
    """One scheduled run: poll every `interval_seconds` for about `run_seconds` (0: one poll per run)."""

    run_seconds: float = 50.0
    interval_seconds: float = 5.0
    lease_seconds: float = 120.0
    max_pages: int = 10

    def __post_init__(self) -> None:
        if self.run_seconds < 0 or self.interval_seconds <= 0 or self.max_pages < 1:
            raise ValueError("run_seconds >= 0, interval_seconds > 0 and max_pages >= 1 are required")
        if self.lease_seconds <= self.run_seconds:
            raise ValueError("the cursor lease must outlast the run (lease_seconds > run_seconds)")


@dataclass
class AccountPoll:
    """What one run did for one account (returned by the handler, logged, shown in tests)."""

    polls: int = 0
    enqueued: int = 0
    cursor: str | None = None
    started_at: str | None = None
    skipped: str | None = None
    error: str | None = None


@dataclass
class PollReport:
    accounts: dict[str, AccountPoll] = field(default_factory=dict)
    ticks: int = 0
    blocked_until: float | None = None

    @property
    def enqueued(self) -> int:
        return sum(a.enqueued for a in self.accounts.values())


class OrderPoller:
    def __init__(
        self,
        cursors: CursorStore,
        queue: OrderQueue,
        *,
        settings: PollSettings | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        owner: str | None = None,
    ) -> None:
        self._cursors = cursors
        self._queue = queue
        self._settings = settings or PollSettings()
        self._clock = clock
        self._sleep = sleep
        self._owner = owner or uuid.uuid4().hex

    def run(self, apis: Mapping[str, OrderEventsApi], *, budget_seconds: float | None = None) -> PollReport:
        """Poll every account until the run's time is up; `budget_seconds` caps it (Lambda time left)."""
        settings = self._settings
        run_for = (
            settings.run_seconds if budget_seconds is None else min(settings.run_seconds, budget_seconds)
        )
        deadline = self._clock() + max(0.0, run_for)
        report = PollReport()
        active: dict[str, CursorState] = {}
        claimed: list[str] = []
        for account in sorted(apis):
            outcome = report.accounts[account] = AccountPoll()
            try:
                state = self._cursors.claim(account, self._owner, self._clock(), settings.lease_seconds)
            except Exception as error:
                outcome.error = _describe(error)
                continue
            if state is None:
                outcome.skipped = "another run holds this account's cursor"
            else:
                active[account] = state
                claimed.append(account)
                outcome.cursor = state.event_id
        try:
            while active:
                report.ticks += 1
                for account in list(active):
                    outcome = report.accounts[account]
                    try:
                        active[account] = self._poll_once(apis[account], active[account], outcome)
                    except AllegroRateLimited as blocked:
                        report.blocked_until = blocked.blocked_until
                        outcome.error = _describe(blocked)
                        active.clear()  # the whole Client ID is blocked: every call would extend it
                        break
                    except Exception as error:
                        outcome.error = _describe(error)
                        del active[account]
                if not active or self._clock() + settings.interval_seconds > deadline:
                    break
                self._sleep(settings.interval_seconds)
        finally:
            for account in claimed:
                self._release(account)
        return report

    def _release(self, account: str) -> None:
        # A failed release costs nothing: the lease expires on its own.
        with contextlib.suppress(Exception):
            self._cursors.release(account, self._owner)

    def _poll_once(self, api: OrderEventsApi, state: CursorState, outcome: AccountPoll) -> CursorState:
        settings = self._settings
        if not state.started:
            latest = api.order_event_stats().latest_event
            first = latest.id if latest is not None else None
            state = self._cursors.start(
                state.account, self._owner, first, self._clock(), settings.lease_seconds
            )
            outcome.started_at = first or "(empty journal)"
            outcome.cursor = state.event_id
        outcome.polls += 1
        for _ in range(settings.max_pages):
            events = api.order_events(state.event_id, limit=EVENTS_PAGE)
            if not events:
                break
            last = events[-1].id
            if not event_id_after(state.event_id, last):
                raise OrderDomainError(
                    f"Allegro returned event {last} after cursor {state.event_id}: refusing to go backwards"
                )
            notices = _notices(state.account, events)
            self._queue.publish(notices)
            state = self._cursors.advance(
                state.account,
                self._owner,
                expected_seq=state.seq,
                event_id=last,
                now=self._clock(),
                lease_seconds=settings.lease_seconds,
            )
            outcome.enqueued += len(notices)
            outcome.cursor = state.event_id
            if len(events) < EVENTS_PAGE:
                break
        return state


def _notices(account: str, events: Sequence[OrderEvent]) -> list[OrderNotice]:
    """One notice per distinct event id (a page may serve an event twice); events without a form are
    not orders we can import, so they only move the cursor."""
    seen: set[str] = set()
    notices: list[OrderNotice] = []
    for event in events:
        form = event.order.checkout_form
        if event.id in seen or form is None:
            continue
        seen.add(event.id)
        notices.append(
            OrderNotice(
                account=account,
                checkout_form_id=form.id,
                source="event",
                event_id=event.id,
                event_type=event.type,
                revision=form.revision,
                occurred_at=event.occurred_at,
            )
        )
    return notices


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


# ---- the gap scan ---------------------------------------------------------------------------------------


@dataclass
class AccountScan:
    seen: int = 0
    enqueued: int = 0
    since: str | None = None
    watermark: str | None = None
    skipped: str | None = None
    error: str | None = None


class GapScanner:
    """Back-fill from `/order/checkout-forms?updatedAt.gte=` for orders whose events never came."""

    def __init__(
        self,
        cursors: CursorStore,
        orders: OrderRepository,
        queue: OrderQueue,
        *,
        overlap: timedelta = timedelta(minutes=10),
    ) -> None:
        self._cursors = cursors
        self._orders = orders
        self._queue = queue
        self._overlap = overlap

    def scan(self, apis: Mapping[str, CheckoutFormsApi]) -> dict[str, AccountScan]:
        report: dict[str, AccountScan] = {}
        for account in sorted(apis):
            outcome = report[account] = AccountScan()
            try:
                self._scan_account(account, apis[account], outcome)
            except AllegroRateLimited as blocked:
                outcome.error = _describe(blocked)
                break
            except Exception as error:
                outcome.error = _describe(error)
        return report

    def _scan_account(self, account: str, api: CheckoutFormsApi, outcome: AccountScan) -> None:
        watermark = self._cursors.gap_watermark(account)
        if watermark is not None:
            since = watermark - self._overlap
        else:
            # History ends where the poller started (it ignores older events too): never earlier, or the
            # first scan after deployment would take stock for sales the shop's level already reflects.
            cursor = self._cursors.read(account)
            if cursor is None or cursor.started_at is None:
                outcome.skipped = "the poller has not started on this account yet"
                return
            since = datetime.fromtimestamp(cursor.started_at, UTC)
        outcome.since = allegro_time(since)
        newest = watermark
        notices: list[OrderNotice] = []
        for form in api.iter_checkout_forms(updated_at_gte=outcome.since):
            outcome.seen += 1
            stored = self._orders.get(form.id)
            if stored is None or stored.revision != form.revision or stored.attention:
                notices.append(
                    OrderNotice(
                        account=account,
                        checkout_form_id=form.id,
                        source="scan",
                        revision=form.revision,
                        occurred_at=form.updated_at,
                    )
                )
            updated = parse_time(form.updated_at)
            if updated is not None and (newest is None or updated > newest):
                newest = updated
        self._queue.publish(notices)
        outcome.enqueued = len(notices)
        # Moved only after everything found was queued: a crash re-scans the same window.
        if newest is not None and newest != watermark:
            self._cursors.set_gap_watermark(account, newest)
        outcome.watermark = allegro_time(newest) if newest else None


def allegro_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as Allegro writes date-times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---- the import -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    checkout_form_id: str
    status: str
    changed: bool
    taken: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()
    attention: tuple[str, ...] = ()
    stock_messages: int = 0


@dataclass
class _SkuChange:
    view: StockView
    cause: Literal["sale", "cancellation"]
    sale_ids: list[str]


class OrderImporter:
    def __init__(
        self,
        orders: OrderRepository,
        stock: StockPort,
        outbox: ShopOutbox,
        stock_changes: StockChangeHook,
        links: OfferLinks,
        *,
        count_at: StockCountPoint = StockCountPoint.BOUGHT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._orders = orders
        self._stock = stock
        self._outbox = outbox
        self._stock_changes = stock_changes
        self._links = links
        self._count_at = count_at
        self._clock = clock

    def import_form(self, account: str, form: CheckoutForm) -> ImportResult:
        """Apply the form's current state once; a repeat with nothing new changes and emits nothing."""
        existing = self._orders.get(form.id)
        if existing is not None and existing.account != account:
            raise OrderDomainError(
                f"checkout form {form.id} is recorded for account {existing.account!r}, not {account!r}"
            )
        lines = [_form_line(item) for item in form.line_items]
        status_problem = unknown_status_problem(form.status)
        planned = plan_lines(
            form.id,
            form.status,
            lines,
            self._count_at,
            lambda offer_id: self._links.skus_for_offer(account, offer_id),
        )
        taken = set(existing.taken) if existing else set()
        returned = set(existing.returned) if existing else set()
        attention = [status_problem] if status_problem else []
        changes: dict[str, _SkuChange] = {}
        for line in planned:
            if line.problem:
                attention.append(line.problem)
            if status_problem or line.sku is None:
                continue
            try:
                self._apply_line(
                    account=account, form=form, line=line, taken=taken, returned=returned, changes=changes
                )
            except LedgerError as error:
                attention.append(f"line {line.line.line_item_id}: {error}")
        record = OrderRecord(
            checkout_form_id=form.id,
            account=account,
            status=form.status,
            revision=form.revision,
            updated_at=form.updated_at,
            lines=tuple(_stored(p) for p in planned),
            taken=frozenset(taken),
            returned=frozenset(returned),
            attention=tuple(attention),
            version=(existing.version if existing else 0) + 1,
        )
        if existing is not None and existing.same_state(record):
            return ImportResult(form.id, form.status, changed=False, attention=record.attention)
        stock_messages = [
            StockChanged.from_view(
                c.view, cause=c.cause, checkout_form_id=form.id, account=account, sale_ids=tuple(c.sale_ids)
            )
            for _, c in sorted(changes.items())
        ]
        if stock_messages:
            self._stock_changes.publish(stock_messages)
        self._outbox.publish_order(_order_changed(record, form))
        self._orders.save(record, existing.version if existing else 0)
        before_taken = existing.taken if existing else frozenset()
        before_returned = existing.returned if existing else frozenset()
        return ImportResult(
            form.id,
            form.status,
            changed=True,
            taken=tuple(sorted(record.taken - before_taken)),
            returned=tuple(sorted(record.returned - before_returned)),
            attention=record.attention,
            stock_messages=len(stock_messages),
        )

    def _apply_line(
        self,
        *,
        account: str,
        form: CheckoutForm,
        line: PlannedLine,
        taken: set[str],
        returned: set[str],
        changes: dict[str, _SkuChange],
    ) -> None:
        assert line.sku is not None
        sale_id = line.sale_id
        if line.action is LineAction.TAKE and sale_id not in taken and sale_id not in returned:
            sold_at = parse_time(line.line.bought_at) or datetime.fromtimestamp(self._clock(), UTC)
            sale = Sale(sale_id, line.sku, line.line.quantity, sold_at, account, line.line.offer_id)
            result = self._stock.apply_sale(sale)
            if result.outcome is Outcome.CANCELLED_FIRST:
                returned.add(sale_id)  # its cancellation was applied first: this sale takes nothing
                return
            taken.add(sale_id)
            _note(changes, line.sku, result, "sale", sale_id)
        elif line.action is LineAction.GIVE_BACK and sale_id not in returned:
            cancelled_at = parse_time(form.updated_at) or datetime.fromtimestamp(self._clock(), UTC)
            result = self._stock.apply_cancellation(line.sku, sale_id, cancelled_at)
            if sale_id in taken or result.outcome is Outcome.APPLIED:
                returned.add(sale_id)
                _note(changes, line.sku, result, "cancellation", sale_id)
            # else: never counted (cancelled before it counted): the ledger keeps a tombstone, stock unchanged

    def record_unreachable(self, notice: OrderNotice, reason: str) -> bool:
        """The form cannot be read for this account (not connected, not found): make it visible to the
        seller instead of retrying forever. The gap scan re-enqueues it (no revision is stored)."""
        existing = self._orders.get(notice.checkout_form_id)
        problem = f"could not read the order from Allegro for account {notice.account!r}: {reason}"
        if existing is not None and problem in existing.attention:
            return False
        record = OrderRecord(
            checkout_form_id=notice.checkout_form_id,
            account=existing.account if existing else notice.account,
            status=existing.status if existing else "UNKNOWN",
            revision=None,
            updated_at=existing.updated_at if existing else notice.occurred_at,
            lines=existing.lines if existing else (),
            taken=existing.taken if existing else frozenset(),
            returned=existing.returned if existing else frozenset(),
            attention=(*(existing.attention if existing else ()), problem),
            version=(existing.version if existing else 0) + 1,
        )
        self._orders.save(record, existing.version if existing else 0)
        return True


def _note(
    changes: dict[str, _SkuChange],
    sku: str,
    result: StockResult,
    cause: Literal["sale", "cancellation"],
    sale_id: str,
) -> None:
    held = changes.get(sku)
    if held is None:
        changes[sku] = _SkuChange(result.view, cause, [sale_id])
        return
    held.sale_ids.append(sale_id)
    if result.view.revision >= held.view.revision:
        held.view, held.cause = result.view, cause


def _form_line(item: OrderLineItem) -> FormLine:
    external = item.offer.external.id if item.offer.external is not None else None
    return FormLine(
        line_item_id=item.id,
        offer_id=item.offer.id,
        quantity=item.quantity,
        external_id=external,
        unit_price=item.price.amount if item.price else None,
        currency=item.price.currency if item.price else None,
        bought_at=item.bought_at,
    )


def _stored(planned: PlannedLine) -> StoredLine:
    line = planned.line
    return StoredLine(
        line_item_id=line.line_item_id,
        sale_id=planned.sale_id,
        offer_id=line.offer_id,
        sku=planned.sku,
        quantity=line.quantity,
        unit_price=line.unit_price,
        currency=line.currency,
    )


def _order_changed(record: OrderRecord, form: CheckoutForm) -> OrderChanged:
    def effect(sale_id: str) -> Literal["TAKEN", "RETURNED", "NONE"]:
        if sale_id in record.returned:
            return "RETURNED" if sale_id in record.taken else "NONE"
        return "TAKEN" if sale_id in record.taken else "NONE"

    return OrderChanged(
        message_id=order_message_id(record.checkout_form_id, record.version),
        account=record.account,
        checkout_form_id=record.checkout_form_id,
        revision=record.revision,
        status=record.status,
        updated_at=record.updated_at,
        lines=tuple(
            OutboxLine(
                line_item_id=line.line_item_id,
                sale_id=line.sale_id,
                offer_id=line.offer_id,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                currency=line.currency,
                stock_effect=effect(line.sale_id),
            )
            for line in record.lines
        ),
        needs_attention=record.attention,
        buyer=form.buyer,
        delivery=form.delivery,
        payment=form.payment,
        summary=form.summary,
    )
