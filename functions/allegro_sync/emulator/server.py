"""The emulator's HTTP front door: one threaded server on 127.0.0.1 for the API, upload and site hosts.

Everything Allegro does before a request reaches business logic lives here — bearer tokens, the
media-type rules (#8109), the per-Client-ID limit whose block grows while you keep calling (#3454,
#6754), random faults, the spec check of both directions and the recording — so the marketplace
stays a pure state machine.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from allegro_sync.emulator.market.common import BETA_MEDIA_TYPE
from allegro_sync.emulator.market.messaging import ISSUES_BETA_PATHS
from allegro_sync.emulator.market.returns import BETA_PATHS
from allegro_sync.emulator.oauth import VERIFICATION_PATH, InvalidToken, OAuthServer
from allegro_sync.emulator.types import Clock, EmulatorRequest, EmulatorResponse, allegro_error
from allegro_sync.emulator.user_limits import UserLimiter, user_agent_refusal
from allegro_sync.emulator.validation import MEDIA_TYPE, SpecValidator, Violation

ADMIN_PREFIX = "/__emulator/"
# Answered with a file, not JSON: Accept names application/octet-stream there (#10603, issue 15).
BINARY_PATHS = frozenset({"/shipment-management/label", "/shipment-management/protocol"})
UPLOAD_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
# Keys whose values are secrets wherever they appear in a recorded body or query.
SECRET_KEYS = frozenset(
    {"access_token", "refresh_token", "client_secret", "device_code", "code_verifier", "id_token", "password"}
)
MASK = "***"


class MarketplacePort(Protocol):
    """What the server needs from `Marketplace` (kept narrow so either side can evolve)."""

    def handle(self, request: EmulatorRequest) -> EmulatorResponse | None: ...


@dataclass
class Limits:
    """Rate limit and faults; every field can change while the server runs."""

    requests_per_minute: int = 9000
    block_seconds: float = 60.0
    error_rate: float = 0.0
    latency_ms: int = 0
    latency_rate: float = 1.0
    # ---- allegro-limits: per-user limits, slow /sale/products, User-Agent (emulator/user_limits.py) ----
    user_limits: bool = True
    offer_writes_per_minute: int = 2490
    offer_writes_per_hour: int = 74700
    offer_reads_per_minute: int = 3500
    fee_previews_per_second: int = 25
    failed_request_weight: int = 2
    products_pace_per_minute: int = 60
    products_burst: int = 20
    products_delay_scale: float = 1.0
    products_parallel: int = 5
    require_user_agent: bool = True

    def update(self, **changes: Any) -> None:
        """Apply changes all at once, or none of them when one is unknown or out of range."""
        unknown = set(changes) - set(self.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        candidate = replace(self, **{k: _typed(getattr(self, k), v) for k, v in changes.items()})
        if candidate.requests_per_minute < 1 or candidate.latency_ms < 0 or candidate.block_seconds < 0:
            raise ValueError("requests_per_minute must be >= 1, latency_ms and block_seconds >= 0")
        per_user = (
            candidate.offer_writes_per_minute,
            candidate.offer_writes_per_hour,
            candidate.offer_reads_per_minute,
            candidate.fee_previews_per_second,
            candidate.failed_request_weight,
            candidate.products_pace_per_minute,
            candidate.products_parallel,
        )
        if min(per_user) < 1 or candidate.products_burst < 0 or candidate.products_delay_scale < 0:
            raise ValueError("per-user limits must be >= 1, products_burst and products_delay_scale >= 0")
        if not 0 <= candidate.error_rate <= 1 or not 0 <= candidate.latency_rate <= 1:
            raise ValueError("rates must be within 0..1")
        for key in changes:
            setattr(self, key, getattr(candidate, key))


def _typed(current: Any, value: Any) -> Any:
    """A new value in the type of the current one; "false"/"0" are False (the admin API and CLI send text)."""
    if isinstance(current, bool) and isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return type(current)(value)


class RateLimiter:
    """Allegro's limit per Client ID: past it the ID is blocked, and each call while blocked extends it."""

    def __init__(self, clock: Clock, limits: Limits) -> None:
        self._clock = clock
        self._limits = limits
        self._lock = threading.Lock()
        self._calls: dict[str, deque[datetime]] = {}
        self._blocked_until: dict[str, datetime] = {}

    def hit(self, client_id: str) -> datetime | None:
        """Count one call; returns the end of the block when the call must be refused."""
        now = self._clock.now()
        block = timedelta(seconds=self._limits.block_seconds)
        with self._lock:
            until = self._blocked_until.get(client_id)
            if until is not None and now < until:
                self._blocked_until[client_id] = now + block
                return now + block
            calls = self._calls.setdefault(client_id, deque())
            while calls and now - calls[0] >= timedelta(minutes=1):
                calls.popleft()
            if len(calls) >= self._limits.requests_per_minute:
                calls.clear()
                self._blocked_until[client_id] = now + block
                return now + block
            calls.append(now)
            return None

    def blocked_until(self, client_id: str) -> datetime | None:
        with self._lock:
            until = self._blocked_until.get(client_id)
        return until if until is not None and until > self._clock.now() else None

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._blocked_until.clear()


