"""The synthesized dashboard (opt-in: `-c dashboard=true`): a widget per queue and per function, and every
handler metric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from allegro_sync.topology import TOPOLOGY
from infra.dashboard import handler_metrics
from tests.infra.conftest import Synth, synthesize


@pytest.fixture(scope="session")
def body(synth_dir: Path) -> dict[str, Any]:
    """The dashboard body of ONE synth of the shipped topology (synthesizing is slow)."""
    synth: Synth = synthesize(synth_dir / "dashboard", TOPOLOGY, context={"dashboard": "true"})
    dashboards = synth.of_type("AWS::CloudWatch::Dashboard")
    assert len(dashboards) == 1
    (dashboard,) = dashboards.values()
    # DashboardBody is an Fn::Join of literal strings and resource references: render refs as their ids.
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else json.dumps(p).replace('"', "'") for p in parts)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def titles(body: dict[str, Any]) -> list[str]:
    return [w["properties"].get("title", "") for w in body["widgets"]]


def test_a_widget_per_queue_with_age_and_dlq_count(body: dict[str, Any]) -> None:
    for queue in TOPOLOGY.queues:
        (widget,) = [
            w for w in body["widgets"] if w["properties"].get("title", "").startswith(f"Queue {queue.name}:")
        ]
        metrics = json.dumps(widget["properties"]["metrics"])
        assert "ApproximateAgeOfOldestMessage" in metrics
        assert "ApproximateNumberOfMessagesVisible" in metrics


def test_a_widget_per_function_with_errors_throttles_duration(body: dict[str, Any]) -> None:
    for function in TOPOLOGY.functions:
        (widget,) = [
            w
            for w in body["widgets"]
            if w["properties"].get("title", "") == (f"Function {function.name}: errors, throttles / duration")
        ]
        metrics = json.dumps(widget["properties"]["metrics"])
        assert all(m in metrics for m in ("Errors", "Throttles", "Duration"))


def test_every_published_and_alarmed_business_metric_is_graphed(body: dict[str, Any]) -> None:
    business = json.dumps(
        [w for w in body["widgets"] if w["properties"].get("title", "").startswith("Business:")]
    )
    published = {m for names in handler_metrics().values() for m in names}
    assert {"OrderEventsEnqueued", "StockPushes", "WebhooksAccepted", "RepricingPriceChanges"} <= published
    for metric in published | {a.metric for a in TOPOLOGY.alarms}:
        assert f'MetricName=\\"{metric}\\"' in business, metric


def test_handler_metrics_reads_literal_names_from_code(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        'metrics.add_metric("One", unit, 1)\nmetrics.add_metric(name="Two", unit=u, value=1)\n'
        "metrics.add_metric(SOME_CONSTANT, unit, 1)\nother.add_dimension(name='x', value='y')\n"
    )
    (tmp_path / "b.py").write_text("x = 1\n")
    assert handler_metrics(tmp_path) == {"a": ["One", "Two"]}
