"""Allegro's error answers as exceptions a caller can branch on, keeping every field Allegro sends.

Allegro's envelope is `{"errors": [{code, message, details, path, userMessage, metadata}]}`; a 401 from the
authorization server uses `{"error", "error_description"}` instead. The `trace-id` header travels with the
exception because Allegro support asks for it.
"""

from __future__ import annotations

import json
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

__all__ = [
    "TRACE_ID_HEADER",
    "AllegroApiError",
    "AllegroBadRequest",
    "AllegroConflict",
    "AllegroError",
    "AllegroErrorDetail",
    "AllegroForbidden",
    "AllegroNotFound",
    "AllegroOperationFailed",
    "AllegroOperationPending",
    "AllegroRateLimited",
    "AllegroServerError",
    "AllegroUnauthorized",
    "AllegroUnavailable",
    "AllegroUserRateLimited",
    "AllegroValidationError",
    "InvalidCommand",
    "error_for",
    "parse_error_details",
]

TRACE_ID_HEADER = "trace-id"


@dataclass(frozen=True)
class AllegroErrorDetail:
    """One entry of Allegro's `errors` list; `user_message` is already in the Accept-Language language."""

    code: str
    message: str = ""
    details: str | None = None
    path: str | None = None
    user_message: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        text = self.user_message or self.message or self.code
        where = f" (at {self.path})" if self.path else ""
        return f"{self.code}: {text}{where}"


class AllegroError(Exception):
    """Base of everything the Allegro adapter raises.

    `completed`: when a batch helper (change_quantity, ...) fails part-way, the per-offer results of the
    chunks that had already finished, so the caller records what did change on Allegro.
    """

    completed: tuple[Any, ...] = ()


@dataclass(eq=False, repr=False)
class AllegroApiError(AllegroError):
    """Allegro answered with an error status."""

    status: int
    errors: list[AllegroErrorDetail]
    _: KW_ONLY
    trace_id: str | None = None
    method: str = ""
    path: str = ""

    def __post_init__(self) -> None:
        super().__init__(str(self))

    @property
    def codes(self) -> list[str]:
        return [error.code for error in self.errors]

    def __str__(self) -> str:
        reasons = "; ".join(error.describe() for error in self.errors) or "no error details"
        trace = f" [trace-id {self.trace_id}]" if self.trace_id else ""
        return f"{reasons} — Allegro {self.status} on {self.method} {self.path}{trace}"


class AllegroBadRequest(AllegroApiError):
    """400: the request is malformed; retrying the same request cannot help."""


class AllegroUnauthorized(AllegroApiError):
    """401 even after one fresh token: the account's authorization is gone or lacks a scope."""


class AllegroForbidden(AllegroApiError):
    """403: e.g. not a company account, or the offer belongs to another seller."""


class AllegroNotFound(AllegroApiError):
    """404: also what an offer archived 60 days after ending answers (a new offer is needed)."""


class AllegroConflict(AllegroApiError):
    """409: a previous edit still processing, a stale checkout-form revision, or a reused command id."""


class AllegroValidationError(AllegroApiError):
    """422: Allegro rejected the content (PARAMETER_MISMATCH, CATEGORY_MISMATCH, ...); metadata says why."""


class AllegroServerError(AllegroApiError):
    """5xx that persisted through every retry."""


class AllegroRateLimited(AllegroApiError):
    """The Client ID is blocked until `blocked_until` (epoch seconds); every call until then extends it."""

    def __init__(
        self, blocked_until: float, *, method: str = "", path: str = "", trace_id: str | None = None
    ):
        self.blocked_until = blocked_until
        detail = AllegroErrorDetail(
            code="RATE_LIMITED",
            message=f"Client ID blocked by Allegro until epoch {blocked_until:.0f}; no calls until then",
        )
        super().__init__(429, [detail], trace_id=trace_id, method=method, path=path)


class AllegroUserRateLimited(AllegroRateLimited):
    """One seller's limit on one resource (e.g. product-offers writes, 2,490/min per user, #12700): only
    that seller's calls of that resource wait until `blocked_until`; other sellers and resources go on."""

    def __init__(
        self,
        blocked_until: float,
        *,
        account: str,
        resource: str,
        method: str = "",
        path: str = "",
        trace_id: str | None = None,
    ):
        super().__init__(blocked_until, method=method, path=path, trace_id=trace_id)
        self.account = account
        self.resource = resource
        self.errors = [
            AllegroErrorDetail(
                code="USER_RATE_LIMITED",
                message=f"account {account}: {resource} limited by Allegro until epoch {blocked_until:.0f}",
            )
        ]
        Exception.__init__(self, str(self))


class AllegroOperationFailed(AllegroApiError):
    """A 202 create/edit whose operation failed (422 on its status, #11011). A failed create leaves an
    INACTIVE draft: `offer_id` names it, so the next attempt reuses it instead of listing a second offer."""

    def __init__(self, source: AllegroApiError, *, offer_id: str) -> None:
        super().__init__(
            source.status, source.errors, trace_id=source.trace_id, method=source.method, path=source.path
        )
        self.offer_id = offer_id


class AllegroUnavailable(AllegroError):
    """Allegro could not be reached (timeouts, connection errors) within the retry budget."""


class AllegroOperationPending(AllegroError):
    """An asynchronous Allegro operation did not finish within the wait we allowed; check again later."""

    def __init__(self, what: str, *, offer_id: str | None = None, location: str | None = None) -> None:
        self.offer_id = offer_id
        self.location = location
        super().__init__(what)


class InvalidCommand(AllegroError, ValueError):
    """Refused client-side: Allegro would reject it, so it is never sent."""


_BY_STATUS: dict[int, type[AllegroApiError]] = {
    400: AllegroBadRequest,
    401: AllegroUnauthorized,
    403: AllegroForbidden,
    404: AllegroNotFound,
    409: AllegroConflict,
    422: AllegroValidationError,
}


def parse_error_details(body: bytes) -> list[AllegroErrorDetail]:
    """Both envelopes Allegro uses; anything unparseable still yields one readable detail."""
    try:
        data: Any = json.loads(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        return [_detail(item) for item in data["errors"] if isinstance(item, dict)]
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return [
            AllegroErrorDetail(
                code=data["error"],
                message=str(data.get("error_description") or ""),
                user_message=data.get("error_description"),
            )
        ]
    text = body[:200].decode("utf-8", "replace").strip()
    return [AllegroErrorDetail(code="UNKNOWN", message=text or "empty error body")]


def _detail(item: dict[str, Any]) -> AllegroErrorDetail:
    metadata = item.get("metadata")
    return AllegroErrorDetail(
        code=str(item.get("code") or "UNKNOWN"),
        message=str(item.get("message") or ""),
        details=item.get("details"),
        path=item.get("path"),
        user_message=item.get("userMessage"),
        metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {},
    )


def error_for(status: int, body: bytes, *, trace_id: str | None, method: str, path: str) -> AllegroApiError:
    """The most specific exception class for an error status."""
    cls = _BY_STATUS.get(status) or (AllegroServerError if status >= 500 else AllegroApiError)
    return cls(status, parse_error_details(body), trace_id=trace_id, method=method, path=path)
