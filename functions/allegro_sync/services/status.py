"""The operator's one-screen status: accounts, order polling, queues, DLQs, drift, Allegro block, repricing.

Why a service: the sections are computed from a `StatusSource` (DynamoDB + SQS in production, fakes in
tests) so each line's meaning is tested without AWS. Every section degrades on its own: a missing table,
queue or record becomes "n/a: <why>" and the rest of the screen still renders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from allegro_sync.contracts.accounts import AccountProfile
from allegro_sync.services.dlq import DlqSummary

# A token this close to expiry that the refresher (every minute) has not renewed is worth a look.
TOKEN_WARN_SECONDS = 10 * 60
# The order poller runs every minute; no event advanced for this long on a busy account is worth a look.
POLL_LAG_WARN_SECONDS = 15 * 60
RECONCILE_REASON_PREFIX = "reconciler:"


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    visible: int
    in_flight: int


@dataclass(frozen=True)
class OrderCursor:
    started_at: float | None  # epoch seconds polling of the account began
    advanced_at: float | None  # epoch seconds the last order event was taken


@dataclass(frozen=True)
class ReconcileChange:
    at: str  # ISO time
    account: str
    sku: str
    reason: str


class StatusSource(Protocol):
    def accounts(self) -> list[AccountProfile]: ...
    def order_cursor(self, account: str) -> OrderCursor | None: ...
    def queue_depths(self) -> list[QueueDepth]: ...
    def dead_letters(self) -> list[DlqSummary]: ...
    def blocked_until(self) -> float: ...
    def reconcile_changes(self) -> list[ReconcileChange]: ...
    def repricing_pause(self, account: str) -> tuple[datetime, str] | None: ...


@dataclass(frozen=True)
class Section:
    """One block of the screen; `unavailable` set means its data could not be read (rows empty)."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    unavailable: str | None = None
    warnings: int = 0  # rows that need the operator (rendered in red)


