"""The Lambda asset recipe: what goes in, what stays out, and that pip runs once per dependency set.

pip itself is replaced here (no network in tests); `make synth` runs the real thing.
"""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra import bundling

pytestmark = pytest.mark.infra


def _no_pip(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("pip must not run when the dependency cache is warm")


def test_runtime_requirements_come_from_pyproject_without_boto3(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\n'
        'dependencies = ["boto3==1.0", "Botocore==1.0", "httpx==0.28.1", "pydantic[email]==2.1"]\n'
    )
    assert bundling.runtime_requirements(pyproject) == ["httpx==0.28.1", "pydantic[email]==2.1"]


def test_shipped_requirements_match_the_project() -> None:
    requirements = bundling.runtime_requirements()
    assert any(r.startswith("aws-lambda-powertools==") for r in requirements)
    assert not any(r.startswith("boto3") for r in requirements)


def test_local_only_code_is_not_shipped() -> None:
    shipped = {p.relative_to(bundling.PACKAGE_DIR).as_posix() for p in bundling._package_files()}
    assert "handlers/health.py" in shipped
    assert "topology.py" in shipped
    assert not [p for p in shipped if p.split("/")[0] in {"emulator", "local", "cli"}]
    assert not [p for p in shipped if "__pycache__" in p or p.endswith(".pyc")]


def test_warm_cache_skips_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    requirements = ["httpx==0.28.1"]
    cached = tmp_path / bundling.dependencies_hash(requirements)
    (cached / "httpx").mkdir(parents=True)
    (cached / ".complete").touch()
    monkeypatch.setattr(subprocess, "run", _no_pip)
    assert bundling.install_dependencies(requirements, tmp_path) == cached


def test_pip_failure_is_a_clear_error_and_caches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_pip(command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert "--only-binary=:all:" in command
        assert command[command.index("--python-version") + 1] == bundling.LAMBDA_PYTHON_VERSION == "3.13"
        assert "manylinux2014_aarch64" in command
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found for nope")

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(bundling.BundlingError, match="No matching distribution found for nope"):
        bundling.install_dependencies(["nope==1"], tmp_path)
    assert not list(tmp_path.glob("*/.complete"))


def test_bundler_raises_instead_of_falling_back_to_docker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(bundling, "install_dependencies", broken)
    with pytest.raises(bundling.BundlingError, match="disk full"):
        bundling.LocalBundler(["httpx==0.28.1"]).try_bundle(str(tmp_path))


def _warm_cache(tmp_path: Path, requirements: list[str]) -> Path:
    """A dependency cache pip already filled (with a stand-in httpx), so building runs no pip."""
    cache = tmp_path / "cache"
    deps = cache / bundling.dependencies_hash(requirements)
    (deps / "httpx").mkdir(parents=True)
    (deps / "httpx" / "__init__.py").write_text("VERSION = 1\n")
    (deps / ".complete").touch()
    return cache


def test_asset_holds_dependencies_and_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    requirements = ["httpx==0.28.1"]
    cache = _warm_cache(tmp_path, requirements)
    monkeypatch.setattr(subprocess, "run", _no_pip)
    monkeypatch.setattr(bundling, "find_interpreter", lambda *_: None)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.warns(UserWarning, match=r"no Python 3\.13 found .* ships without \.pyc"):
        assert bundling.build_asset(out, requirements, cache) is False  # sources only, and said so
    assert (out / "httpx" / "__init__.py").exists()
    assert (out / "allegro_sync" / "handlers" / "health.py").exists()
    assert not (out / "allegro_sync" / "emulator").exists()
    assert not (out / ".complete").exists()
    assert not list(out.rglob("*.pyc"))


def _lambda_python() -> str:
    interpreter = bundling.find_interpreter()
    if interpreter is None:
        pytest.skip(bundling.NO_INTERPRETER)
    return interpreter


def test_asset_ships_pyc_the_lambda_python_reads_whatever_the_zip_timestamps(tmp_path: Path) -> None:
    """Every module of the asset has a .pyc of the runtime's exact version (its magic number), with an
    unchecked-hash header: Lambda's unzipped timestamps cannot make Python ignore it."""
    interpreter = _lambda_python()
    requirements = ["httpx==0.28.1"]
    cache = _warm_cache(tmp_path, requirements)
    out = tmp_path / "out"
    out.mkdir()
    assert bundling.build_asset(out, requirements, cache) is True
    facts = subprocess.run(  # noqa: S603
        [interpreter, "-c", "import importlib.util, sys; print(importlib.util.MAGIC_NUMBER.hex(), "
         "'%d.%d' % sys.version_info[:2], sys.implementation.cache_tag)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    magic, version, tag = bytes.fromhex(facts[0]), facts[1], facts[2]
    assert version == bundling.LAMBDA_PYTHON_VERSION
    sources = [p for p in out.rglob("*.py") if "__pycache__" not in p.parts]
    assert out / "allegro_sync" / "handlers" / "order_worker.py" in sources
    assert out / "httpx" / "__init__.py" in sources
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        header = pyc.read_bytes()[:8]
        assert header[:4] == magic, source
        assert int.from_bytes(header[4:8], "little") == 0b01, source  # hash-based, source not checked


def test_a_synth_without_the_lambda_python_makes_another_asset() -> None:
    assert bundling.asset_hash(["httpx==0.28.1"], True) != bundling.asset_hash(["httpx==0.28.1"], False)


def test_the_interpreter_found_is_of_the_lambda_version() -> None:
    interpreter = _lambda_python()
    assert bundling._version_of(interpreter) == bundling.LAMBDA_PYTHON_VERSION


def test_runtime_provided_distributions_are_removed_and_nothing_outside(tmp_path: Path) -> None:
    target = tmp_path / "target"
    outside = tmp_path / "bin" / "jp.py"
    outside.parent.mkdir()
    outside.write_text("")
    for name, package in (("jmespath", "jmespath"), ("httpx", "httpx")):
        (target / package).mkdir(parents=True)
        (target / package / "__init__.py").write_text("")
        info = target / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "RECORD").write_text(
            f"{package}/__init__.py,,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n../bin/jp.py,,\n"
        )
    bundling._remove_runtime_provided(target)
    assert sorted(p.name for p in target.iterdir()) == ["httpx", "httpx-1.0.dist-info"]
    assert outside.exists()


def test_asset_hash_follows_the_dependency_set() -> None:
    assert bundling.asset_hash(["httpx==0.28.1"], True) != bundling.asset_hash(["httpx==0.28.0"], True)
    assert bundling.asset_hash(["httpx==0.28.1"], True) == bundling.asset_hash(["httpx==0.28.1"], True)


def _dependency_closure(names: set[str]) -> set[str]:
    """Canonical names of `names` and everything they require (as installed in this venv)."""
    seen: set[str] = set()
    todo = [bundling._canonical(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        todo += [bundling._canonical(bundling._requirement_name(r)) for r in requires if "extra ==" not in r]
    return seen


def _runtime_imports(path: Path) -> set[str]:
    """Top-level modules a file imports at run time (imports under `if TYPE_CHECKING:` excluded)."""
    tree = ast.parse(path.read_text())
    type_only = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for node in ast.walk(branch)
    }
    modules: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_shipped_code_imports_only_what_the_asset_contains() -> None:
    """A handler importing the CLI, the emulator or a dev-only library would only fail in AWS."""
    requirement_names = {bundling._requirement_name(r) for r in bundling.runtime_requirements()}
    allowed_dists = _dependency_closure(requirement_names | set(bundling.RUNTIME_PROVIDED))
    owners = importlib.metadata.packages_distributions()
    problems = []
    for path in bundling._package_files():
        if path.suffix != ".py":
            continue
        for module in _runtime_imports(path):
            top = module.split(".")[0]
            if top == "allegro_sync":
                if module.split(".")[1:2] and module.split(".")[1] in bundling.EXCLUDED_SUBPACKAGES:
                    problems.append(f"{path.name}: {module} is not shipped")
                continue
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            dists = {bundling._canonical(d) for d in owners.get(top, [])}
            if not dists & allowed_dists:
                problems.append(
                    f"{path.relative_to(bundling.PACKAGE_DIR)}: {module} is not a runtime dependency"
                )
    assert not problems, problems
