"""The soak's search of captured logs for secret values, anything shaped like a token, and buyers' data."""

from __future__ import annotations

import re
from typing import Any


def strings(value: Any) -> set[str]:
    """Every string inside a JSON value: all the fields of a secret."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {s for v in value.values() for s in strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in strings(v)}
    return set()


TOKEN_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # a JWT: Allegro's access tokens
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/-]{16,}"),  # an Authorization header's value
    re.compile(r"(?i)\"?(refresh_token|access_token|client_secret)\"?\s*[:=]\s*\"?[A-Za-z0-9._~+/-]{16,}"),
)


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Where `text` (captured logs) shows a secret value or something shaped like a token: short, masked
    descriptions only, so the report of a leak does not leak it again."""
    found = [f"secret value #{n} ({len(value)} chars)" for n, value in enumerate(secrets) if value in text]
    for pattern in TOKEN_PATTERNS:
        for match in pattern.finditer(text):
            found.append(f"token-shaped text at offset {match.start()}: {match.group(0)[:12]}…")
    return found


def personal_data(text: str, values: list[str]) -> list[str]:
    """Where `text` shows a buyer's e-mail, login, name, phone or address: masked, as for secrets."""
    return [f"buyer data #{n} ({len(value)} chars)" for n, value in enumerate(values) if value in text]