class Recorder:
    """Appends every exchange as one JSON line, secrets masked (see `mask_exchange`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, exchange: dict[str, Any]) -> None:
        line = json.dumps(exchange, ensure_ascii=False, separators=(",", ":"), default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def _mask(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if k in keys and v is not None else _mask(v, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(item, keys) for item in value]
    return value


def _mask_url(url: str, keys: frozenset[str]) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, MASK if k in keys else v) for k, vs in parse_qs(parts.query).items() for v in vs]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs, safe="*"), parts.fragment))


def mask_exchange(exchange: dict[str, Any], *, oauth: bool) -> dict[str, Any]:
    """Masks tokens, secrets and codes; `code` only on OAuth paths (in API errors it is an error code)."""
    keys = SECRET_KEYS | {"code"} if oauth else SECRET_KEYS
    out = dict(exchange)
    out["query"] = {k: [MASK] * len(v) if k in keys else v for k, v in exchange["query"].items()}
    out["request_headers"] = {
        k: (MASK if k.lower() in ("authorization", "cookie") else v)
        for k, v in exchange["request_headers"].items()
    }
    out["response_headers"] = {
        k: (_mask_url(v, keys) if k.lower() == "location" else v)
        for k, v in exchange["response_headers"].items()
    }
    out["request_body"] = _mask(exchange["request_body"], keys)
    out["response_body"] = _mask(exchange["response_body"], keys)
    return out


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


class EmulatorApp:
    """The WSGI application: parse, authenticate, limit, check, dispatch, validate, record."""

    def __init__(
        self,
        *,
        clock: Clock,
        oauth: OAuthServer,
        marketplace: MarketplacePort,
        limits: Limits,
        validator: SpecValidator | None,
        strict: bool = True,
        recorder: Recorder | None = None,
        admin: Callable[[EmulatorRequest], EmulatorResponse] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.oauth = oauth
        self.marketplace = marketplace
        self.limits = limits
        self.rate_limiter = RateLimiter(clock, limits)
        self.user_limiter = UserLimiter(clock, limits)
        self.validator = validator
        self.strict = strict
        self.recorder = recorder
        self.admin = admin
        self.rng = rng or random.Random(0)
        self.violations: list[Violation] = []
        self.request_count = 0
        self.sleep: Callable[[float], None] = time.sleep  # replaceable, so tests never wait
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        wsgi_request = Request(environ)
        request, parse_error = self._parse(wsgi_request)
        trace_id = uuid.uuid4().hex
        try:
            if request.path.startswith(ADMIN_PREFIX):
                response = self._admin(request)
            elif parse_error is not None:
                response = parse_error
            elif _is_oauth(request.path):
                response = self.oauth.handle(request) or allegro_error(404, "NOT_FOUND", "No such resource")
            else:
                response = self._api(request)
        except Exception as exc:  # an emulator bug: answer like Allegro would, and fail the test
            self._violate([Violation("crash", request.method, request.path, repr(exc))])
            response = allegro_error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
        body = self._encode(response)
        headers = {"Content-Type": MEDIA_TYPE, **response.headers, "trace-id": trace_id}
        if body is None:
            headers.pop("Content-Type", None)
        if self.recorder is not None and not request.path.startswith(ADMIN_PREFIX):
            self._record(request, response, headers)
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", list(headers.items()))
        return [body or b""]

    def _parse(self, wsgi: Request) -> tuple[EmulatorRequest, EmulatorResponse | None]:
        raw = wsgi.get_data(cache=True)
        headers = {k.lower(): v for k, v in wsgi.headers.items()}
        query = {k: wsgi.args.getlist(k) for k in wsgi.args}
        request = EmulatorRequest(wsgi.method.upper(), wsgi.path, query, headers, None, raw)
        ctype = _media_type(headers.get("content-type", ""))
        if not raw:
            return request, None
        if ctype == "application/x-www-form-urlencoded":
            request.body = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        elif ctype == "application/json" or ctype.endswith("+json"):
            try:
                request.body = json.loads(raw)
            except ValueError:
                return request, allegro_error(400, "INVALID_JSON", "The request body is not valid JSON")
        return request, None

    @staticmethod
    def _encode(response: EmulatorResponse) -> bytes | None:
        if response.body is None:
            return None
        if isinstance(response.body, bytes):
            return response.body
        if isinstance(response.body, str):
            return response.body.encode("utf-8")
        return json.dumps(response.body, ensure_ascii=False).encode("utf-8")

    # ------------------------------------------------------------------- API
    def _api(self, request: EmulatorRequest) -> EmulatorResponse:
        with self._lock:
            self.request_count += 1
        refusal = self._gate(request)
        if refusal is not None:
            return refusal
        with self.user_limiter.products_call(request) as (too_many, delay):
            if too_many is not None:
                return too_many
            if delay > 0:
                self.sleep(delay)  # the leaky bucket slows the answer down instead of refusing it
            response = self._checked(request)
        self.user_limiter.settle(request, response.status)
        return response

    def _checked(self, request: EmulatorRequest) -> EmulatorResponse:
        """Spec check of the request, the marketplace, spec check of the response."""
        if self.validator is not None:
            problems = self.validator.request_errors(request)
            if problems:
                self._violate(problems)
                if self.strict:
                    return _request_violation_response(problems)
        try:
            response = self.marketplace.handle(request)  # it finishes due async work itself
        except Exception as exc:  # a bug in the emulator: fail the test loudly, answer like Allegro would
            self._violate([Violation("crash", request.method, request.path, repr(exc))])
            return allegro_error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
        if response is None:
            return allegro_error(404, "NOT_FOUND", f"No resource {request.method} {request.path}")
        if self.validator is not None:
            problems = self.validator.response_errors(request, response, self._encode(response))
            self._violate(problems)
        return response

    def _gate(self, request: EmulatorRequest) -> EmulatorResponse | None:
        """Everything Allegro refuses before business logic: token, limit, faults, media types."""
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return _unauthorized("unauthorized", "Full authentication is required to access this resource")
        try:
            info = self.oauth.authenticate(header[7:].strip())
        except InvalidToken as exc:
            return _unauthorized("invalid_token", exc.description)
        request.client_id, request.seller_id = info.client_id, info.seller_id
        refused = user_agent_refusal(request, self.limits) or self._limited(request, info.client_id)
        if refused is not None:
            return refused
        limits = self.limits
        if limits.latency_ms > 0 and self.rng.random() < limits.latency_rate:
            self.sleep(limits.latency_ms / 1000)
        if limits.error_rate > 0 and self.rng.random() < limits.error_rate:
            status = self.rng.choice((500, 502, 503))
            return allegro_error(status, "INTERNAL_SERVER_ERROR", "Emulated server failure")
        return _check_media_types(request)

    def _limited(self, request: EmulatorRequest, client_id: str) -> EmulatorResponse | None:
        """The Client ID's block (every call counts, and extends it), then the seller's own limits."""
        if self.rate_limiter.hit(client_id) is not None:
            return allegro_error(
                429,
                "TOO_MANY_REQUESTS",
                "Too many requests for this Client ID; calls while blocked extend the block",
            )
        return self.user_limiter.refuse(request)

    def _violate(self, problems: list[Violation]) -> None:
        if problems:
            with self._lock:
                self.violations.extend(problems)

    def _admin(self, request: EmulatorRequest) -> EmulatorResponse:
        if self.admin is None:
            return allegro_error(404, "NOT_FOUND", "No admin API")
        try:
            return self.admin(request)
        except (KeyError, ValueError, TypeError) as exc:
            return EmulatorResponse(400, {"error": type(exc).__name__, "message": str(exc)})
        except Exception as exc:  # e.g. a marketplace helper not implemented yet
            return EmulatorResponse(500, {"error": type(exc).__name__, "message": str(exc)})

    def _record(self, request: EmulatorRequest, response: EmulatorResponse, headers: dict[str, str]) -> None:
        assert self.recorder is not None
        body: Any = response.body
        if isinstance(body, bytes):  # a file (a shipping label): recorded by its size, never its content
            body = f"<{len(body)} bytes>"
        elif isinstance(body, str):
            body = None  # HTML pages are not JSON
        request_body = request.body if request.body is not None else None
        exchange = {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "request_headers": request.headers,
            "request_body": request_body,
            "status": response.status,
            "response_headers": headers,
            "response_body": body,
        }
        self.recorder.write(mask_exchange(exchange, oauth=_is_oauth(request.path)))


def _is_oauth(path: str) -> bool:
    """OAuth and the device-approval page live on the site host, outside the API spec."""
    return path.startswith("/auth/oauth/") or path.rstrip("/") == VERIFICATION_PATH


def _check_media_types(request: EmulatorRequest) -> EmulatorResponse | None:
    """Accept must name Allegro's public v1 type; beta types are gone (#8109); bodies declare it too."""
    accept = request.headers.get("accept", "")
    if (request.method, request.path) == BULK_COMMAND or request.path.startswith(
        BETA_PATHS + ISSUES_BETA_PATHS
    ):
        # beta-only resources: the bulk price/stock command (#13179), customer returns (#4780, #9800)
        return _check_beta_media_types(request, accept)
    if "application/vnd.allegro.beta" in accept:
        return allegro_error(
            406, "NOT_ACCEPTABLE", "Beta media types are no longer supported; use " + MEDIA_TYPE
        )
    if MEDIA_TYPE not in accept and not (
        request.path in BINARY_PATHS and "application/octet-stream" in accept
    ):
        return allegro_error(406, "NOT_ACCEPTABLE", f"Accept must be {MEDIA_TYPE}")
    if request.raw_body:
        ctype = _media_type(request.headers.get("content-type", ""))
        allowed: frozenset[str] | set[str] = {MEDIA_TYPE} | (
            UPLOAD_MEDIA_TYPES if request.path == "/sale/images" else set()
        )
        if request.method == "PUT" and request.path.startswith("/sale/offer-attachments/"):
            allowed = ATTACHMENT_MEDIA_TYPES  # the file itself (market/attachments.py)
        if request.path.endswith("/file") and "/invoices/" in request.path:
            allowed = allowed | {"application/pdf"}  # an invoice file (issue 15, item 2)
        if ctype not in allowed:
            return allegro_error(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"Content-Type {ctype or '(none)'} is not supported; use {MEDIA_TYPE}",
            )
    return None


