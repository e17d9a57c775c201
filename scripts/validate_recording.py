"""Validate an emulator recording (`allegro-sync emulator --record FILE`) against Allegro's FULL spec.

The emulator checks itself against the trimmed contract; this second look against the official,
untrimmed spec catches an extraction mistake too. OAuth exchanges are outside the spec and are
skipped (and counted). Exit code 1 when any exchange violates the spec.

Usage: python scripts/validate_recording.py FILE [--spec PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from allegro_sync.emulator.audit import check
from allegro_sync.emulator.validation import validator_for

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = REPO.parent / "shared" / "allegro-api" / "openapi.yaml"


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
