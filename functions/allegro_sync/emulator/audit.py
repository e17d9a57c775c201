"""Checking a recorded run (`--record FILE`) against an OpenAPI document, usually Allegro's full spec.

The emulator checks itself against the trimmed contract while it runs; this second look at the recording,
against the official untrimmed spec, also catches a mistake in the extraction. OAuth exchanges are outside
the spec: they are skipped and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse
from allegro_sync.emulator.validation import SpecValidator, Violation

KEYS = (
    "method",
    "path",
    "query",
    "request_headers",
    "request_body",
    "status",
    "response_headers",
    "response_body",
)
OAUTH_PREFIXES = ("/auth/oauth/", "/skojarz-aplikacje")


@dataclass
class Report:
    exchanges: int = 0
    validated: int = 0
    oauth_skipped: int = 0
    violations: list[Violation] = field(default_factory=list)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _body(value: Any, content_type: str) -> bytes:
    if value is not None:
        return json.dumps(value).encode()
    # Binary uploads are recorded as null; a placeholder byte keeps "a body was sent" true.
    return b"\x00" if content_type and not _is_json(content_type) else b""


def check(lines: list[str], validator: SpecValidator) -> Report:
    """Validate every recorded exchange (one JSON object per line) in both directions."""
    report = Report()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        report.exchanges += 1
        exchange = json.loads(line)
        missing = [key for key in KEYS if key not in exchange]
        if missing or set(exchange) != set(KEYS):
            report.violations.append(
                Violation(
                    "format", str(exchange.get("method")), str(exchange.get("path")), f"line {number}: keys"
                )
            )
            continue
        if str(exchange["path"]).startswith(OAUTH_PREFIXES):
            report.oauth_skipped += 1
            continue
        headers = {k.lower(): v for k, v in exchange["request_headers"].items()}
        request = EmulatorRequest(
            exchange["method"],
            exchange["path"],
            exchange["query"],
            headers,
            exchange["request_body"],
            _body(exchange["request_body"], headers.get("content-type", "")),
        )
        response_headers = dict(exchange["response_headers"])
        response = EmulatorResponse(exchange["status"], exchange["response_body"], response_headers)
        recorded = exchange["response_body"]
        raw = recorded.encode() if isinstance(recorded, str) else None  # a file, recorded by its size
        if recorded is not None and raw is None:
            raw = json.dumps(recorded).encode()
        report.validated += 1
        report.violations.extend(validator.request_errors(request))
        report.violations.extend(validator.response_errors(request, response, raw))
    return report
