"""Cold-start import time of every handler of the topology, as a ratio to `import boto3`, and the asset size.

Measured on the asset's own packages: the asset is built the way `cdk synth` builds it
(`infra.bundling.build_asset`: the same requirements, our package, `.pyc` compiled with unchecked-hash
headers), for this machine's platform and by an interpreter of Lambda's Python version (PATH
`python3.13`, pyenv), because the arm64 wheels Lambda gets cannot load here. The runtime-provided
packages (boto3, botocore, ...) are installed beside it at the pinned version and precompiled, as the
Lambda runtime ships them. Each figure is the CPU time
(`time.process_time`) of `import X` in a fresh interpreter (PYTHONDONTWRITEBYTECODE=1, only the asset and
the runtime packages on the path), as a ratio to `import boto3` measured the same way just before and just
after it; the headline is the median over N rounds, printed with their range. The ratio
cancels most of the machine's speed and load. CPU time rather than wall time, and a median rather than a
best: importtime's wall clock also counts the time the interpreter waits for a core, which on a shared
2-core machine is most of its noise, and a best-of keeps each module's luckiest run, not a typical one.
The same interpreters run with `-X importtime`, so the earlier figure (best importtime of N) is printed and
recorded beside it, and the previous run's ratio from bench/results beside both. Without a Python of
Lambda's version the bench measures with its own interpreter and says so: the deployed asset would then
ship sources only.

Asset size: the Lambda asset itself (arm64 wheels), built into a temporary folder, measured unzipped
(Lambda's limit: 250 MB) and zipped.

Run: .venv/bin/python -m bench.cold_import [repeats]   (default 5)
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from allegro_sync.topology import TOPOLOGY
from bench._results import RESULTS_DIR, record

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")
BENCH_BUILD = ROOT / "build" / "bench-cold-import"
GOAL_RATIO = 1.5
# What every function but health imports whatever it does: boto3, pydantic (its settings and messages) and
# Powertools' Logger and Metrics. Its ratio is the floor the handlers' ratios stand on.
FLOOR = "boto3, pydantic, aws_lambda_powertools"
# `import pydantic` is lazy: it loads pydantic-core, not the model machinery. What a handler stands on once
# it defines any model (its Settings, a queue's message), and a queue consumer with Powertools' batch
# utility on top (imported before pydantic, as the consumers do: after it, the batch utility builds
# Powertools' Kinesis, DynamoDB and Kafka parser models). Line by line, each floor is the one above plus
# what it names, so the report can show where a handler's ratio comes from.
FLOORS = {
    "models": "boto3, aws_lambda_powertools, pydantic.main, pydantic.types",
    "consumer": "boto3, aws_lambda_powertools, aws_lambda_powertools.utilities.batch, pydantic.main, "
    "pydantic.types",
}


def import_micros(stderr: str, module: str) -> int:
    """Cumulative microseconds `import module` took (`module` may be "a, b"): the top-level importtime
    entries of the modules and their parent packages (everything they pulled in is nested under them)."""
    wanted = {
        ".".join(parents[: i + 1])
        for parents in (name.split(".") for name in module.split(", "))
        for i in range(len(parents))
    }
    total = 0
    for line in stderr.splitlines():
        match = LINE.match(line)
        if match and len(match.group(3)) == 1 and match.group(4) in wanted:
            total += int(match.group(2))
    return total


# The child times the import itself, in CPU seconds, and prints it last; importtime writes to stderr.
TIMED = "import time; t = time.process_time_ns(); import {module}; print(time.process_time_ns() - t)"


def run_import(interpreter: str, path: list[Path], module: str) -> tuple[float, float]:
    """(CPU seconds, importtime seconds) of one fresh `import module`, with only `path` beside the standard
    library."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | {
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    result = subprocess.run(  # noqa: S603
        [interpreter, "-X", "importtime", "-c", TIMED.format(module=module)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),  # not the repository: its sources must not shadow the asset's
    )
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{result.stderr[-2000:]}")
    return int(result.stdout.split()[-1]) / 1e9, import_micros(result.stderr, module) / 1e6


def runtime_provided_requirements() -> list[str]:
    """The pinned boto3 of pyproject (what the Lambda runtime provides; its dependencies follow)."""
    from infra.bundling import RUNTIME_PROVIDED, _canonical, _requirement_name

    with (ROOT / "pyproject.toml").open("rb") as f:
        deps: list[str] = tomllib.load(f)["project"]["dependencies"]
    return [d for d in deps if _canonical(_requirement_name(d)) in RUNTIME_PROVIDED]


