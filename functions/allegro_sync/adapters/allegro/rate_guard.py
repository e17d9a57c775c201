"""Keeps the whole app inside Allegro's 9,000 requests/minute per Client ID, and each seller inside its own.

Three mechanisms, all consulted before every call:
- a shared "blocked until" record: after one 429 every instance of every function stops calling until the
  block passes, because Allegro *extends* the block for every call made during it. The record lives in a
  store (DynamoDB in AWS); each process caches it for a few seconds so the hot path costs no I/O.
- the shared pool (`shared_budget.py`): every call takes a token of the current 10 s slot, drawn from
  one counter all functions share, so an import uses whatever the others leave; a per-process token
  bucket paces the instance itself (ALLEGRO_BURST_RPM for bulk functions, else ALLEGRO_RPM_BUDGET). When
  the pool is out of reach, the static share (ALLEGRO_RPM_BUDGET; the topology test keeps the sum of
  rpm x concurrency under 80% of 9,000) is the limit.
- per-seller blocks: a 429 that names a user limit (product-offers writes 2,490/min, fee preview 25/s,
  ...; docs/allegro-behaviours.md) stops only that seller's calls of that resource, until `Retry-After` (or
  `DEFAULT_USER_BLOCK_SECONDS`). Kept in the process: such a block does not grow when called, so another
  instance pays at most one 429 to learn it, and nothing is read from DynamoDB on the hot path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from aws_lambda_powertools import Logger

from allegro_sync.adapters.allegro.shared_budget import BudgetShare, PoolSpent, SharedBudget
from allegro_sync.contracts.allegro_errors import AllegroRateLimited, AllegroUserRateLimited

logger = Logger(child=True)

DEFAULT_BLOCK_SECONDS = 60.0
# A per-user limit counts a sliding minute; without Retry-After, wait a good part of it.
DEFAULT_USER_BLOCK_SECONDS = 30.0
DEFAULT_CACHE_SECONDS = 5.0
# Burst allowance as a fraction of a minute's budget: a fresh instance may send this many at once.
BURST_FRACTION = 0.1


class BlockedUntilStore(Protocol):
    """Where the app-wide "blocked until" moment (epoch seconds) is shared between processes."""

    def read_blocked_until(self) -> float:
        """The recorded moment, or 0.0 when there never was a block."""
        ...

    def extend_blocked_until(self, until: float) -> None:
        """Record `until` unless a later moment is already recorded (never moves backwards)."""
        ...


class InMemoryBlockedUntilStore:
    """A process-local store for tests and the CLI, where there is only one caller."""

    def __init__(self) -> None:
        self._until = 0.0
        self._lock = threading.Lock()
        self.reads = 0

    def read_blocked_until(self) -> float:
        with self._lock:
            self.reads += 1
            return self._until

    def extend_blocked_until(self, until: float) -> None:
        with self._lock:
            self._until = max(self._until, until)


class TokenBucket:
    """Spreads `rpm` requests evenly over a minute; `reserve()` says how long to wait for the next slot.

    A reservation is taken even when the bucket is empty (it goes into debt), so concurrent callers in one
    process queue up fairly instead of racing.
    """

    def __init__(self, rpm: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rpm < 1:
            raise ValueError(f"an Allegro request budget must be at least 1 per minute, got {rpm}")
        self.rate = rpm / 60.0
        self.capacity = max(1.0, rpm * BURST_FRACTION)
        self._tokens = self.capacity
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one request slot; the seconds to wait before using it (0.0 when one is free now)."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._last)  # a wall clock may step back (NTP)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
            self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class RateGuard:
    """Admission control for every Allegro call of this process."""

    def __init__(
        self,
        store: BlockedUntilStore,
        *,
        rpm_budget: int | None = None,
        clock: Callable[[], float] = time.time,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        share: BudgetShare | None = None,
    ) -> None:
        """`share`: this instance's draw on the app-wide pool (None: this process is the only caller)."""
        self._store = store
        self.share = share
        self._pool_until = 0.0
        self._clock = clock
        self._cache_seconds = cache_seconds
        self.bucket = TokenBucket(rpm_budget, clock=clock) if rpm_budget else None
        self._blocked_until = 0.0
        self._read_at: float | None = None
        self._user_blocks: dict[tuple[str, str], float] = {}  # (account, resource) -> until
        self._lock = threading.Lock()

    def blocked_until(self) -> float:
        """The app-wide block's end (epoch seconds), from the cache or, when stale, from the store."""
        now = self._clock()
        with self._lock:
            if self._blocked_until > now:
                return self._blocked_until
            if self._read_at is not None and now - self._read_at < self._cache_seconds:
                return self._blocked_until
            self._read_at = now
        try:
            stored = self._store.read_blocked_until()
        except Exception:  # the guard must not take the sync down with it; Allegro's 429 is the backstop
            logger.exception("could not read the Allegro rate-limit record; proceeding")
            return self._blocked_until
        with self._lock:
            self._blocked_until = max(self._blocked_until, stored)
            return self._blocked_until

    def blocked_for(self) -> float:
        """Seconds until the app-wide block ends by this guard's clock (0.0 when there is none)."""
        return max(0.0, self.blocked_until() - self._clock())

    def check(self, method: str = "", path: str = "") -> None:
        """Raise instead of calling while the Client ID is blocked: a call now would extend the block."""
        until = self.blocked_until()
        if until > self._clock():
            raise AllegroRateLimited(until, method=method, path=path)

    def admit(self, method: str = "", path: str = "", account: str | None = None) -> float:
        """`check` (and the seller's own block of this resource), then take a slot of this process's
        budget: the seconds to wait before sending."""
        self.check(method, path)
        if account is not None:
            self.check_user(account, method, path)
        wait = self.bucket.reserve() if self.bucket else 0.0
        if self.share is None:
            return wait
        write = resource_of(method, path) == "product-offers write"
        try:
            return self.share.reserve(wait, seller=account or "", write=write)
        except PoolSpent as spent:
            with self._lock:
                self._pool_until = max(self._pool_until, spent.until)
            raise AllegroRateLimited(spent.until, method=method, path=path) from spent

    def check_user(self, account: str, method: str, path: str) -> None:
        """Raise while this seller's limit on this resource lasts; other sellers and resources go on."""
        resource = resource_of(method, path)
        with self._lock:
            until = self._user_blocks.get((account, resource), 0.0)
        if until > self._clock():
            raise AllegroUserRateLimited(until, account=account, resource=resource, method=method, path=path)

    def record_user_block(self, account: str, method: str, path: str, retry_after: float | None) -> float:
        """Allegro answered a per-user 429: only this seller's calls of this resource wait."""
        seconds = retry_after if retry_after and retry_after > 0 else DEFAULT_USER_BLOCK_SECONDS
        until = self._clock() + seconds
        resource = resource_of(method, path)
        with self._lock:
            key = (account, resource)
            self._user_blocks[key] = max(self._user_blocks.get(key, 0.0), until)
        logger.warning(
            "Allegro limited one seller's calls of one resource",
            extra={"account": account, "resource": resource, "blocked_for_seconds": seconds},
        )
        return until

    def retry_in(self) -> float:
        """Seconds until the app-wide block, the latest per-seller block of this process or a spent shared
        pool ends: when a failed queue record should come back (0.0 when nothing is blocked)."""
        now = self._clock()
        with self._lock:
            users = max([*self._user_blocks.values(), self._pool_until], default=0.0)
        return max(self.blocked_for(), users - now, 0.0)

    def record_block(self, retry_after: float | None) -> float:
        """Allegro answered 429: remember (here and in the shared store) when calls may resume."""
        seconds = retry_after if retry_after and retry_after > 0 else DEFAULT_BLOCK_SECONDS
        until = self._clock() + seconds
        with self._lock:
            self._blocked_until = max(self._blocked_until, until)
        try:
            self._store.extend_blocked_until(until)
        except Exception:
            logger.exception("could not share the Allegro rate-limit block; other instances may call")
        logger.warning("Allegro blocked the Client ID", extra={"blocked_for_seconds": seconds})
        return until


