"""`make bench`: run every benchmark in this folder, one after another, then write bench/REPORT.md.

Each module is a script (`python -m bench.NAME [args]`) with small defaults sized for this 2-core machine;
run one alone with bigger arguments for steadier numbers. Benchmarks talk only to 127.0.0.1. Each records
its headline figures in bench/results/; `bench/results/_run.json` says which ran in this run and how they
ended, so the report can mark a failed or stale benchmark instead of quietly showing old figures.
A failing benchmark does not stop the others or the report; the exit code still says it failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench import report
from bench._results import RESULTS_DIR


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def main(argv: list[str]) -> int:
    names = argv or report.benchmark_names()
    run: dict[str, Any] = {"started_at": _now(), "benchmarks": {}}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    run_file = RESULTS_DIR / report.RUN_FILE
    began = time.perf_counter()
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False)  # noqa: S603
        took = time.perf_counter() - started
        print(f"--- bench.{name}: exit {result.returncode} in {took:.1f} s", flush=True)
        run["benchmarks"][name] = {"exit": result.returncode, "seconds": round(took, 1)}
        run_file.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")  # partial runs stay readable
    run["finished_at"] = _now()
    run["seconds"] = round(time.perf_counter() - began, 1)
    run_file.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    print("\n=== report ===", flush=True)
    report.main([])
    failed = [name for name, ran in run["benchmarks"].items() if ran["exit"]]
    if failed:
        print(f"\nfailed: {', '.join(failed)} (marked in bench/REPORT.md)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
