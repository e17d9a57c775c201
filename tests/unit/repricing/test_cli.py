"""`reprice simulate` replays a competitor history offline; `prices configure` refuses a bad file whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from allegro_sync.cli.main import app

HISTORY = """date,sku,competitor,price
2026-11-01,SKU-1,rival-a,120.00
2026-11-01,SKU-1,rival-b,125.00
2026-11-02,SKU-1,rival-a,110.00
2026-11-02,SKU-1,rival-b,abc
2026-11-03,SKU-1,rival-a,40.00
"""


def test_simulate_prints_the_price_path_and_margin_per_day(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text(HISTORY)
    result = CliRunner().invoke(
        app,
        [
            "reprice",
            "simulate",
            str(history),
            "--cost",
            "80",
            "--price",
            "130",
            "--fee-rate",
            "0.10",
            "--chart",
            str(tmp_path / "path.png"),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "2026-11-0" in line]
    assert len(lines) == 3
    assert "119.99" in lines[0]  # beat 120.00 by a cent
    assert "109.99" in lines[1]  # the rival dropped, we follow (10 % step allowed)
    assert "98.99" in lines[2]  # 40.00 is far below: 10 % step from 109.99, still above the floor
    assert "skipped row 4" in result.output
    margins = [line.split("│")[5].strip() for line in lines]
    assert (tmp_path / "path.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert margins[0] == "27.99"  # 119.99 - 80 - 12.00 fee


def test_simulate_refuses_unreadable_input(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text("date,sku,competitor,price\nnot-a-date,SKU-1,r,1\n")
    result = CliRunner().invoke(app, ["reprice", "simulate", str(history), "--cost", "x", "--price", "1"])
    assert result.exit_code == 1
    result = CliRunner().invoke(app, ["reprice", "simulate", str(history), "--cost", "1", "--price", "2"])
    assert result.exit_code == 1
    assert "no usable rows" in result.output


def test_configure_refuses_a_file_with_one_bad_entry(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(
        '[{"account": "a", "strategy": "feed"}, {"sku": "X", "seller_min": "10", "seller_max": "5"}]'
    )
    result = CliRunner().invoke(app, ["prices", "configure", str(settings)], env={"AWS_ENDPOINT_URL": ""})
    assert result.exit_code == 1
    assert "seller_min 10 is above seller_max 5" in result.output


def test_reprice_dry_run_prints_the_plan_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from allegro_sync.bootstrap import Application
    from allegro_sync.domain.repricing import RepricingSettings, Strategy
    from allegro_sync.services.repricing import Repricer
    from allegro_sync.topology import TOPOLOGY, secret_env, table_env
    from tests.fixtures.changes import FakeChangeLog
    from tests.unit.repricing.test_service import T0, Facts, FakeAllegro, MemoryStore, listing

    spec = TOPOLOGY.function("repricer")
    for name in [table_env(t) for t in spec.tables] + [secret_env(s) for s in spec.secrets]:
        monkeypatch.setenv(name, "unused")
    store, log = MemoryStore([RepricingSettings(strategy=Strategy.DEMAND)]), FakeChangeLog()
    api = FakeAllegro([listing("7701", "SKU-A", 40, 0)])
    # The repricer's variables are all set, so the command finds the deployment from them alone; its
    # application then hands out these in-memory stand-ins.
    monkeypatch.setattr(Application, "repricer", lambda self: Repricer(store, Facts(), log, clock=lambda: T0))
    monkeypatch.setattr(Application, "connected_clients", lambda self: {"shop1": api})

    result = CliRunner().invoke(app, ["reprice", "--dry-run"], env={"COLUMNS": "250"})

    assert result.exit_code == 0, result.output
    assert "dry run: nothing changed" in result.output
    assert "7701" in result.output
    assert "97.00" in result.output  # 40 in stock, nothing sold in 30 days: 3 % down
    assert api.price_calls == []
    assert log.changes == []
    missing = CliRunner().invoke(app, ["reprice", "--dry-run", "--account", "nope"])
    assert missing.exit_code == 1
