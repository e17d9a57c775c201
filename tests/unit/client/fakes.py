"""Test doubles for the Allegro client: a scripted Allegro behind httpx.MockTransport, tokens, a clock."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

from allegro_sync.adapters.allegro.client import MEDIA_TYPE, AllegroClient
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from tests.fixtures.clock import FakeClock

ENV = AllegroEnvironment("https://api.test", "https://upload.test", "https://site.test")

Handler = Callable[[httpx.Request], httpx.Response]


def reply(status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"content-type": MEDIA_TYPE, **(headers or {})})


def allegro_error(status: int, code: str, user_message: str = "", **extra: Any) -> httpx.Response:
    entry = {"code": code, "message": f"{code} happened", "userMessage": user_message or None, **extra}
    return reply(status, {"errors": [entry]}, {"trace-id": "trace-123"})


class FakeAllegro:
    """Routes by (METHOD, path) to a handler or a queue of scripted responses; records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._routes: dict[tuple[str, str], Handler] = {}
        self._scripts: dict[tuple[str, str], deque[httpx.Response | Exception]] = {}

    def route(self, method: str, path: str, handler: Handler) -> None:
        self._routes[(method, path)] = handler

    def script(self, method: str, path: str, *answers: httpx.Response | Exception) -> None:
        self._scripts.setdefault((method, path), deque()).extend(answers)

    def calls(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.url.path == path)
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        script = self._scripts.get(key)
        if script:
            answer = script.popleft()
            if isinstance(answer, Exception):
                raise answer
            return answer
        if key in self._routes:
            return self._routes[key](request)
        return reply(404, {"errors": [{"code": "NOT_FOUND", "message": f"no route {key}"}]})


class FakeTokens:
    """A TokenSource whose tokens are `token-0`, `token-1`, ...; records what was rejected."""

    def __init__(self) -> None:
        self.current = "token-0"
        self.rejected: list[str] = []

    def access_token(self) -> str:
        return self.current

    def token_rejected(self, rejected_token: str) -> str:
        self.rejected.append(rejected_token)
        self.current = f"token-{len(self.rejected)}"
        return self.current


def make_client(
    allegro: FakeAllegro,
    *,
    tokens: FakeTokens | None = None,
    clock: FakeClock | None = None,
    guard: RateGuard | None = None,
    http: httpx.Client | None = None,
    **kwargs: Any,
) -> AllegroClient:
    clock = clock or FakeClock()
    return AllegroClient(
        ENV,
        tokens or FakeTokens(),
        account="seller-1",
        rate_guard=guard or RateGuard(InMemoryBlockedUntilStore(), clock=clock),
        http=http or httpx.Client(transport=httpx.MockTransport(allegro)),
        sleep=clock.sleep,
        **{"jitter": lambda: 1.0, **kwargs},
    )
