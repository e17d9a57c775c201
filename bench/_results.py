"""Where each benchmark leaves its headline figures, so `bench.report` can gather one run into one report.

A benchmark prints for people and calls `record()` for the report: `bench/results/NAME.json` holds the
figures, the command that reproduces them and the facts of the machine they were measured on (a figure
from a loaded 2-core box means little without its load average next to it).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What a reader needs to judge a figure: when, which Python, how many cores and how busy they were."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count() or 0,
        "load_average": [round(x, 2) for x in load],
    }


def command_line(name: str, argv: list[str] | None = None) -> str:
    """The command that reproduces this run: the module and the arguments it was given."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join([".venv/bin/python", "-m", f"bench.{name}", *map(shlex.quote, args)])


def record(
    name: str,
    figures: dict[str, Any],
    *,
    command: str | None = None,
    directory: Path | None = None,
) -> Path:
    """Write `NAME.json` with the figures, the reproducing command and the machine facts; return its path."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"benchmark name {name!r} cannot be a file name")
    folder = directory or RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "name": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command or command_line(name),
        "machine": machine(),
        "figures": figures,
    }
    path = folder / f"{name}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    partial.replace(path)  # a report never reads half a file
    return path


def load_all(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every recorded result by name; a file that is not valid JSON is reported, not silently skipped."""
    folder = directory or RESULTS_DIR
    results: dict[str, dict[str, Any]] = {}
    if not folder.is_dir():
        return results
    for path in sorted(folder.glob("*.json")):
        if path.stem.startswith("_"):  # the run's own bookkeeping, not a benchmark
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            results[path.stem] = {"name": path.stem, "error": f"{path.name} is not valid JSON: {exc}"}
            continue
        if isinstance(document, dict):
            results[path.stem] = document
        else:
            results[path.stem] = {"name": path.stem, "error": f"{path.name} does not hold a JSON object"}
    return results
