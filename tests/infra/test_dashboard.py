"""The synthesized dashboard (opt-in: `-c dashboard=true`): a widget per queue and per function, and every
published (alarmed) metric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from allegro_sync.adapters.alarm_metrics import ALARM_METRICS
from allegro_sync.topology import TOPOLOGY
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
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title", "").startswith("Business:")]
    graphed = [m for m in widget["properties"]["metrics"] if "AllegroSync" in m]
    for metric in set(ALARM_METRICS) | {a.metric for a in TOPOLOGY.alarms}:
        assert ["AllegroSync", metric, "service", "allegro-sync"] in [m[:4] for m in graphed], metric
    assert len(graphed) == len(ALARM_METRICS)
