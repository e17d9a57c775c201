"""Allegro's limits per user (seller), besides the 9,000/min per Client ID, and the User-Agent rule.

Real Allegro (docs/allegro-behaviours.md has the sources):
- product-offers writes (POST, PATCH) about 2,490/min and 74,700/h per user, reads 3,500/min (#12700,
  #13498, #11634); failed requests use the limit up faster (#13528); fee preview 25 req/s (#9832). Past a
  limit only that user's calls of that resource answer 429; the body says "per user" (#9832). The
  emulator adds `Retry-After` (seconds until a slot frees): a modelling choice, Allegro's is not documented.
- `GET /sale/products` is a leaky bucket per user: past its pace the answers slow down to 3.6-20 s
  (#10440, #11799, #13168), and too many parallel calls answer 429 (#13168, `RateLimitExceedException`
  as in #4630). `products_delay_scale` shrinks the delay for tests and the soak.
- every API call sends `<registered name>/<version> (+<URL>)` (#13126, #13527); OAuth is exempt (#13321).
Every number is a `Limits` field, so `set_faults` changes it while the server runs.
"""

from __future__ import annotations

import math
import re
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from allegro_sync.emulator.types import Clock, EmulatorRequest, EmulatorResponse, allegro_error

PER_USER_MESSAGE = "The maximum number of queries per user has been exceeded. Try again in a few moments."
# `Name/1.2.3 (+https://example.com/info)`: a name without spaces (Allegro's generator turns them into
# dashes, #13632), a version, and a URL in parentheses after a plus.
USER_AGENT = re.compile(r"^[^\s/()]+/[^\s/()]+ \(\+https?://[^\s()]+\)$")


class UserLimitSettings(Protocol):
    """The `Limits` fields this module reads."""

    user_limits: bool
    offer_writes_per_minute: int
    offer_writes_per_hour: int
    offer_reads_per_minute: int
    fee_previews_per_second: int
    failed_request_weight: int
    products_pace_per_minute: int
    products_burst: int
    products_delay_scale: float
    products_parallel: int
    require_user_agent: bool


@dataclass(frozen=True)
class Window:
    resource: str
    limit_field: str
    span: timedelta


def windows(method: str, path: str) -> tuple[Window, ...]:
    """The per-user windows a call counts against (none for most resources)."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["sale", "product-offers"] and "operations" not in parts:
        if method in ("POST", "PATCH"):
            return (
                Window("offer-writes", "offer_writes_per_minute", timedelta(minutes=1)),
                Window("offer-writes/h", "offer_writes_per_hour", timedelta(hours=1)),
            )
        if method == "GET" and len(parts) == 3:
            return (Window("offer-reads", "offer_reads_per_minute", timedelta(minutes=1)),)
    if method == "POST" and path == "/pricing/offer-fee-preview":
        return (Window("fee-preview", "fee_previews_per_second", timedelta(seconds=1)),)
    return ()


def is_products(method: str, path: str) -> bool:
    return method == "GET" and path.rstrip("/") == "/sale/products"


def user_agent_refusal(request: EmulatorRequest, settings: UserLimitSettings) -> EmulatorResponse | None:
    """403 for an API call without a conforming User-Agent. Allegro announced refusing such calls from July
    2026 (#13126) without publishing the answer; 403 with the error envelope is our model."""
    if not settings.require_user_agent or USER_AGENT.match(request.headers.get("user-agent", "")):
        return None
    return allegro_error(
        403,
        "USER_AGENT_REQUIRED",
        "Send User-Agent: <registered application name>/<version> (+<URL>)",
        user_message="The application does not identify itself with a conforming User-Agent header.",
    )


class UserLimiter:
    """Sliding windows per (seller, resource) and the `/sale/products` leaky bucket per seller."""

    def __init__(self, clock: Clock, settings: UserLimitSettings) -> None:
        self._clock = clock
        self._settings = settings
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], deque[datetime]] = {}
        self._level: dict[str, tuple[float, datetime]] = {}  # seller -> (bucket level, when)
        self._in_flight: dict[str, int] = {}
        self.refused = 0  # per-user 429s answered (the soak reports them)

    def refuse(self, request: EmulatorRequest) -> EmulatorResponse | None:
        """Count the call; a 429 per user when one of its windows is full (then it is not counted)."""
        seller = request.seller_id
        if not self._settings.user_limits or seller is None:
            return None
        now = self._clock.now()
        with self._lock:
            for window in windows(request.method, request.path):
                calls = self._trimmed(seller, window, now)
                if len(calls) >= int(getattr(self._settings, window.limit_field)):
                    free_in = (calls[0] + window.span - now).total_seconds()
                    self.refused += 1
                    return _per_user_429(max(1, math.ceil(free_in)))
            for window in windows(request.method, request.path):
                self._calls[(seller, window.resource)].append(now)
        return None

    def settle(self, request: EmulatorRequest, status: int) -> None:
        """A failed call uses the limit up faster (#13528): it counts `failed_request_weight` times."""
        seller = request.seller_id
        extra = self._settings.failed_request_weight - 1
        if seller is None or status < 400 or status == 429 or extra <= 0 or not self._settings.user_limits:
            return
        now = self._clock.now()
        with self._lock:
            for window in windows(request.method, request.path):
                self._trimmed(seller, window, now).extend([now] * extra)

    @contextmanager
    def products_call(self, request: EmulatorRequest) -> Iterator[tuple[EmulatorResponse | None, float]]:
        """Around a `GET /sale/products`: (a 429 for too many parallel calls, or None; seconds to delay)."""
        seller = request.seller_id
        settings = self._settings
        if not settings.user_limits or seller is None or not is_products(request.method, request.path):
            yield None, 0.0
            return
        with self._lock:
            if self._in_flight.get(seller, 0) >= settings.products_parallel:
                self.refused += 1
                refusal = allegro_error(429, "RateLimitExceedException", PER_USER_MESSAGE)
                refusal.headers["Retry-After"] = "1"
                yield refusal, 0.0
                return
            self._in_flight[seller] = self._in_flight.get(seller, 0) + 1
            delay = self._drip(seller)
        try:
            yield None, delay
        finally:
            with self._lock:
                self._in_flight[seller] -= 1

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._level.clear()

    def _trimmed(self, seller: str, window: Window, now: datetime) -> deque[datetime]:
        calls = self._calls.setdefault((seller, window.resource), deque())
        while calls and now - calls[0] >= window.span:
            calls.popleft()
        return calls

    def _drip(self, seller: str) -> float:
        """Add one call to the seller's bucket; past the burst the answer waits 3.6 s, growing to 20 s."""
        settings = self._settings
        now = self._clock.now()
        level, since = self._level.get(seller, (0.0, now))
        leaked = max(0.0, (now - since).total_seconds()) * settings.products_pace_per_minute / 60.0
        level = max(0.0, level - leaked) + 1.0
        self._level[seller] = (level, now)
        over = level - settings.products_burst
        if over <= 0:
            return 0.0
        return min(20.0, 3.6 + 0.8 * max(0.0, over - 1)) * settings.products_delay_scale


def _per_user_429(retry_after: int) -> EmulatorResponse:
    response = allegro_error(429, "TOO_MANY_REQUESTS", PER_USER_MESSAGE)
    response.headers["Retry-After"] = str(retry_after)
    return response
