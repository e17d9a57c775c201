"""A shop webhook's JSON body and headers, read alike by every platform's adapter (generic, WooCommerce,
Shopify): here rather than in one of them, so a platform's requests do not import another's adapter."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from allegro_sync.adapters.shop.errors import Problem, WebhookRejected


def header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name.lower())
    return value.strip() if value is not None else None


def require_json(headers: Mapping[str, str]) -> None:
    media = (header(headers, "content-type") or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise WebhookRejected(
            415,
            "unsupported_media_type",
            "send the body as application/json",
            [Problem("Content-Type", f"got {media or 'nothing'!r}, expected 'application/json'")],
        )


def load_json(body: bytes) -> Any:
    """Strict JSON: exact decimals, no NaN/Infinity; a 400 that says where it broke."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not valid JSON")

    try:
        return json.loads(body, parse_float=Decimal, parse_constant=refuse)
    except (ValueError, RecursionError) as exc:
        raise WebhookRejected(
            400, "malformed_json", "the body is not valid JSON", [Problem("(body)", str(exc)[:200])]
        ) from None
