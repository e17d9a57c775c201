"""`make bench`: run every benchmark in this folder, one after another, each printing its own figures.

Each module is a script (`python -m bench.NAME [args]`) with small defaults sized for this 2-core machine;
run one alone with bigger arguments for steadier numbers. Benchmarks talk only to 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
    failed: list[str] = []
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False)  # noqa: S603
        took = time.perf_counter() - started
        print(f"--- bench.{name}: exit {result.returncode} in {took:.1f} s", flush=True)
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
