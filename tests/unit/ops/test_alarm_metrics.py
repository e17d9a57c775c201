"""The five alarmed metrics are published only when there is something to count, with the `service`
dimension alone (issue 21: one billed metric per name, nothing billed in a month with nothing to count)."""

from __future__ import annotations

import json

import pytest

from allegro_sync.adapters import alarm_metrics
from allegro_sync.adapters.disconnect_alarm import MetricDisconnectAlarm


def _published(out: str) -> list[tuple[str, list[list[str]], float]]:
    docs = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    return [
        (
            m["Name"],
            d["Dimensions"],
            doc[m["Name"]][0] if isinstance(doc[m["Name"]], list) else doc[m["Name"]],
        )
        for doc in docs
        for d in doc["_aws"]["CloudWatchMetrics"]
        for m in d["Metrics"]
    ]


def test_a_count_is_one_data_point_with_the_service_dimension_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    alarm_metrics.count("FulfillmentUpdatesDropped", 2)
    alarm_metrics.count("WebhooksRejected")
    assert _published(capsys.readouterr().out) == [
        ("FulfillmentUpdatesDropped", [["service"]], 2),
        ("WebhooksRejected", [["service"]], 1),
    ]


def test_nothing_to_count_publishes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    alarm_metrics.count("StockUnknownNotPushed", 0)
    assert capsys.readouterr().out == ""


def test_disabled_metrics_publish_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")  # as `make demo` runs
    alarm_metrics.count("OrdersNeedingAttention")
    assert capsys.readouterr().out == ""


def test_a_disconnected_account_is_one_metric_whoever_it_is(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Before issue 21 each account was a dimension too: one more billed metric per seller account."""
    alarm = MetricDisconnectAlarm("AllegroSync")
    alarm.account_disconnected("sklep-a")
    alarm.account_disconnected("sklep-b")
    assert _published(capsys.readouterr().out) == [("AccountDisconnected", [["service"]], 1)] * 2
    assert [getattr(r, "account", None) for r in caplog.records] == ["sklep-a", "sklep-b"]