def local_asset(folder: Path) -> tuple[str, list[Path], str | None]:
    """(interpreter, sys.path entries, warning): the asset and the runtime's packages built for this
    machine, compiled by the interpreter that measures them."""
    from infra.bundling import (
        LAMBDA_PYTHON_VERSION,
        NO_INTERPRETER,
        Target,
        build_asset,
        compile_tree,
        find_interpreter,
        install_dependencies,
        runtime_requirements,
    )

    interpreter, warning = find_interpreter(), None
    if interpreter is None:
        interpreter = sys.executable
        warning = f"{NO_INTERPRETER} Measured with Python {platform.python_version()} instead."
    version = subprocess.run(  # noqa: S603
        [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    machine = platform.machine()
    here = (f"manylinux2014_{machine}", f"manylinux_2_28_{machine}")
    asset, runtime = folder / "asset", folder / "runtime"
    build_asset(
        asset, runtime_requirements(), BENCH_BUILD / "asset", Target(version, here), interpreter=interpreter
    )
    provided = install_dependencies(
        runtime_provided_requirements(), BENCH_BUILD / "runtime", Target(version, here, False)
    )
    shutil.copytree(provided, runtime, ignore=shutil.ignore_patterns(".complete"))
    compile_tree(runtime, interpreter)
    if version != LAMBDA_PYTHON_VERSION and warning is None:
        warning = f"measured with Python {version}, Lambda runs {LAMBDA_PYTHON_VERSION}"
    return interpreter, [asset, runtime], warning


def asset_size() -> dict[str, Any]:
    """Build the Lambda asset as `cdk synth` would (cached pip output) and measure it."""
    from infra.bundling import build_asset, runtime_requirements

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "asset"
        started = time.perf_counter()
        compiled = build_asset(out, runtime_requirements())
        built = time.perf_counter() - started
        files = [p for p in out.rglob("*") if p.is_file()]
        unzipped = sum(p.stat().st_size for p in files)
        tops: dict[str, int] = {}
        for p in files:
            top = p.relative_to(out).parts[0]
            tops[top] = tops.get(top, 0) + p.stat().st_size
        archive = Path(folder) / "asset.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for p in files:
                z.write(p, p.relative_to(out))
        largest = sorted(tops.items(), key=lambda kv: -kv[1])[:6]
        return {
            "how": "built with infra.bundling.build_asset (what cdk synth runs), pip output from build/"
            + ("" if compiled else "; WITHOUT .pyc (no interpreter of Lambda's Python version here)"),
            "ships_pyc": compiled,
            "files": len(files),
            "unzipped_mb": round(unzipped / 1e6, 2),
            "zipped_mb": round(archive.stat().st_size / 1e6, 2),
            "package_mb": round(tops.get("allegro_sync", 0) / 1e6, 2),
            "largest": {name: round(size / 1e6, 2) for name, size in largest},
            "build_seconds": round(built, 1),
        }


def measure(repeats: int) -> dict[str, Any]:
    """`import boto3`, the floors and every handler in `repeats` rounds of fresh interpreters: the median
    ratio of CPU seconds to the `import boto3` beside it, and the best importtime ratio."""
    modules = [f.module for f in TOPOLOGY.functions]
    with tempfile.TemporaryDirectory() as folder:
        interpreter, path, warning = local_asset(Path(folder))
        version = subprocess.run(  # noqa: S603
            [interpreter, "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        cpu: dict[str, list[float]] = {}
        per_round: dict[str, list[float]] = {}
        wall: dict[str, float] = {}
        for _ in range(repeats):
            # `import boto3` runs between every two modules and each module's ratio is to the mean of the two
            # beside it: the load of the machine changes within seconds (other work on it), not only
            # between rounds.
            before = run_import(interpreter, path, "boto3")
            for module in [FLOOR, *FLOORS.values(), *modules]:
                cpu_s, import_s = run_import(interpreter, path, module)
                after = run_import(interpreter, path, "boto3")
                for name, (c, w) in ((module, (cpu_s, import_s)), ("boto3", before)):
                    cpu.setdefault(name, []).append(c)
                    wall[name] = min(wall.get(name, w), w)
                per_round.setdefault(module, []).append(cpu_s / ((before[0] + after[0]) / 2))
                before = after
        per_round["boto3"] = [1.0]
    median = {module: statistics.median(times) for module, times in cpu.items()}

    def ratios(module: str) -> dict[str, Any]:
        spread = per_round[module]
        return {
            "import_s": round(median[module], 3),
            "ratio_to_boto3": round(statistics.median(spread), 2),
            "ratio_range": [round(min(spread), 2), round(max(spread), 2)],
            "importtime_ratio_to_boto3": round(wall[module] / wall["boto3"], 2),
        }

    return {
        "repeats": repeats,
        "python": version,
        "how": "the asset's packages for this machine, .pyc compiled as shipped; CPU time of the import, "
        f"median over {repeats} rounds of the ratio to the `import boto3` run just before and after "
        f"(importtime: best of {repeats})",
        "warning": warning,
        "boto3_import_s": round(median["boto3"], 3),
        "boto3_importtime_s": round(wall["boto3"], 3),
        "floor": {"imports": FLOOR, **ratios(FLOOR)},
        "floors": {name: {"imports": imports, **ratios(imports)} for name, imports in FLOORS.items()},
        "handlers": {module.rsplit(".", 1)[-1]: ratios(module) for module in modules},
    }


def previous_ratios(directory: Path = RESULTS_DIR) -> dict[str, float]:
    """Each handler's and floor's ratio in the run recorded before this one (bench/results), if any."""
    try:
        figures = json.loads((directory / "cold_import.json").read_text())["figures"]
    except (OSError, ValueError, KeyError):
        return {}
    rows = {"floor": figures.get("floor", {})} | {
        f"floor with {name}": f for name, f in figures.get("floors", {}).items()
    }
    rows |= figures.get("handlers", {})
    return {name: row["ratio_to_boto3"] for name, row in rows.items() if "ratio_to_boto3" in row}


def main(repeats: int) -> None:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    before = previous_ratios()
    figures = measure(repeats)
    if figures["warning"]:
        print(f"WARNING: {figures['warning']}")
    boto3_ms = figures["boto3_import_s"] * 1000
    print(
        f"Python {figures['python']}; import boto3: {boto3_ms:.0f} ms CPU (median of {repeats}); "
        f"columns: x boto3 now (CPU, median of the rounds' ratios, their range), by importtime (best of "
        f"{repeats}), in the previous run"
    )
    rows = {"floor": figures["floor"]} | {f"floor with {n}": f for n, f in figures["floors"].items()}
    for name, f in rows.items():
        print(f"{name:<22} {f['ratio_to_boto3']:7.2f}x {_row(f, before.get(name))}  (import {f['imports']})")
    print(f"{'handler':<22} {'x boto3':>8} {'range':>11} {'importtime':>10} {'previous':>8} {'CPU':>9}")
    for name, h in figures["handlers"].items():
        flag = "" if h["ratio_to_boto3"] <= GOAL_RATIO else f"  above the {GOAL_RATIO}x goal"
        cpu_ms = h["import_s"] * 1000
        print(f"{name:<22} {h['ratio_to_boto3']:7.2f}x {_row(h, before.get(name))} {cpu_ms:6.0f} ms{flag}")
    ratios = [h["ratio_to_boto3"] for h in figures["handlers"].values()]
    imports = [h["import_s"] for h in figures["handlers"].values()]
    figures["max_ratio_to_boto3"] = max(ratios)
    figures["max_import_s"] = max(imports)
    figures["median_import_s"] = sorted(imports)[len(imports) // 2]
    print(f"slowest: {figures['max_ratio_to_boto3']:.2f}x import boto3 (goal <= {GOAL_RATIO}x)")
    figures["previous_ratio_to_boto3"] = before or None
    try:
        figures["asset"] = asset_size()
        asset = figures["asset"]
        print(
            f"Lambda asset: {asset['unzipped_mb']} MB unzipped (limit 250 MB), {asset['zipped_mb']} MB "
            f"zipped, {asset['files']} files; allegro_sync itself {asset['package_mb']} MB"
        )
        print("  largest: " + ", ".join(f"{k} {v} MB" for k, v in asset["largest"].items()))
    except Exception as exc:  # the import figures stand on their own
        figures["asset"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        print(f"Lambda asset: not measured ({figures['asset']['error']})")
    record("cold_import", figures)


def _row(figures: dict[str, Any], previous: float | None) -> str:
    """The rounds' range, the importtime ratio and the previous run's ratio, printed beside the CPU ratio."""
    was = f"{previous:7.2f}x" if previous is not None else "      -"
    low, high = figures["ratio_range"]
    return f"({low:.2f}-{high:.2f}) {figures['importtime_ratio_to_boto3']:9.2f}x {was}"


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
