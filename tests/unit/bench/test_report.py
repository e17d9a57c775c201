"""The benchmark report: recorded results in, REPORT.md and PNG charts out, gaps shown as gaps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from allegro_sync.adapters.alarm_metrics import ALARM_METRICS
from allegro_sync.topology import TOPOLOGY
from bench import cost, report
from bench._results import load_all, record

FIXTURE = Path(__file__).with_name("soak_fixture.json")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / "soak.json")
    record(
        "stock_propagation",
        {"queued_p50_ms": 210, "queued_p99_ms": 480, "allegro_calls_per_change": 0.3125,
         "burst_changes": 1000, "burst_skus": 200},
        command=".venv/bin/python -m bench.stock_propagation 200 1000 50",
        directory=folder,
    )  # fmt: skip
    record("repricing_plan", {"offers": 100_000, "plan_wall_s": 7.5, "plan_cpu_s": 7.1}, directory=folder)
    return folder


def build(folder: Path, tmp_path: Path) -> str:
    return report.build(folder, tmp_path / "REPORT.md", tmp_path / "charts")


def test_record_keeps_figures_command_and_machine_facts(tmp_path: Path) -> None:
    path = record("demo", {"rate": 12.5}, command="make it", directory=tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["figures"] == {"rate": 12.5}
    assert document["command"] == "make it"
    assert document["machine"]["cpu_count"] >= 1
    assert len(document["machine"]["load_average"]) == 3
    assert load_all(tmp_path)["demo"]["figures"]["rate"] == 12.5


def test_record_refuses_a_name_that_is_not_a_file_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file name"):
        record("../escape", {}, directory=tmp_path)


def test_a_corrupt_result_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    assert "not valid JSON" in load_all(tmp_path)["broken"]["error"]


def test_headlines_carry_their_figures_and_reproducing_commands(results: Path, tmp_path: Path) -> None:
    text = build(results, tmp_path)
    assert "p50 210 ms / p99 480 ms" in text
    assert "`.venv/bin/python -m bench.stock_propagation 200 1000 50`" in text
    assert "0.312 (1,000 changes over 200 SKUs)" in text
    assert "7.50 s wall for 100,000 offers" in text
    assert "p50 1.80 s / p99 6.50 s" in text  # the soak's stock latency
    assert "all zero" in text  # the soak's loss counters


def test_the_cost_in_the_report_is_the_models(results: Path, tmp_path: Path) -> None:
    text = build(results, tmp_path)
    soak = cost.parse_soak(json.loads(FIXTURE.read_text(encoding="utf-8")))
    expected = cost.estimate(soak, TOPOLOGY, custom_metrics=report.count_custom_metrics())
    assert f"**${expected.total_measured:,.2f} per month**" in text
    assert f"**${expected.total_adjusted:,.2f} per month**" in text
    assert cost.Prices().source in text
    assert f"| CloudWatch | alarms | {cost.alarm_count(TOPOLOGY):.2f} |" in text


def test_missing_and_failed_benchmarks_are_marked(results: Path, tmp_path: Path) -> None:
    (results / report.RUN_FILE).write_text(
        json.dumps(
            {"started_at": "2000-01-01T00:00:00+00:00", "benchmarks": {"catalog_import": {"exit": 1}}}
        ),
        encoding="utf-8",
    )
    text = build(results, tmp_path)
    assert "| catalog_import | FAILED (exit 1) |" in text
    assert "| Catalogue import rate (CSV -> published offers, one worker) | **not measured** (FAILED" in text
    assert "| cold_import | not measured |" in text


def test_results_older_than_the_run_are_marked_stale(results: Path, tmp_path: Path) -> None:
    (results / report.RUN_FILE).write_text(json.dumps({"started_at": "2999-01-01T00:00:00+00:00"}))
    text = build(results, tmp_path)
    assert "| repricing_plan | stale (not from this run) |" in text
    assert "7.50 s wall for 100,000 offers (7.1 s CPU) (stale (not from this run))" in text


def test_a_soak_file_off_schema_leaves_the_cost_uncomputed_and_says_why(
    results: Path, tmp_path: Path
) -> None:
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    del document["config"]
    (results / "soak.json").write_text(json.dumps(document), encoding="utf-8")
    text = build(results, tmp_path)
    assert "| Monthly AWS cost | **not computed**: soak.json does not follow the schema" in text
    assert "config" in text


def test_charts_are_png_files(results: Path, tmp_path: Path) -> None:
    build(results, tmp_path)
    charts = sorted(p.name for p in (tmp_path / "charts").iterdir())
    assert charts == ["cost.png", "latency.png"]  # no cold_import result, no cold-import chart
    assert all((tmp_path / "charts" / name).read_bytes().startswith(PNG) for name in charts)


def test_custom_metrics_are_counted_from_the_code(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        'metrics.add_metric(name="One", unit=u, value=1)\nadd_metric("Two", u, 1)\n'
        'alarm_metrics.count("Three")\nalarm_metrics.count("One", 2)\n'
    )
    (tmp_path / "b.py").write_text('metrics.add_metric("One", unit=u, value=2)\n')
    assert report.count_custom_metrics(tmp_path) == 3


def test_the_code_publishes_the_five_alarmed_metrics_and_no_other() -> None:
    """Issue 21: 29 names ($8.70 a month) before; now each is alarmed and carries `service` alone."""
    assert report.count_custom_metrics() == len(ALARM_METRICS) <= 5


def test_the_report_prices_an_idle_shop_and_three_sizes_against_their_goals(
    results: Path, tmp_path: Path
) -> None:
    text = build(results, tmp_path)
    soak = cost.parse_soak(json.loads(FIXTURE.read_text(encoding="utf-8")))
    priced = cost.scenarios(soak, TOPOLOGY, custom_metrics=report.count_custom_metrics())
    assert [s.workload.skus for s, _ in priced] == [1_000, 1_000, 10_000, 100_000]
    idle, small, medium, large = (e for _, e in priced)
    # No traffic: nothing event-driven is billed, so idle costs less than the same catalogue with traffic.
    assert idle.total_adjusted < small.total_adjusted < medium.total_adjusted < large.total_adjusted
    assert all(f.invocations == 0 for f in idle.functions if f.driver in {"stock", "order", "stock+order"})
    headline = text.split("## Beside the peers")[0]
    idle_label = cost.SCENARIOS[0].label
    assert f"Monthly AWS cost, {idle_label} | ${idle.total_adjusted:,.2f} adjusted" in headline
    assert "goal <= $3.00" in headline
    assert "goal <= $8.00" in headline
    assert "### By shop size" in text
    assert (
        f"| 100,000 SKUs / 10,000 orders a day / 200,000 stock changes a day | ${large.total_adjusted:,.2f}"
        in text
    )


def test_the_idle_floor_lists_what_bills_with_no_traffic_and_what_removing_it_would_take(
    results: Path, tmp_path: Path
) -> None:
    text = build(results, tmp_path)
    floor = text.split("### The idle floor")[1]
    assert "| Secrets Manager | secrets |" in floor
    assert report.FLOOR_REMEDIES[("KMS", "customer managed key")] in floor


def test_cold_import_is_reported_as_the_slowest_ratio_to_boto3_with_its_chart(
    results: Path, tmp_path: Path
) -> None:
    handlers = {
        "health": {"import_s": 0.08, "ratio_to_boto3": 0.55},
        "order_worker": {"import_s": 0.2, "ratio_to_boto3": 1.37},
    }
    record(
        "cold_import",
        {
            "python": "3.13.0",
            "boto3_import_s": 0.146,
            "handlers": handlers,
            "warning": None,
            "floor": {"imports": "boto3, pydantic, aws_lambda_powertools", "ratio_to_boto3": 1.62},
        },
        directory=results,
    )
    text = build(results, tmp_path)
    assert (
        "0.55-1.37x `import boto3` (slowest order_worker; goal <= 1.5x, was 1.9-4.6x from sources); "
        "floor 1.62x (boto3 + pydantic + Powertools)"
    ) in text
    assert (tmp_path / "charts" / "cold_import.png").read_bytes().startswith(PNG)


def test_each_handler_is_shown_beside_the_floor_it_stands_on() -> None:
    """Issue 21, goal 6: where the floor itself is over 1.5x, the report says which floor and what it is."""
    floor = {"ratio_to_boto3": 1.2}
    results = {
        "cold_import": {
            "figures": {
                "floor": floor,
                "floors": {"models": {"ratio_to_boto3": 1.5}, "consumer": {"ratio_to_boto3": 1.8}},
                "handlers": {
                    "order_worker": {"ratio_to_boto3": 2.0},  # an SQS consumer
                    "reconciler": {"ratio_to_boto3": 1.6},  # scheduled: models only
                    "health": {"ratio_to_boto3": 0.6},
                },
            }
        }
    }

    lines = report._cold_floors(results)

    rows = {
        line.split(" | ")[0].lstrip("| "): line for line in lines if line.startswith("| ") and "x |" in line
    }
    assert "Powertools' batch utility | 1.80x | +0.20x" in rows["order_worker"]
    assert "a pydantic model defined | 1.50x | +0.10x" in rows["reconciler"]
    assert "| 1.20x | +0.00x" in rows["health"]
    assert any("our own partial-batch loop" in line for line in lines)
