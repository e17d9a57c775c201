"""Allegro's 9,000 requests/minute shared between all functions by use, not by fixed shares.

Every function instance that calls Allegro draws tokens from one pool counted in 10-second slots (one
DynamoDB item per slot in AWS, `adapters/dynamodb/rate_limit.DynamoSharedBudget`). A draw is one atomic
conditional add, so the sum over all instances can never pass a slot's cap, however many there are:
- Allegro may count a sliding minute; any 60 s touches at most 7 slots, so a slot holds 9,000 x 0.9 / 7.
- Bulk work (the catalogue import) may fill a slot only up to `RESERVE_PER_SLOT` below the cap: the
  latency-critical functions (stock pushes, order polling) always find that much free, and whatever they
  leave unused the import takes.
- A seller's product-offer writes (2,490/min per user, docs/allegro-behaviours.md) are counted in the same
  draw, per seller, with the same sliding-minute margin.
An instance draws a few tokens at a time (at most what its own pace can use before the slot ends), so a
draw costs about one DynamoDB call per `MAX_CHUNK` Allegro calls. If the pool cannot be reached, the
instance falls back to its static share (`allegro_rpm`), whose sum over the topology stays under 80 % of
the limit (tests/unit/client/test_client_rpm_budget.py).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import NamedTuple, Protocol

from aws_lambda_powertools import Logger

from allegro_sync.topology import ALLEGRO_CLIENT_RPM_LIMIT, TOPOLOGY

logger = Logger(child=True)

SLOT_SECONDS = 10.0
SLOTS_PER_MINUTE = 6
# A sliding 60 s window overlaps at most 7 slots of 10 s; 10 % margin for in-flight calls and clock skew.
WINDOW_SLOTS = 7
SAFETY = 0.9
SLOT_CAP = math.floor(ALLEGRO_CLIENT_RPM_LIMIT * SAFETY / WINDOW_SLOTS)  # 1,157
# Kept free of bulk draws in every slot: 1,500/min for stock pushes, orders and fulfillment.
RESERVE_PER_SLOT = 250
# Allegro's per-user limit on product-offer writes (POST and PATCH /sale/product-offers).
SELLER_OFFER_WRITES_PER_MINUTE = 2_490
SELLER_WRITE_SLOT_CAP = math.floor(SELLER_OFFER_WRITES_PER_MINUTE * SAFETY / WINDOW_SLOTS)  # 320
MAX_CHUNK = 25
# Reads a latency-critical instance sends per slot without drawing: a lone stock push or order poll costs no
# DynamoDB write. Kept out of the pool for every such instance the topology can run at once.
UNDRAWN_PER_SLOT = 3
UNDRAWN_TOTAL = UNDRAWN_PER_SLOT * sum(
    f.reserved_concurrency or 0 for f in TOPOLOGY.functions if f.allegro_rpm and not f.allegro_burst_rpm
)
POOL_CAP = SLOT_CAP - UNDRAWN_TOTAL  # what draws may take of a slot
# How many slots ahead an instance looks for room (waits at most 30 s) before it reports the pool spent.
MAX_SLOTS_AHEAD = 3


class Draw(NamedTuple):
    """A draw's answer: whether it was granted, and the slot's counts after it (as they are, if refused)."""

    granted: bool
    used: int
    written: int = 0


class SharedBudget(Protocol):
    """The pool's store: one atomic, conditional add per draw."""

    def claim(
        self, slot: int, tokens: int, *, limit: int, seller: str = "", writes: int = 0, writes_limit: int = 0
    ) -> Draw:
        """Add `tokens` to the slot's count (and `writes` to `seller`'s) unless that would pass `limit`
        (or `writes_limit`)."""
        ...


class InMemorySharedBudget:
    """The pool in one process: for tests, the CLI and the simulation in tests/unit/client."""

    def __init__(self) -> None:
        self.used: dict[int, int] = {}
        self.writes: dict[tuple[int, str], int] = {}
        self.claims = 0
        self._lock = threading.Lock()

    def claim(
        self, slot: int, tokens: int, *, limit: int, seller: str = "", writes: int = 0, writes_limit: int = 0
    ) -> Draw:
        with self._lock:
            self.claims += 1
            used = self.used.get(slot, 0)
            written = self.writes.get((slot, seller), 0)
            if used + tokens > limit or (writes and written + writes > writes_limit):
                return Draw(False, used, written)
            self.used[slot] = used + tokens
            if writes:
                self.writes[(slot, seller)] = written + writes
            return Draw(True, used + tokens, written + writes)


