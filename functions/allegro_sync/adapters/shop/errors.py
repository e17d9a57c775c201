"""The one error a webhook adapter raises for input it refuses, carrying its HTTP answer.

Every refusal names the field and the reason, so a shop developer can fix their sender from the
response alone; the handler turns it into `{"error": {"code", "message", "details"}}` and queues nothing.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class Problem:
    """One offending field (a dotted/indexed path such as `events[0].price`, or a header name)."""

    field: str
    problem: str


@dataclass
class WebhookRejected(Exception):
    """Refused input: `status` and `code` become the HTTP answer; nothing is queued or stored."""

    status: int
    code: str
    message: str
    details: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": [{"field": d.field, "problem": d.problem} for d in self.details],
            }
        }


def field_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    """pydantic's `loc` as a readable path: ("events", 0, "price") -> `events[0].price`."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(body)"


def schema_violation(
    error: ValidationError,
    message: str = "the body does not match the webhook contract",
    *,
    prefix: str = "",
    drop: Collection[str] = (),
) -> WebhookRejected:
    """A 422 listing every pydantic error as field + problem (input values are never echoed back); `drop`
    leaves tags out of the paths (the discriminators pydantic puts in locations of union members)."""
    details = [
        Problem(field_path(tuple(part for part in e["loc"] if part not in drop), prefix), e["msg"])
        for e in error.errors()
    ]
    return WebhookRejected(422, "schema_violation", message, details)


_SAFE_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")


def refusal_code(response: httpx.Response) -> str:
    """What of a shop's error answer may go into an exception (and so into a log): only a machine code
    such as WooCommerce's `woocommerce_rest_invalid_id`. The body's message can echo the order we sent,
    with the buyer's name and address in it, so it is never repeated."""
    try:
        body = response.json()
    except ValueError:
        return "no error code"
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or not _SAFE_CODE.fullmatch(code):
        return "no error code"
    return code
