"""Validate an emulator recording (`allegro-sync emulator --record FILE`) against Allegro's FULL spec.

The emulator checks itself against the trimmed contract; this second look against the official,
untrimmed spec catches an extraction mistake too. OAuth exchanges are outside the spec and are
skipped (and counted). Exit code 1 when any exchange violates the spec.

Usage: python scripts/validate_recording.py FILE [--spec PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse
from allegro_sync.emulator.validation import SpecValidator, Violation, validator_for

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = REPO.parent / "shared" / "allegro-api" / "openapi.yaml"
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
        raw = (
            json.dumps(exchange["response_body"]).encode() if exchange["response_body"] is not None else None
        )
        report.validated += 1
        report.violations.extend(validator.request_errors(request))
        report.violations.extend(validator.response_errors(request, response, raw))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate an emulator recording against Allegro's spec.")
    parser.add_argument("recording", type=Path)
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        print(f"spec not found: {args.spec}", file=sys.stderr)
        return 2
    if not args.recording.is_file():
        print(f"recording not found: {args.recording}", file=sys.stderr)
        return 2
    report = check(
        args.recording.read_text(encoding="utf-8").splitlines(), validator_for(args.spec, check_spec=False)
    )
    for violation in report.violations:
        print(violation)
    print(
        f"{report.exchanges} exchanges, {report.validated} validated, "
        f"{report.oauth_skipped} OAuth skipped (outside the spec), {len(report.violations)} violations"
    )
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
