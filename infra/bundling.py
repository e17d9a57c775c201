"""The one Lambda asset, built without Docker.

Every function shares one asset: the `allegro_sync` package (minus the local-only emulator, runtime
and CLI) plus the runtime dependencies from pyproject.toml, installed by pip as manylinux aarch64
wheels for the Lambda Python version. pip runs once per dependency set: its output is cached under
build/, so repeated synths (and tests) only copy files.

The asset ships `.pyc` compiled by an interpreter of the runtime's exact minor version (a `.pyc` is only
read by the version that wrote it), with unchecked-hash headers so the zip's timestamps cannot invalidate
them: /var/task is read-only, and without them every cold start compiles the whole package again.
Without such an interpreter on this machine the asset still builds, from sources only, with a warning.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "functions" / "allegro_sync"
CACHE_DIR = ROOT / "build" / "lambda-deps"

# The runtime every function runs on; the asset's wheels and .pyc are made for exactly this version.
# 3.13, not 3.14: the .pyc must be written by the same minor version, and 3.13 is what this project's
# machines have (docs/architecture.md, "Cold start"). Lambda deprecates python3.13 on 2029-06-30.
LAMBDA_RUNTIME = cdk.aws_lambda.Runtime.PYTHON_3_13
LAMBDA_PYTHON_VERSION = LAMBDA_RUNTIME.name.removeprefix("python")
# Lambda's Python 3.13 runs on Amazon Linux 2023 (glibc 2.34): both tags install there.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# Local-only parts of the package: they pull in the CLI extra and are never imported by a handler.
EXCLUDED_SUBPACKAGES = frozenset({"emulator", "local", "cli"})
# The Lambda runtime ships boto3 and what it depends on; bundling them again adds ~15 MB and
# slows every cold start, so they are left out (and removed if another dependency pulls them in).
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
# Bump when the bundling recipe changes, so cached outputs built the old way are not reused.
RECIPE_VERSION = "2"
PYENV_VERSIONS = Path.home() / ".pyenv" / "versions"


@dataclass(frozen=True)
class Target:
    """What pip installs for: Lambda's (the default), or this machine's for the cold-import bench."""

    python_version: str = LAMBDA_PYTHON_VERSION
    platforms: tuple[str, ...] = PLATFORMS
    without_runtime_provided: bool = True


LAMBDA = Target()


class BundlingError(RuntimeError):
    """Local bundling failed; raised instead of letting CDK fall back to a Docker build."""


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """`[project].dependencies` minus what Lambda provides: read, never copied, so it cannot drift."""
    with pyproject.open("rb") as f:
        deps: list[str] = tomllib.load(f)["project"]["dependencies"]
    return [d for d in deps if _canonical(_requirement_name(d)) not in RUNTIME_PROVIDED]


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    if match is None:
        raise ValueError(f"cannot read a package name from requirement {requirement!r}")
    return match.group(0)


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _package_files() -> list[Path]:
    files = []
    for path in sorted(PACKAGE_DIR.rglob("*")):
        rel = path.relative_to(PACKAGE_DIR)
        if not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".pyc":
            continue
        if len(rel.parts) > 1 and rel.parts[0] in EXCLUDED_SUBPACKAGES:
            continue
        files.append(path)
    return files


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def dependencies_hash(requirements: list[str], target: Target = LAMBDA) -> str:
    return _digest(
        [RECIPE_VERSION.encode(), target.python_version.encode(), *map(str.encode, target.platforms)]
        + [str(target.without_runtime_provided).encode()]
        + [r.encode() for r in sorted(requirements)]
    )


def asset_hash(requirements: list[str], compiled: bool) -> str:
    """Content hash of the asset: dependency set, whether it ships .pyc, and every shipped source file
    (path and bytes). A synth that finds the interpreter after one that did not makes a new asset."""
    parts = [dependencies_hash(requirements).encode(), b"pyc" if compiled else b"sources only"]
    for path in _package_files():
        parts += [str(path.relative_to(PACKAGE_DIR)).encode(), path.read_bytes()]
    return _digest(parts)


def install_dependencies(requirements: list[str], cache_dir: Path = CACHE_DIR, for_: Target = LAMBDA) -> Path:
    """pip-install the requirements for Lambda's platform once; later calls return the cached directory."""
    target = cache_dir / dependencies_hash(requirements, for_)
    if (target / ".complete").exists():
        return target
    partial = target.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(partial), "--implementation", "cp", "--python-version", for_.python_version,
        "--only-binary=:all:", *(arg for p in for_.platforms for arg in ("--platform", p)), *requirements,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BundlingError(f"pip could not install the Lambda dependencies:\n{result.stderr[-2000:]}")
    if for_.without_runtime_provided:
        _remove_runtime_provided(partial)
    shutil.rmtree(partial / "bin", ignore_errors=True)
    (partial / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    for stale in cache_dir.iterdir():
        if stale != target:
            shutil.rmtree(stale, ignore_errors=True)
    return target


def _remove_runtime_provided(target: Path) -> None:
    """Delete, file by file from pip's RECORD, distributions the Lambda runtime already has."""
    root = target.resolve()
    # Read every name and file list before deleting anything: RECORD itself is among the files.
    found = [
        (d, d.metadata["Name"], list(d.files or ()))
        for d in importlib.metadata.distributions(path=[str(target)])
    ]
    for dist, name, files in found:
        if _canonical(name) not in RUNTIME_PROVIDED:
            continue
        # RECORD may list scripts outside the target (`../../bin/...`): never touch those.
        inside = [Path(str(dist.locate_file(f))).resolve() for f in files]
        inside = [f for f in inside if f.is_relative_to(root)]
        for file in inside:
            file.unlink(missing_ok=True)
        for top_level in {root / f.relative_to(root).parts[0] for f in inside}:
            if top_level.is_dir():
                shutil.rmtree(top_level)


def _version_of(interpreter: str) -> str | None:
    try:
        result = subprocess.run(  # noqa: S603
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


@functools.cache
def find_interpreter(version: str = LAMBDA_PYTHON_VERSION) -> str | None:
    """A CPython of exactly `version` on this machine: `pythonX.Y` on PATH, else pyenv's versions."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = sorted(PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"), reverse=True)
    candidates += [str(p) for p in pyenv]
    return next((c for c in candidates if c and _version_of(c) == version), None)


NO_INTERPRETER = (
    f"no Python {LAMBDA_PYTHON_VERSION} found (python{LAMBDA_PYTHON_VERSION} on PATH, "
    f"{PYENV_VERSIONS}/{LAMBDA_PYTHON_VERSION}.*): the Lambda asset ships without .pyc, so every cold "
    f"start compiles the package and its dependencies again. Install Python {LAMBDA_PYTHON_VERSION} and "
    "synth again."
)


def compile_tree(folder: Path, interpreter: str) -> None:
    """`.pyc` for every module under `folder`, with unchecked-hash headers: the zip's timestamps do not
    invalidate them, and the asset is rebuilt whenever a source changes (its hash covers every file)."""
    command = [
        interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
        "-s", str(folder), "-p", "/var/task", str(folder),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-2000:]
        raise BundlingError(f"compileall failed for the Lambda asset:\n{output}")


def build_asset(
    output_dir: Path,
    requirements: list[str],
    cache_dir: Path = CACHE_DIR,
    for_: Target = LAMBDA,
    interpreter: str | None = None,
) -> bool:
    """Dependencies from the cache, then the shipped package sources, into `output_dir`, compiled by
    `interpreter` (default: the one found for the target's version). False when it ships sources only."""
    deps = install_dependencies(requirements, cache_dir, for_)
    shutil.copytree(deps, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))
    for path in _package_files():
        dest = output_dir / "allegro_sync" / path.relative_to(PACKAGE_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    interpreter = interpreter or find_interpreter(for_.python_version)
    if interpreter is None:
        warn_no_interpreter()
        return False
    compile_tree(output_dir, interpreter)
    return True


def warn_no_interpreter() -> None:
    """Loud on purpose: the synth succeeds, and the deployed functions start slower than they should."""
    warnings.warn(NO_INTERPRETER, stacklevel=2)
    print(f"WARNING: {NO_INTERPRETER}", file=sys.stderr)


@jsii.implements(cdk.ILocalBundling)
class LocalBundler:
    """CDK's local bundling hook: builds the asset on this machine and never returns False,
    because False would make CDK try a Docker build, which this project must never depend on."""

    def __init__(self, requirements: list[str]) -> None:
        self._requirements = requirements

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        try:
            build_asset(Path(output_dir), self._requirements)
        except BundlingError:
            raise
        except Exception as exc:
            raise BundlingError(f"local bundling of the Lambda asset failed: {exc}") from exc
        return True


def lambda_code() -> cdk.aws_lambda.Code:
    """The shared asset. Its hash is computed here (not by CDK fingerprinting the tree) so it changes
    exactly when a shipped file or the dependency set changes."""
    requirements = runtime_requirements()
    compiled = find_interpreter() is not None
    if not compiled:
        warn_no_interpreter()
    return cdk.aws_lambda.Code.from_asset(
        str(PACKAGE_DIR),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=asset_hash(requirements, compiled),
        bundling=cdk.BundlingOptions(
            # Never pulled: LocalBundler always succeeds or raises. CDK requires an image to be named.
            image=cdk.DockerImage.from_registry("docker-bundling-is-disabled-for-allegro-sync"),
            local=LocalBundler(requirements),
        ),
    )
