"""The shipped contract is exactly what the extraction script makes of Allegro's official spec."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from allegro_sync.emulator.validation import CONTRACT_PATH, validator_for

REPO = Path(__file__).resolve().parents[2]
FULL_SPEC = REPO.parent / "shared" / "allegro-api" / "openapi.yaml"
needs_spec = pytest.mark.skipif(
    not FULL_SPEC.is_file(),
    reason=f"the official spec is not at {FULL_SPEC} (only present in the dev workspace)",
)


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@needs_spec
def test_rerunning_the_extraction_reproduces_the_shipped_contract_byte_for_byte() -> None:
    extract = load_script("extract_contract")
    assert extract.render(FULL_SPEC.read_bytes()) == CONTRACT_PATH.read_text(encoding="utf-8")


@needs_spec
def test_extraction_refuses_a_spec_that_lacks_a_contract_operation(tmp_path: Path) -> None:
    extract = load_script("extract_contract")
    spec = yaml.load(FULL_SPEC.read_bytes(), Loader=extract._LOADER)  # noqa: S506 - safe loader
    del spec["paths"]["/order/events"]
    with pytest.raises(extract.ContractError, match="/order/events"):
        extract.extract(spec)


def test_contract_holds_exactly_the_projects_operations_and_no_prose() -> None:
    extract = load_script("extract_contract")
    contract = yaml.load(CONTRACT_PATH.read_bytes(), Loader=extract._LOADER)  # noqa: S506 - safe loader
    operations = {
        (method, path)
        for path, item in contract["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert operations == set(extract.OPERATIONS)
    for item in contract["paths"].values():
        for method, operation in item.items():
            if method != "parameters":
                assert "description" not in operation
                assert "summary" not in operation


def test_contract_is_a_valid_openapi_document() -> None:
    # openapi-core checks the document when it compiles it (once per process, shared with the emulator)
    assert validator_for(CONTRACT_PATH, check_spec=True).spec_path == CONTRACT_PATH.resolve()
