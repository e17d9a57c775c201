"""Modules small enough to read in one sitting: a handler is wiring, a service module is one use case."""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "functions" / "allegro_sync"
HANDLER_MAX_LINES = 80
SERVICE_MAX_LINES = 500


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("path", sorted((PACKAGE / "handlers").glob("*.py")), ids=lambda p: p.name)
def test_a_handler_module_is_thin_wiring(path: Path) -> None:
    assert _lines(path) <= HANDLER_MAX_LINES, f"{path.name}: move logic out of the handler"


@pytest.mark.parametrize("path", sorted((PACKAGE / "services").rglob("*.py")), ids=lambda p: p.name)
def test_a_service_module_holds_one_use_case(path: Path) -> None:
    assert _lines(path) <= SERVICE_MAX_LINES, f"{path.relative_to(PACKAGE)}: split it by use case"


def test_the_scan_sees_the_package() -> None:
    assert (PACKAGE / "handlers" / "order_worker.py").is_file()
    assert (PACKAGE / "services" / "stock.py").is_file()