class BudgetShare:
    """One instance's draw on the shared pool: tokens cached per slot, drawn a few at a time."""

    def __init__(
        self,
        budget: SharedBudget,
        *,
        bulk: bool,
        pace_rpm: int,
        clock: Callable[[], float],
        fallback: Callable[[], float],
        undrawn: int = 0,
    ) -> None:
        """`bulk`: leaves the reserve to the latency-critical functions. `pace_rpm`: this instance's own
        pace (bounds a draw). `fallback`: the static share's bucket, used while the pool is unreachable.
        `undrawn`: reads per slot sent without a draw (only a function instance the topology counts in
        `UNDRAWN_TOTAL` may have them)."""
        self._budget = budget
        self._limit = POOL_CAP - RESERVE_PER_SLOT if bulk else POOL_CAP
        self._undrawn = 0 if bulk else min(undrawn, UNDRAWN_PER_SLOT)
        self._free = 0
        self._pace = max(1.0, pace_rpm / 60.0)
        self._clock = clock
        self._fallback = fallback
        self._slot = -1
        self._tokens = 0
        self._writes: dict[str, int] = {}  # seller -> product-offer write tokens of `_slot`
        self._full = -1  # the latest slot this instance found full: no call is spent on it again
        self._room = self._limit  # what the slot's last answer left, for the next draw's size
        self._write_room: dict[str, int] = {}
        self._calls = self._written = 0
        self._lock = threading.Lock()

    def reserve(self, delay: float, *, seller: str = "", write: bool = False) -> float:
        """A token for a request to be sent `delay` seconds from now; the seconds to wait before sending.
        Raises `PoolSpent` when none of the next `MAX_SLOTS_AHEAD` slots has room."""
        now = self._clock()
        send_at = now + delay
        slot = int(send_at // SLOT_SECONDS)
        with self._lock:
            for _ in range(MAX_SLOTS_AHEAD):
                if slot <= self._full:
                    slot = self._full + 1
                    continue
                start = max(send_at, slot * SLOT_SECONDS)
                try:
                    if self._take(slot, start, seller, write):
                        return start - now
                except Exception:  # the pool is out of reach: the static share keeps us under the limit
                    logger.exception("could not draw on the shared Allegro budget; using the static share")
                    return max(delay, self._fallback())
                self._full = slot
                slot += 1
        raise PoolSpent((slot + 1) * SLOT_SECONDS)

    def _take(self, slot: int, start: float, seller: str, write: bool) -> bool:
        if slot != self._slot:
            self._slot, self._tokens, self._writes = slot, 0, {}
            self._room, self._write_room, self._free = self._limit, {}, self._undrawn
        if not write and self._tokens == 0 and self._free > 0:
            self._free -= 1
            return True
        need_tokens = self._tokens == 0
        need_writes = write and self._writes.get(seller, 0) == 0
        # A seller's writes ride along on a read's draw once this instance has written: one call, not two.
        along = need_tokens and not need_writes and bool(seller) and self._written > 0
        along = along and self._writes.get(seller, 0) == 0
        if need_tokens or need_writes:
            chunk = self._chunk(slot, start)
            for _ in range(2):  # a refusal says what is left: one more try for that much
                # What the last answer left caps the draw, so a nearly full slot costs no refused call.
                tokens = min(chunk, self._room) if need_tokens else 0
                writes = min(self._write_chunk(chunk), self._write_room.get(seller, SELLER_WRITE_SLOT_CAP))
                writes = writes if need_writes or along else 0
                if (need_tokens and not tokens) or (need_writes and not writes):
                    return False
                if self._draw(slot, tokens, seller, writes).granted:
                    break
                along = False  # refused: the read alone next
            else:
                return False
            self._tokens += tokens
            if writes:
                self._writes[seller] = writes
        self._tokens -= 1
        self._calls += 1
        if write:
            self._writes[seller] -= 1
            self._written += 1
        return True

    def _write_chunk(self, chunk: int) -> int:
        """Write tokens in proportion to this instance's writes so far: held unused, they starve others."""
        return max(1, math.ceil(chunk * (self._written + 1) / (self._calls + 2)))

    def _draw(self, slot: int, tokens: int, seller: str, writes: int) -> Draw:
        draw = self._budget.claim(
            slot, tokens, limit=self._limit, seller=seller, writes=writes, writes_limit=SELLER_WRITE_SLOT_CAP
        )
        self._room = max(0, self._limit - draw.used)
        if writes or not draw.granted:  # a granted read-only draw does not say what the seller wrote
            self._write_room[seller] = max(0, SELLER_WRITE_SLOT_CAP - draw.written)
        return draw

    def _chunk(self, slot: int, start: float) -> int:
        """No more than this instance can send before the slot ends: unused tokens are lost to everyone."""
        left = (slot + 1) * SLOT_SECONDS - start
        return max(1, min(MAX_CHUNK, math.ceil(self._pace * left)))


class PoolSpent(Exception):
    """No room in the shared pool for the coming minute; `until`: epoch seconds worth retrying at."""

    def __init__(self, until: float) -> None:
        super().__init__(f"the shared Allegro budget is spent until {until:.0f}")
        self.until = until