def resource_of(method: str, path: str) -> str:
    """The unit a per-user limit counts: product-offers writes (POST and PATCH together) and reads, the
    `/sale/products` bucket, fee preview, else the method and the path's first two segments."""
    method = method.upper()
    parts = [p for p in path.split("?", 1)[0].strip("/").split("/") if p]
    if parts[:2] == ["sale", "product-offers"]:
        return "product-offers write" if method in ("POST", "PATCH") else "product-offers read"
    return f"{method} /{'/'.join(parts[:2])}"


def in_memory_rate_guard(
    rpm_budget: int | None = None, *, clock: Callable[[], float] = time.time
) -> RateGuard:
    """A guard for tests and the single-process CLI."""
    return RateGuard(InMemoryBlockedUntilStore(), rpm_budget=rpm_budget, clock=clock)


def pooled_rate_guard(
    store: BlockedUntilStore,
    pool: SharedBudget,
    *,
    rpm_budget: int,
    burst_rpm: int | None = None,
    clock: Callable[[], float] = time.time,
    undrawn: int = 0,
) -> RateGuard:
    """A function instance's guard on the shared pool: paced at `burst_rpm` (a bulk function, which leaves
    the pool's reserve alone) or `rpm_budget`, falling back to `rpm_budget` when the pool is unreachable.
    `undrawn`: a topology function's reads per slot sent without a draw (`shared_budget.UNDRAWN_PER_SLOT`)."""
    static = TokenBucket(rpm_budget, clock=clock)
    pace = burst_rpm or rpm_budget
    share = BudgetShare(
        pool,
        bulk=burst_rpm is not None,
        pace_rpm=pace,
        clock=clock,
        fallback=static.reserve,
        undrawn=undrawn,
    )
    return RateGuard(store, rpm_budget=pace, clock=clock, share=share)
