"""Order events in: the poller (`OrderPoller.run`) and the gap scan (`GapScanner.scan`).

`OrderPoller.run` polls `/order/events` every `interval_seconds` for `run_seconds` (one scheduled run),
per account, from a cursor kept in DynamoDB. Each account's cursor is claimed with a lease before anything
is enqueued (a one-poll run looks at the next page first, so an idle tick writes nothing), so two
overlapping runs never both enqueue, and moved with a compare-and-swap on its sequence number, so it only
goes forward. Events are enqueued before the cursor moves: a crash re-reads them and FIFO
de-duplication (event id) plus the idempotent import absorb the repeat. The first run starts at
`event-stats.latestEvent` (history is the gap scan's business, not a flood of old events).
`GapScanner.scan` lists checkout forms updated since its watermark (minus an overlap; first scan: since
the poller's first position) and enqueues a notice for each form whose stored revision is behind: orders
whose events Allegro skipped or delayed come in through the same queue and the same import.
One account's failure never stops the others; a 429 stops everything (calling extends the block).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from allegro_sync.contracts.allegro import (
    OrderEvent,
)
from allegro_sync.contracts.allegro_errors import AllegroRateLimited, AllegroUserRateLimited
from allegro_sync.contracts.messages import OrderNotice
from allegro_sync.contracts.orders import CursorState
from allegro_sync.domain.orders import OrderDomainError, OrderRecord, event_id_after
from allegro_sync.services.orders.ports import (
    EVENTS_PAGE,
    CheckoutFormsApi,
    CursorStore,
    OrderEventsApi,
    OrderQueue,
    OrderRepository,
)


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
        looked: dict[str, tuple[str | None, list[OrderEvent]]] = {}
        active = self._claim_all(apis, report, looked)
        claimed = list(active)
        if report.blocked_until is not None:
            active.clear()  # the whole Client ID is blocked: every call would extend it

        def poll(account: str) -> None:
            page = looked.pop(account, None)
            active[account] = self._poll_once(apis[account], active[account], report.accounts[account], page)

        def failed(account: str, error: Exception) -> None:
            report.accounts[account].error = _describe(error)
            del active[account]

        try:
            while active:
                report.ticks += 1
                blocked = until_blocked(list(active), poll, failed)
                if blocked is not None:
                    report.blocked_until = blocked.blocked_until
                    active.clear()  # the whole Client ID is blocked: every call would extend it
                if not active or self._clock() + settings.interval_seconds > deadline:
                    break
                self._sleep(settings.interval_seconds)
        finally:
            for account in claimed:
                self._release(account)
        return report

    def _claim_all(
        self,
        apis: Mapping[str, OrderEventsApi],
        report: PollReport,
        looked: dict[str, tuple[str | None, list[OrderEvent]]],
    ) -> dict[str, CursorState]:
        """Each account's cursor under this run's lease, unless an idle look found nothing new (what a look
        found goes to `looked`); stops at Allegro's application-wide block (`report.blocked_until`)."""
        active: dict[str, CursorState] = {}
        lease = self._settings.lease_seconds

        def claim(account: str) -> None:
            outcome = report.accounts[account] = AccountPoll()
            if self._nothing_new(apis[account], account, outcome, looked):
                return
            state = self._cursors.claim(account, self._owner, self._clock(), lease)
            if state is None:
                outcome.skipped = "another run holds this account's cursor"
            else:
                active[account] = state
                outcome.cursor = state.event_id

        def failed(account: str, error: Exception) -> None:
            report.accounts[account].error = _describe(error)

        blocked = until_blocked(sorted(apis), claim, failed)
        if blocked is not None:
            report.blocked_until = blocked.blocked_until
        return active

    def _nothing_new(
        self,
        api: OrderEventsApi,
        account: str,
        outcome: AccountPoll,
        looked: dict[str, tuple[str | None, list[OrderEvent]]],
    ) -> bool:
        """One poll per run (a tick, ~530,000 a month): look at the stored cursor's next page without the
        lease, so an idle poll writes nothing (issue 21: the claim and release were 2 writes per account
        per tick). Anything found is polled again under the lease, whose claim, compare-and-swap and
        release decide as before what is enqueued; the page is reused when the claimed cursor is the one
        looked from (a stale read costs a second look)."""
        if self._settings.run_seconds > 0:
            return False
        state = self._cursors.read(account)
        if state is None or not state.started:
            return False
        outcome.polls += 1  # a look is a poll, also one Allegro refuses
        events = api.order_events(state.event_id, limit=EVENTS_PAGE)
        if events:
            outcome.polls -= 1  # counted when it is polled again under the lease
            looked[account] = (state.event_id, events)
            return False
        outcome.cursor = state.event_id
        return True

    def _release(self, account: str) -> None:
        # A failed release costs nothing: the lease expires on its own.
        with contextlib.suppress(Exception):
            self._cursors.release(account, self._owner)

    def _poll_once(
        self,
        api: OrderEventsApi,
        state: CursorState,
        outcome: AccountPoll,
        looked: tuple[str | None, list[OrderEvent]] | None = None,
    ) -> CursorState:
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
            if looked is not None and looked[0] == state.event_id:  # the look's page, from this cursor
                events, looked = looked[1], None
            else:
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


