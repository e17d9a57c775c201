"""The Allegro client's transport core: one seller account, Allegro's headers, retries, rate limits, logs.

Retry policy (why each rule exists):
- connection failures before the request left: always retried (nothing reached Allegro);
- timeouts and 5xx: retried only for idempotent calls (GET/PUT/PATCH and explicitly safe POSTs), because a
  retried `POST /sale/product-offers` could list the same product twice;
- 401: the token source is told once (`token_rejected`) and the call is repeated once with the new token
  (`auth.TokenAuth`, an `httpx.Auth`);
- 409 on `PATCH /sale/product-offers/{id}`: the previous edit is still processing, retried later;
- 429: never retried. When the answer names a user limit (`per user` in the message, or
  `RateLimitExceedException`: docs/allegro-behaviours.md) only this seller's calls of this resource wait,
  until `Retry-After` when Allegro sends one; any other 429 is the app-wide block (the Client ID is blocked
  and calling extends the block), recorded for every process;
- `/sale/products` is a leaky bucket that answers slowly rather than refusing (3.6-20 s, #10440): its
  calls get a read timeout above Allegro's slowest answer and a timed-out one is not repeated, because a
  repeat adds to the very bucket that is slowing us down; other 4xx are never retried.
Back-off is exponential with full jitter; `sleep` is injectable so tests (and the emulator clock) never wait.
The resource groups (`offers`, `commands`, `orders`, `catalogue`, `pricing`) build on `AllegroCore`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from aws_lambda_powertools import Logger
from pydantic import BaseModel

from allegro_sync.adapters.allegro.auth import TokenAuth
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard, resource_of
from allegro_sync.contracts.accounts import TokenSource
from allegro_sync.contracts.allegro_errors import (
    TRACE_ID_HEADER,
    AllegroError,
    AllegroRateLimited,
    AllegroUnavailable,
    AllegroUserRateLimited,
    InvalidCommand,
    error_for,
    parse_error_details,
)

logger = Logger(child=True)

MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
# Sent only when the deployment has not stored its registered application's name, version and URL yet
# (`accounts set-app`); Allegro wants the deployer's own registered name (#13126).
USER_AGENT = "allegro-sync/0.1 (+https://github.com/allegro-sync)"
# Leaky-bucket resources: Allegro slows them down to 20 s rather than refusing (#10440, #11799).
SLOW_BUCKET_PATHS = frozenset({"/sale/products"})
SLOW_BUCKET_TIMEOUT = httpx.Timeout(25.0, connect=3.0)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
# Allegro's per-page maximum.
PAGE_LIMIT = 1000

_Model = TypeVar("_Model", bound=BaseModel)


class AllegroCore:
    """Sends one logical call to Allegro for one seller account, with the retry policy above."""

    def __init__(
        self,
        environment: AllegroEnvironment,
        tokens: TokenSource,
        *,
        account: str,
        rate_guard: RateGuard | None = None,
        http: httpx.Client | None = None,
        accept_language: str = "pl-PL",
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_conflict_retries: int = 5,
        max_wait_seconds: float = 20.0,
        jitter: Callable[[], float] = random.random,
        user_agent: str = USER_AGENT,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.environment = environment
        self.account = account
        self._tokens = tokens
        # Without a shared store a client still remembers its own 429, so it never extends a block itself.
        self._guard = rate_guard or RateGuard(InMemoryBlockedUntilStore())
        self._http = http or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        self._accept_language = accept_language
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_conflict_retries = max_conflict_retries
        self._max_wait = max_wait_seconds
        self._jitter = jitter
        self._user_agent = user_agent
        self._trusted_origins = {_origin(environment.api_url), _origin(environment.upload_url)}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        host: Literal["api", "upload"] = "api",
        idempotent: bool | None = None,
        retry_conflict: bool = False,
        conflict_after_retry_ok: bool = False,
        language: str | None = None,
        media_type: str = MEDIA_TYPE,
        accept: str | None = None,
    ) -> httpx.Response:
        """One logical call with Allegro's headers and the retry policy of this module's docstring.

        `conflict_after_retry_ok`: a 409 after a possibly delivered attempt means our own earlier attempt
        succeeded (a command id is single-use), so the 409 response is returned instead of raised.
        `language` overrides Accept-Language for operations whose spec allows only one language.
        `media_type`: Accept and JSON body type (a beta resource declares only its beta type).
        """
        method = method.upper()
        url = self._url(path, host)
        log_path = urlsplit(url).path
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
            content_type = media_type
        query = _query(params)
        safe_to_repeat = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        slow_bucket = log_path in SLOW_BUCKET_PATHS
        exchange = _Exchange(method, log_path)
        # One per logical call: the token is renewed at most once however often the call is repeated, and
        # the repeat after a 401 is logged and admitted like any request (an expired token is not Allegro
        # failing, so it takes no attempt).
        auth = TokenAuth(self._tokens, before_retry=lambda rejected: self._renewing(exchange, rejected))
        headers = self._headers(content_type, language or self._accept_language, accept or media_type)
        attempt = 0
        conflicts = 0
        maybe_delivered = False
        while True:
            attempt += 1
            try:
                response = self._send(
                    exchange, url, query=query, content=content, headers=headers, auth=auth, attempt=attempt
                )
            except httpx.TransportError as error:
                not_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                maybe_delivered = maybe_delivered or not not_sent
                if slow_bucket and isinstance(error, httpx.ReadTimeout):
                    safe_to_repeat = False  # the bucket is slowing us down: a repeat only adds to it
                if (not_sent or safe_to_repeat) and attempt < self._max_attempts:
                    self._sleep(self._backoff(attempt))
                    continue
                raise AllegroUnavailable(
                    f"Allegro unreachable: {method} {log_path} failed with {type(error).__name__} "
                    f"after {attempt} attempt(s)"
                ) from error
            status = response.status_code
            if status == 429:
                raise self._rate_limited(method, log_path, response)
            if status >= 500:
                maybe_delivered = True
                if safe_to_repeat and attempt < self._max_attempts:
                    self._sleep(self._backoff(attempt))
                    continue
            if status == 409:
                if conflict_after_retry_ok and maybe_delivered:
                    return response
                if retry_conflict and conflicts < self._max_conflict_retries:
                    conflicts += 1
                    self._sleep(self._backoff(conflicts, base=1.0, cap=15.0))
                    continue
            if status >= 400:
                trace_id = response.headers.get(TRACE_ID_HEADER)
                raise error_for(status, response.content, trace_id=trace_id, method=method, path=log_path)
            return response

    def _send(
        self,
        exchange: _Exchange,
        url: str,
        *,
        query: httpx.QueryParams | None,
        content: bytes | None,
        headers: dict[str, str],
        auth: TokenAuth,
        attempt: int,
    ) -> httpx.Response:
        """One HTTP exchange: admission by the rate guard, the request, then one log line (never the token,
        never the body). A 401 answered by a renewed token is a second exchange (`_renewing`)."""
        self._admit(exchange.method, exchange.path)
        exchange.attempt, exchange.started = attempt, time.perf_counter()
        timeout = SLOW_BUCKET_TIMEOUT if exchange.path in SLOW_BUCKET_PATHS else httpx.USE_CLIENT_DEFAULT
        try:
            response = self._http.request(
                exchange.method,
                url,
                params=query,
                content=content,
                headers=headers,
                auth=auth,
                timeout=timeout,
            )
        except httpx.TransportError as error:
            self._log_failure(exchange, error)
            raise
        self._log_response(exchange, response)
        return response

    def _renewing(self, exchange: _Exchange, rejected: httpx.Response) -> None:
        """`TokenAuth` repeats a request Allegro answered 401: log that answer, admit the repeat."""
        self._log_response(exchange, rejected)
        self._admit(exchange.method, exchange.path)
        exchange.started = time.perf_counter()

    def _rate_limited(self, method: str, log_path: str, response: httpx.Response) -> AllegroRateLimited:
        """A per-user 429 blocks this seller's resource only; anything else is the app-wide block."""
        trace_id = response.headers.get(TRACE_ID_HEADER)
        if _names_user_limit(response.content):
            until = self._guard.record_user_block(self.account, method, log_path, _retry_after(response))
            return AllegroUserRateLimited(
                until,
                account=self.account,
                resource=resource_of(method, log_path),
                method=method,
                path=log_path,
                trace_id=trace_id,
            )
        until = self._guard.record_block(_retry_after(response))
        return AllegroRateLimited(until, method=method, path=log_path, trace_id=trace_id)

    def _admit(self, method: str, log_path: str) -> None:
        wait = self._guard.admit(method, log_path, self.account)
        if wait > 0:
            self._sleep(wait)

    def _get(self, path: str, model: type[_Model], params: Mapping[str, Any] | None = None) -> _Model:
        return model.model_validate(self.request("GET", path, params=params).json())

    def _url(self, path: str, host: Literal["api", "upload"]) -> str:
        base = self.environment.upload_url if host == "upload" else self.environment.api_url
        if path.startswith(("http://", "https://")):
            # A Location header: the bearer token may only ever travel to Allegro's own hosts.
            if _origin(path) not in self._trusted_origins:
                raise AllegroError(f"refusing to send the token to untrusted host {_origin(path)}")
            return path
        return base + "/" + path.lstrip("/")

    def _headers(self, content_type: str | None, language: str, accept: str = MEDIA_TYPE) -> dict[str, str]:
        """Allegro's headers; `Authorization` is set by `TokenAuth`."""
        headers = {"Accept": accept, "Accept-Language": language, "User-Agent": self._user_agent}
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _backoff(self, attempt: int, *, base: float | None = None, cap: float | None = None) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))] so retries of many callers spread."""
        ceiling = min(cap or self._backoff_cap, (base or self._backoff_base) * 2.0 ** (attempt - 1))
        return self._jitter() * ceiling

    def _poll_delay(self, poll: int) -> float:
        """Polling pace for asynchronous results: 0.5 s, 1 s, 2 s, then every 4 s."""
        return min(4.0, 0.5 * 2.0**poll)

    def _log_response(self, exchange: _Exchange, response: httpx.Response) -> None:
        fields = {
            "allegro_method": exchange.method,
            "allegro_path": exchange.path,
            "allegro_status": response.status_code,
            "duration_ms": exchange.duration_ms(),
            "trace_id": response.headers.get(TRACE_ID_HEADER),
            "account": self.account,
            "attempt": exchange.attempt,
        }
        if response.status_code >= 400:
            logger.warning("Allegro call failed", extra=fields)
        else:
            # INFO, not DEBUG: with the correlation id the logger carries, this line closes the chain from a
            # webhook or order event to Allegro at CloudWatch's default level. Never the token or body.
            logger.info("Allegro call", extra=fields)

    def _log_failure(self, exchange: _Exchange, error: Exception) -> None:
        logger.warning(
            "Allegro unreachable",
            extra={
                "allegro_method": exchange.method,
                "allegro_path": exchange.path,
                "error": type(error).__name__,
                "duration_ms": exchange.duration_ms(),
                "account": self.account,
                "attempt": exchange.attempt,
            },
        )


@dataclass
class _Exchange:
    """The logical call being sent, for its log lines: which request, which attempt, since when."""

    method: str
    path: str
    attempt: int = 0
    started: float = 0.0

    def duration_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 1)


# ---- helpers --------------------------------------------------------------------------------------------


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _query(params: Mapping[str, Any] | None) -> httpx.QueryParams | None:
    """Drop unset filters; repeat a key for list values (Allegro's `a=1&a=2` convention)."""
    if not params:
        return None
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            pairs.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return httpx.QueryParams(pairs)


def _segment(value: str) -> str:
    """A path segment from an id; ids with '/', '?' or '#' would address a different resource."""
    if not value or any(ch in value for ch in "/?#") or value in (".", ".."):
        raise InvalidCommand(f"not a valid Allegro id: {value!r}")
    return value


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _names_user_limit(body: bytes) -> bool:
    """Allegro's per-user 429s say so in the body (#9832: "The maximum number of queries per user has been
    exceeded"; #4630: `RateLimitExceedException` from the `/sale/products` bucket). The app-wide one does
    not; an unrecognised 429 is read as app-wide, the reading that stops every call."""
    for detail in parse_error_details(body):
        text = f"{detail.message} {detail.user_message or ''}".lower()
        if detail.code == "RateLimitExceedException" or "per user" in text:
            return True
    return False


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None
