"""Cold-start import time of every handler of the topology, and the size of the Lambda asset.

Import time: `python -X importtime -c "import allegro_sync.handlers.X"` in a fresh interpreter per run
(PYTHONDONTWRITEBYTECODE=1), best of N (one run for the "all cached" floor). Which .pyc files a run may use
decides the figure, so two are given:
- "lambda-like" (the headline): the standard library and the packages the Lambda runtime ships (boto3,
  botocore, ...) come precompiled, our package and its bundled dependencies are compiled from source on
  every cold start — the bundler ships no .pyc (`pip --no-compile`) and /var/task is read-only. Done with a
  private PYTHONPYCACHEPREFIX holding .pyc for exactly the former.
- "all cached": every module precompiled, the floor a warm file cache could reach.
This machine runs CPython 3.11 on x86_64; Lambda runs 3.14 on arm64: compare handlers with each other, and
take the absolute figure as an estimate.

Asset size: the asset is built the way `cdk synth` builds it (`infra.bundling.build_asset`, pip output cached
in build/), into a temporary folder, then measured unzipped (Lambda's limit: 250 MB) and zipped.

Run: .venv/bin/python -m bench.cold_import [repeats]   (default 3)
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from allegro_sync.topology import TOPOLOGY
from bench._results import record

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


def import_micros(stderr: str, module: str) -> int:
    """Cumulative microseconds `import module` took: the top-level importtime entries of the module and
    its parent packages (everything they pulled in is nested under them)."""
    parents = module.split(".")
    wanted = {".".join(parents[: i + 1]) for i in range(len(parents))}
    total = 0
    for line in stderr.splitlines():
        match = LINE.match(line)
        if match and len(match.group(3)) == 1 and match.group(4) in wanted:
            total += int(match.group(2))
    return total


def run_import(module: str, prefix: Path) -> tuple[float, float]:
    """(import seconds, interpreter wall seconds) of one fresh `import module`."""
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPYCACHEPREFIX": str(prefix),
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{result.stderr[-2000:]}")
    return import_micros(result.stderr, module) / 1e6, wall


def runtime_provided_roots() -> list[Path]:
    """Installed top-level packages of what the Lambda runtime ships (infra.bundling.RUNTIME_PROVIDED)."""
    from infra.bundling import RUNTIME_PROVIDED, _canonical

    site = Path(sysconfig.get_paths()["purelib"])
    roots = []
    for top, dists in importlib.metadata.packages_distributions().items():
        if any(_canonical(d) in RUNTIME_PROVIDED for d in dists):
            roots += [p for p in (site / top, site / f"{top}.py") if p.exists()]
    return roots


def prepare_prefixes(modules: list[str], folder: Path) -> tuple[Path, Path]:
    """Two .pyc trees: everything the handlers import ("all cached"), and the Lambda-like subset."""
    full, lambda_like = folder / "all", folder / "lambda"
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", "; ".join(f"import {m}" for m in modules)],
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(full),
            "AWS_DEFAULT_REGION": "eu-central-1",
        },
        check=True,
        capture_output=True,
    )
    shutil.copytree(full, lambda_like)
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    mirrored_site = lambda_like / site.relative_to(site.anchor)
    keep = {lambda_like / p.resolve().relative_to(site.anchor) for p in runtime_provided_roots()}
    if mirrored_site.is_dir():
        for entry in mirrored_site.iterdir():
            if entry not in keep and entry.with_suffix("") not in keep:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    package = (ROOT / "functions").resolve()
    shutil.rmtree(lambda_like / package.relative_to(package.anchor), ignore_errors=True)
    return full, lambda_like


def asset_size() -> dict[str, Any]:
    """Build the Lambda asset as `cdk synth` would (cached pip output) and measure it."""
    from infra.bundling import build_asset, runtime_requirements

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "asset"
        started = time.perf_counter()
        build_asset(out, runtime_requirements())
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
            "how": "built with infra.bundling.build_asset (what cdk synth runs), pip output from build/",
            "files": len(files),
            "unzipped_mb": round(unzipped / 1e6, 2),
            "zipped_mb": round(archive.stat().st_size / 1e6, 2),
            "package_mb": round(tops.get("allegro_sync", 0) / 1e6, 2),
            "largest": {name: round(size / 1e6, 2) for name, size in largest},
            "build_seconds": round(built, 1),
        }


def main(repeats: int) -> None:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    modules = [f.module for f in TOPOLOGY.functions]
    figures: dict[str, Any] = {"repeats": repeats, "python": sys.version.split()[0], "handlers": {}}
    with tempfile.TemporaryDirectory() as folder:
        full, lambda_like = prepare_prefixes(modules, Path(folder))
        print(f"{'handler':<22} {'lambda-like import':>20} {'(interpreter total)':>20} {'all cached':>12}")
        for module in modules:
            cold = min(run_import(module, lambda_like) for _ in range(repeats))
            warm = run_import(module, full)  # one run: the floor matters less than the headline
            name = module.rsplit(".", 1)[-1]
            figures["handlers"][name] = {
                "import_s": round(cold[0], 3),
                "interpreter_s": round(cold[1], 3),
                "cached_import_s": round(warm[0], 3),
            }
            print(f"{name:<22} {cold[0] * 1000:17.0f} ms {cold[1] * 1000:17.0f} ms {warm[0] * 1000:9.0f} ms")
    imports = [h["import_s"] for h in figures["handlers"].values()]
    figures["max_import_s"] = max(imports)
    figures["median_import_s"] = sorted(imports)[len(imports) // 2]
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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
