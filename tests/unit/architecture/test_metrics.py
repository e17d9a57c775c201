"""Issue 21: at most five billed CloudWatch metrics. A custom metric costs $0.30 a month and every distinct
dimension combination is another one, so the code publishes only `adapters/alarm_metrics.py`'s names, each
with the `service` dimension alone, each alarmed; every other count is a field of a log line."""

from __future__ import annotations

import ast
from pathlib import Path

from allegro_sync.adapters.alarm_metrics import ALARM_METRICS
from allegro_sync.topology import TOPOLOGY

PACKAGE = Path(__file__).resolve().parents[3] / "functions" / "allegro_sync"
PUBLISHER = PACKAGE / "adapters" / "alarm_metrics.py"
# The local runtime isolates a handler module's `Metrics` if one has any (`local/invoker.py`): not deployed.
NOT_DEPLOYED = ("local", "emulator", "cli")
METRIC_CALLS = {"add_metric", "add_dimension", "single_metric", "set_default_dimensions", "log_metrics"}


def _deployed_modules() -> list[Path]:
    return [
        p
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.relative_to(PACKAGE).parts[0] not in NOT_DEPLOYED and p != PUBLISHER
    ]


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _counted_names() -> set[str]:
    """Literal names passed to `alarm_metrics.count(...)` across the deployed code."""
    names: set[str] = set()
    for path in _deployed_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _called(node) == "count" and node.args:
                first = node.args[0]
                receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
                if isinstance(receiver, ast.Name) and receiver.id == "alarm_metrics":
                    assert isinstance(first, ast.Constant), f"{path.name}: name the metric literally"
                    names.add(str(first.value))
    return names


def test_at_most_five_metric_names_each_one_billed_metric() -> None:
    assert 0 < len(ALARM_METRICS) <= 5
    assert len(set(ALARM_METRICS)) == len(ALARM_METRICS)


def test_no_module_publishes_a_metric_but_the_publisher() -> None:
    """Powertools' Metrics, `single_metric` or a dimension anywhere else would add billed metrics."""
    offenders = []
    for path in _deployed_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = {a.name for a in node.names}
                if node.module.startswith("aws_lambda_powertools.metrics") or (
                    node.module == "aws_lambda_powertools" and "Metrics" in imported
                ):
                    offenders.append(f"{path.relative_to(PACKAGE)}: imports {node.module}")
            if isinstance(node, ast.Call) and _called(node) in METRIC_CALLS:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} calls {_called(node)}")
    assert offenders == []


def test_every_metric_is_published_and_alarmed_and_every_business_alarm_uses_one() -> None:
    """A metric nobody alarms on is money for a graph; an alarm on a metric nobody publishes never fires."""
    assert _counted_names() == set(ALARM_METRICS)
    assert {a.metric for a in TOPOLOGY.alarms} == set(ALARM_METRICS)


def test_the_scan_sees_the_publishers() -> None:
    assert (PACKAGE / "handlers" / "order_worker.py") in _deployed_modules()
    assert {"WebhooksRejected", "AccountDisconnected"} <= _counted_names()  # from adapters, not handlers
