"""Bearer tokens for Allegro calls, renewed once when Allegro answers 401 (an `httpx.Auth`).

The client never refreshes tokens itself: it asks the account's `TokenSource`, so a refresh-token rotation
happens in exactly one place. One `TokenAuth` serves one logical call: however many times the client repeats
that call (5xx, timeouts), the token is renewed at most once, and a second 401 reaches the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx

from allegro_sync.contracts.accounts import TokenSource


class TokenAuth(httpx.Auth):
    """Sets `Authorization: Bearer ...`; on a 401, asks the token source for a new token and retries once.

    `before_retry` sees the 401 before the request is repeated: the client logs that answer and admits the
    repeat through its rate guard, as it does for every request it sends.
    """

    requires_request_body = True  # the repeat carries the same body

    def __init__(
        self, tokens: TokenSource, *, before_retry: Callable[[httpx.Response], None] = lambda _: None
    ) -> None:
        self._tokens = tokens
        self._before_retry = before_retry
        self._token: str | None = None
        self.renewed = False

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None:
            self._token = self._tokens.access_token()
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code != 401 or self.renewed:
            return
        self.renewed = True
        self._before_retry(response)
        self._token = self._tokens.token_rejected(self._token)
        # A new request, not the sent one edited: what was sent stays as it was (logs, tests, history).
        repeat = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.content,
            extensions=request.extensions,
        )
        repeat.headers["Authorization"] = f"Bearer {self._token}"
        yield repeat
