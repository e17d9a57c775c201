"""Functions running side by side in the local runtime keep their metrics apart, and still flush them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from allegro_sync.local.invoker import isolate_metrics


def _emitted(out: str) -> set[str]:
    docs = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    return {m["Name"] for d in docs for s in d["_aws"]["CloudWatchMetrics"] for m in s["Metrics"]}


def test_a_handler_decorated_before_isolation_still_flushes_what_it_adds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics = Metrics(namespace="Test", service="one")

    @metrics.log_metrics
    def handler(event: Any, context: Any) -> None:
        metrics.add_metric("Handled", MetricUnit.Count, 1)

    isolate_metrics(metrics)  # after the decorator bound the provider, as for an imported handler module
    handler({}, None)

    assert _emitted(capsys.readouterr().out) == {"Handled"}
    assert metrics.metric_set == {}  # flushed and cleared


def test_two_isolated_modules_never_see_each_others_metrics() -> None:
    first, second = Metrics(namespace="Test", service="a"), Metrics(namespace="Test", service="b")
    isolate_metrics(first)
    isolate_metrics(second)

    first.add_metric("OnlyFirst", MetricUnit.Count, 1)

    assert "OnlyFirst" in first.metric_set
    assert second.metric_set == {}
    first.clear_metrics()
