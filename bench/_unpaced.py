"""Function applications for benchmarks that time the code, not Allegro's pacing.

A deployed function's rate guard spends its share of the app's request budget and reads Allegro's block
from DynamoDB; a benchmark that sends a burst would then measure the budget. `UnpacedApplications` is
what such a benchmark gives `LocalRuntime(make_application=...)` instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.bootstrap import Application
from allegro_sync.settings import Settings

ALLEGRO_TIMEOUT_SECONDS = 10.0


class UnpacedApplications:
    """Builds each function instance's application with a rate guard that has no budget and keeps blocks
    in memory; with `on_request`, its Allegro client reports every request (to count calls by kind)."""

    def __init__(self, on_request: Callable[[httpx.Request], None] | None = None) -> None:
        self._on_request = on_request
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    def __call__(self, function_name: str, settings: Settings) -> Application:
        del function_name
        http = None
        if self._on_request is not None:
            http = httpx.Client(timeout=ALLEGRO_TIMEOUT_SECONDS, event_hooks={"request": [self._on_request]})
            with self._lock:
                self._clients.append(http)
        return Application(settings, rate_guard=RateGuard(InMemoryBlockedUntilStore()), http=http)

    def close(self) -> None:
        """Close the HTTP clients built here (an application does not own the client it was given)."""
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
