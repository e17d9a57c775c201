"""Framework-neutral request/response types shared by the emulator's HTTP server and its marketplace."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass
class EmulatorRequest:
    """One parsed HTTP request. Header names are lower-case; `body` is parsed JSON or None."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw_body: bytes = b""
    seller_id: str | None = None
    client_id: str | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class EmulatorResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def allegro_error(
    status: int,
    code: str,
    message: str,
    *,
    user_message: str | None = None,
    path: str | None = None,
    details: str | None = None,
    metadata: dict[str, str] | None = None,
) -> EmulatorResponse:
    """Allegro's error envelope: `{"errors": [{code, message, details, path, userMessage, metadata}]}`."""
    return EmulatorResponse(
        status,
        {
            "errors": [
                {
                    "code": code,
                    "message": message,
                    "details": details,
                    "path": path,
                    "userMessage": user_message or message,
                    "metadata": metadata or {},
                }
            ]
        },
    )


class Clock:
    """The emulator's notion of now: real time plus an offset that tests and the demo can advance.

    Token expiry, the 60 s refresh grace, the 60-day archive and the 60-day event retention all read
    this clock, so a test can jump months ahead in microseconds.
    """

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
