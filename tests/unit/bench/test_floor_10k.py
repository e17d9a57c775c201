"""The report's 10,000 SKU floor (issue 21 goal 1): every line of that month, why it bills, what cuts it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from allegro_sync.topology import TOPOLOGY
from bench import cost, report
from bench._floor_10k import FLOOR_10K, ten_k_floor_markdown

FIXTURE = Path(__file__).with_name("soak_fixture.json")


@pytest.fixture
def month() -> cost.Estimate:
    document: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    document["aws_calls_by_function"] = {
        "repricer": {"dynamodb.BatchGetItem": 60},
        "stock_propagator": {"dynamodb.GetItem": 900},
    }
    document["aws_calls"] |= {
        "dynamodb.BatchGetItem": {"calls": 60, "items": 6000},
        "dynamodb.GetItem": {"calls": 900, "items": 900},
    }
    return cost.estimate(cost.parse_soak(document), TOPOLOGY, custom_metrics=5)


def rows(table: list[str]) -> dict[tuple[str, str], list[str]]:
    return {
        (cells[0], cells[1]): cells
        for line in table[7:]
        if (cells := [c.strip() for c in line.split("|")[1:-1]])
    }


def test_every_line_of_the_month_has_a_row_with_its_dollars_and_a_reason(month: cost.Estimate) -> None:
    table = rows(ten_k_floor_markdown(month, 8.0))
    billed = [line for line in month.lines if line.monthly_usd >= 0.01]
    assert set(table) == {(line.service, line.item) for line in billed}
    for line in billed:
        usd = month.adjusted_compute.monthly_usd if line is month.compute else line.monthly_usd
        service, item, dollars, kind, why = table[(line.service, line.item)]
        assert dollars == f"${usd:,.2f}"
        assert kind in {"shape", "security", "traffic"}
        assert why, f"{service} {item} says nothing"
        assert why != line.note, f"{service} {item} says nothing of its own"


def test_every_line_is_explained_by_the_table_not_left_to_its_note(month: cost.Estimate) -> None:
    """A new billed line in the model must be given its reason and remedy here."""
    explained = {key[0] + " " + key[1] for key in FLOOR_10K}
    for line in (line for line in month.lines if line.monthly_usd >= 0.01):
        assert f"{line.service} {line.item.split(' (')[0]}" in explained, line.item


def test_the_fixed_part_is_what_security_and_the_users_shape_keep(month: cost.Estimate) -> None:
    table = ten_k_floor_markdown(month, 8.0)
    fixed = sum(
        float(cells[2].strip("$").replace(",", ""))
        for cells in rows(table).values()
        if cells[3] in {"shape", "security"}
    )
    stated = re.search(r"one CDK stack\): \$([\d,.]+)", "\n".join(table))
    assert stated is not None
    assert float(stated.group(1).replace(",", "")) == pytest.approx(fixed, abs=0.05)
    assert f"Adjusted total ${month.total_adjusted:,.2f} against the goal of $8.00" in table[3]


def test_reads_and_compute_are_split_by_who_causes_them(month: cost.Estimate) -> None:
    table = rows(ten_k_floor_markdown(month))
    reads = table[("DynamoDB", "read request units")][4]
    largest = next(iter(month.reads_by_owner))
    assert (
        f"by owner: {largest} ${month.reads_by_owner[largest] * month.prices.dynamodb_read_unit:,.2f}"
        in reads
    )
    top = max(month.functions, key=lambda f: f.adjusted_gb_seconds)
    assert f"by function: {top.name} $" in table[("Lambda", "compute")][4]


def test_the_report_shows_the_10000_sku_floor(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / "soak.json")
    text = report.build(folder, tmp_path / "REPORT.md", tmp_path / "charts")
    floor = text.split("### The 10,000 SKU floor")[1].split("##")[0]
    assert "| Secrets Manager | secrets |" in floor
    assert "against the goal of $8.00" in floor
