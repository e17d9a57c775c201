"""Building clients inside a Lambda: one rate guard and one connection pool per process.

Every client of a process must share the same `RateGuard`: the per-instance budget (ALLEGRO_RPM_BUDGET)
is a budget for the whole process, however many seller accounts it serves. Sharing the httpx pool keeps
TLS connections to Allegro warm across invocations.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import httpx

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import RateGuard
from allegro_sync.adapters.dynamodb.rate_limit import rate_guard_from_env
from allegro_sync.ports import TokenSource

_lock = threading.Lock()
_shared: tuple[RateGuard, httpx.Client] | None = None


def process_rate_guard() -> RateGuard:
    return _process_shared()[0]


def _process_shared() -> tuple[RateGuard, httpx.Client]:
    global _shared  # noqa: PLW0603 - one guard per process is the point
    with _lock:
        if _shared is None:
            _shared = (rate_guard_from_env(), httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0)))
        return _shared


def client_from_env(
    tokens: TokenSource, *, account: str, environ: Mapping[str, str] | None = None
) -> AllegroClient:
    """A client for one seller account, hosts from ALLEGRO_* variables, sharing the process's guard."""
    guard, http = _process_shared()
    return AllegroClient(
        AllegroEnvironment.from_env(environ), tokens, account=account, rate_guard=guard, http=http
    )