# issue 16 (gpsr2): the bulk price/stock command is still beta and declares only the beta type (#13179).
BULK_COMMAND = ("POST", "/sale/offer-bulk-modification-commands")
ATTACHMENT_MEDIA_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def _check_beta_media_types(request: EmulatorRequest, accept: str) -> EmulatorResponse | None:
    if BETA_MEDIA_TYPE not in accept:
        return allegro_error(
            406,
            "NotAcceptableException",
            "Not acceptable representation requested. Please check 'Accept' request header",
        )
    if request.raw_body and _media_type(request.headers.get("content-type", "")) != BETA_MEDIA_TYPE:
        return allegro_error(415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type must be {BETA_MEDIA_TYPE}")
    return None


def _unauthorized(error: str, description: str) -> EmulatorResponse:
    return EmulatorResponse(
        401,
        {"error": error, "error_description": description},
        {"Content-Type": "application/json", "WWW-Authenticate": f'Bearer error="{error}"'},
    )


def _request_violation_response(problems: list[Violation]) -> EmulatorResponse:
    message = "; ".join(p.message for p in problems)
    if any(p.message.startswith(("PathNotFound", "OperationNotFound")) for p in problems):
        return allegro_error(404, "NOT_FOUND", message)
    if any("RequestBody" in p.message for p in problems):
        return allegro_error(422, "VALIDATION_ERROR", message)
    return allegro_error(400, "INVALID_PARAMETER", message)


class _QuietHandler(WSGIRequestHandler):
    """werkzeug logs every request to stderr; tests and benchmarks do not want that."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class HttpServer:
    """A werkzeug threaded server in a daemon thread."""

    def __init__(self, app: EmulatorApp, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            self._server: BaseWSGIServer = make_server(
                host, port, app, threaded=True, request_handler=_QuietHandler
            )
        except SystemExit as exc:  # werkzeug exits the process when the port is taken; a library must not
            raise OSError(f"cannot listen on {host}:{port} (in use or not allowed)") from exc
        # A short poll interval makes stop() quick: tests start and stop one emulator each.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="allegro-emulator",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    302: "Found",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