_A = TypeVar("_A")


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def until_blocked(
    accounts: Iterable[str], work: Callable[[str], None], failed: Callable[[str, Exception], None]
) -> AllegroRateLimited | None:
    """`work` per account, in order. One account's failure, its own rate limit included, goes to `failed`
    and never stops the others; Allegro's app-wide block goes to `failed` too, stops the run and is
    returned (every further call would extend it)."""
    for account in accounts:
        try:
            work(account)
        except AllegroUserRateLimited as limited:  # this seller's limit: the others go on
            failed(account, limited)
        except AllegroRateLimited as blocked:  # the app's: stop until the block ends
            failed(account, blocked)
            return blocked
        except Exception as error:  # one account's failure never stops the others
            failed(account, error)
    return None


def each_account(apis: Mapping[str, _A], work: Callable[[str, _A], None]) -> dict[str, str | None]:
    """`work` per account, in order, by `until_blocked`'s rules. Account -> its error, or None."""
    errors: dict[str, str | None] = {}

    def one(account: str) -> None:
        errors[account] = None
        work(account, apis[account])

    def failed(account: str, error: Exception) -> None:
        errors[account] = _describe(error)

    until_blocked(sorted(apis), one, failed)
    return errors


class _Outcome(Protocol):
    error: str | None


_R = TypeVar("_R", bound=_Outcome)


def each_account_report(
    apis: Mapping[str, _A], new: Callable[[], _R], work: Callable[[str, _A, _R], None]
) -> dict[str, _R]:
    """`each_account` for a follower (returns, buyer messages) that reports per account: each account's
    outcome, its error filled in."""
    report: dict[str, _R] = {}
    errors = each_account(apis, lambda account, api: work(account, api, report.setdefault(account, new())))
    for account, error in errors.items():
        report.setdefault(account, new()).error = error
    return report


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

        def scan_one(account: str, api: CheckoutFormsApi) -> None:
            self._scan_account(account, api, report.setdefault(account, AccountScan()))

        for account, error in each_account(apis, scan_one).items():
            report.setdefault(account, AccountScan()).error = error
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
        for page in _pages(api.iter_checkout_forms(updated_at_gte=outcome.since), SCAN_PAGE):
            outcome.seen += len(page)
            stored = self._orders.get_many([form.id for form in page])  # one batched read per page
            behind = [f for f in page if _behind(stored.get(f.id), f.revision)]
            notices += [
                OrderNotice(account=account, checkout_form_id=f.id, source="scan", revision=f.revision,
                            occurred_at=f.updated_at)
                for f in behind
            ]  # fmt: skip
            for form in page:
                updated = parse_time(form.updated_at)
                if updated is not None and (newest is None or updated > newest):
                    newest = updated
        self._queue.publish(notices)
        outcome.enqueued = len(notices)
        # Moved only after everything found was queued: a crash re-scans the same window.
        if newest is not None and newest != watermark:
            self._cursors.set_gap_watermark(account, newest)
        outcome.watermark = allegro_time(newest) if newest else None


def _behind(stored: OrderRecord | None, revision: str | None) -> bool:
    """Not imported yet, imported at another revision, waiting for attention, or saved without its message
    reaching the outbox (the import's retries ran out between the two): the import should see it."""
    return stored is None or stored.revision != revision or bool(stored.attention) or not stored.published


SCAN_PAGE = 100  # checkout forms per batched read: Allegro's page and DynamoDB's BatchGetItem limit alike

_T = TypeVar("_T")


def _pages(found: Iterable[_T], size: int) -> Iterator[list[_T]]:
    page: list[_T] = []
    for item in found:
        page.append(item)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


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