Rows = tuple[list[tuple[str, ...]], int]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def duration(seconds: float) -> str:
    """`1d02h`, `3h05m`, `4m07s`, `12s` — short enough for a table cell; negative means in the past."""
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    days, s = divmod(s, 86_400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{sign}{days}d{hours:02d}h"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m{s:02d}s"
    return f"{sign}{s}s"


def _section(title: str, columns: tuple[str, ...], build: Callable[[], Rows]) -> Section:
    try:
        rows, warnings = build()
    except LookupError as nothing:  # nothing to show, and the message says why
        return Section(title, columns, [], unavailable=f"n/a: {nothing}")
    except Exception as exc:  # one unreadable source must not hide the others
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Section(title, columns, [], unavailable=f"n/a: could not read it ({why})")
    return Section(title, columns, rows, warnings=warnings)


class _Screen:
    """The section builders of one status run; `accounts` is read once and shared by the per-account ones."""

    def __init__(self, source: StatusSource, now: float) -> None:
        self.source = source
        self.now = now
        self.accounts: list[AccountProfile] = []

    def _named_accounts(self) -> list[AccountProfile]:
        if not self.accounts:
            raise LookupError("no accounts (see Accounts)")
        return sorted(self.accounts, key=lambda p: p.name)

    def account_rows(self) -> Rows:
        self.accounts.extend(self.source.accounts())
        if not self.accounts:
            raise LookupError("no account connected (allegro-sync accounts connect NAME)")
        rows: list[tuple[str, ...]] = []
        warn = 0
        for a in self._named_accounts():
            left = a.token_expires_at - self.now
            warn += a.status.value != "CONNECTED" or bool(a.refresh_problem) or left < TOKEN_WARN_SECONDS
            expiry = f"{_iso(a.token_expires_at)} (in {duration(left)})" if left >= 0 else "EXPIRED"
            rows.append((a.name, a.shown_status, a.environment, expiry, a.what_to_do()))
        return rows, warn

    def poll_rows(self) -> Rows:
        rows: list[tuple[str, ...]] = []
        warn = 0
        for a in self._named_accounts():
            cursor = self.source.order_cursor(a.name)
            if cursor is None or cursor.started_at is None:
                rows.append((a.name, "never", "-", "not polled yet: is order_poller running?"))
                warn += 1
                continue
            last = cursor.advanced_at or cursor.started_at
            what = "order event taken" if cursor.advanced_at else "started, no order event yet"
            rows.append((a.name, _iso(last), duration(self.now - last), what))
        return rows, warn

    def queue_rows(self) -> Rows:
        depths = self.source.queue_depths()
        if not depths:
            raise LookupError("no queue found in this deployment")
        return [(q.queue, str(q.visible), str(q.in_flight)) for q in depths], 0

    def dlq_rows(self) -> Rows:
        summaries = self.source.dead_letters()
        if not summaries:
            raise LookupError("no dead-letter queue found in this deployment")
        rows: list[tuple[str, ...]] = [
            (
                s.queue,
                str(s.messages),
                duration(s.oldest_age_seconds) if s.oldest_age_seconds is not None else "-",
                f"allegro-sync dlq show {s.queue}" if s.messages else "",
            )
            for s in summaries
        ]
        return rows, sum(1 for s in summaries if s.messages)

    def drift_rows(self) -> Rows:
        changes = self.source.reconcile_changes()
        if not changes:
            raise LookupError("no repair by the reconciler on record (no drift found, or it never ran)")
        latest = max(changes, key=lambda c: c.at)
        same_day = [c for c in changes if c.at[:10] == latest.at[:10]]
        return [(latest.at, str(len(same_day)), f"{latest.account}/{latest.sku}: {latest.reason}")], 0

    def block_rows(self) -> Rows:
        until = self.source.blocked_until()
        if until > self.now:
            return [("BLOCKED", _iso(until), f"for {duration(until - self.now)} more: calls wait")], 1
        return [("ok", _iso(until) if until else "-", "not blocked")], 0

    def pause_rows(self) -> Rows:
        rows: list[tuple[str, ...]] = []
        warn = 0
        for a in self._named_accounts():
            pause = self.source.repricing_pause(a.name)
            if pause and pause[0].timestamp() > self.now:
                rows.append((a.name, "PAUSED", pause[0].isoformat(timespec="seconds"), pause[1]))
                warn += 1
            else:
                rows.append((a.name, "running", "-", ""))
        return rows, warn


def build_status(source: StatusSource, now: float) -> list[Section]:
    """Every section of `allegro-sync status`, computed at `now` (epoch seconds)."""
    screen = _Screen(source, now)
    return [
        _section("Accounts", ("account", "status", "env", "token expires", "to do"), screen.account_rows),
        _section("Order polling", ("account", "last advanced", "lag", "state"), screen.poll_rows),
        _section("Queues", ("queue", "waiting", "in flight"), screen.queue_rows),
        _section("Dead-letter queues", ("queue", "messages", "oldest", "inspect"), screen.dlq_rows),
        _section("Last reconcile repair", ("at", "repairs that day", "latest"), screen.drift_rows),
        _section("Allegro rate limit", ("state", "blocked until", "what it means"), screen.block_rows),
        _section("Repricing circuit breaker", ("account", "state", "until", "why"), screen.pause_rows),
    ]


def reconcile_changes_from_items(items: Sequence[dict[str, Any]]) -> list[ReconcileChange]:
    """Change-log items (pk `sku#<sku>`, sk `<ISO>#<account>#...`) written by the reconciler's repairs."""
    found = []
    for item in items:
        reason = str(item.get("reason", ""))
        if not reason.startswith(RECONCILE_REASON_PREFIX):
            continue
        at, account, *_ = [*str(item["sk"]).split("#"), ""]
        found.append(
            ReconcileChange(
                at, str(item.get("account", account)), str(item["pk"]).removeprefix("sku#"), reason
            )
        )
    return found


def cursor_from_item(item: dict[str, Any] | None) -> OrderCursor | None:
    """The order cursor item (pk `orders#<account>`, sk `event-cursor`) as the status needs it."""
    if not item:
        return None
    advanced = item.get("advanced_at")
    return OrderCursor(
        started_at=float(item["started_at"]) if "started_at" in item else None,
        advanced_at=datetime.fromisoformat(str(advanced)).timestamp() if advanced else None,
    )
