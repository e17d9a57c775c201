"""The stack's CloudWatch dashboard, generated from the topology and the handlers' own metric calls.

Why generated: a widget per queue and per function comes from the same `TOPOLOGY` as the resources, and
the business metrics are read from the handlers' `add_metric(...)` calls, so a new queue, function or
metric shows up on the dashboard without anyone remembering to add it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from allegro_sync.topology import Topology

# Metrics are published by handlers and by the adapters that report a handler's outcome.
HANDLERS_DIR = Path(__file__).resolve().parents[1] / "functions" / "allegro_sync"
PERIOD = cdk.Duration.minutes(5)
WIDTH = 12  # two widgets per row on the 24-column grid
HEIGHT = 6


class _QueuePair(Protocol):
    queue: sqs.Queue
    dlq: sqs.Queue


def handler_metrics(handlers_dir: Path = HANDLERS_DIR) -> dict[str, list[str]]:
    """Module -> the metric names it publishes (literal names in its `add_metric` calls), package-wide."""
    found: dict[str, list[str]] = {}
    for path in sorted(handlers_dir.rglob("*.py")):
        names: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "add_metric":
                continue
            arg = next(
                (k.value for k in node.keywords if k.arg == "name"), node.args[0] if node.args else None
            )
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value not in names:
                names.append(arg.value)
        if names:
            found[path.stem] = names
    return found


def _business(namespace: str, metric: str) -> cloudwatch.MathExpression:
    # SEARCH, not a fixed dimension set: some handlers add dimensions (e.g. webhook `source`), and a
    # metric with {service, source} is a different series from one with {service} alone.
    return cloudwatch.MathExpression(
        expression=(
            f"SEARCH('Namespace=\"{namespace}\" MetricName=\"{metric}\"', 'Sum', {int(PERIOD.to_seconds())})"
        ),
        using_metrics={},
        label=metric,
        period=PERIOD,
    )


def build_dashboard(
    scope: Construct,
    *,
    name: str,
    topology: Topology,
    queues: Mapping[str, Any],
    functions: Mapping[str, lambda_.Function],
    schedule_dlq: sqs.Queue | None,
    namespace: str,
    handlers_dir: Path = HANDLERS_DIR,
) -> cloudwatch.Dashboard:
    """One dashboard: queues (age + DLQ), functions (errors, throttles, duration), business metrics."""
    dashboard = cloudwatch.Dashboard(scope, "Dashboard", dashboard_name=name)
    dashboard.add_widgets(
        cloudwatch.TextWidget(
            markdown=(
                f"# {name}\nQueues: oldest message age (a stuck consumer) and DLQ messages (replay with "
                "`allegro-sync dlq`). Functions: errors, throttles, duration. Then what the sync did. "
                "Runbook: docs/operations.md."
            ),
            width=24,
            height=2,
        )
    )
    widgets: list[cloudwatch.IWidget] = []
    for queue in topology.queues:
        pair: _QueuePair = queues[queue.name]
        widgets.append(
            cloudwatch.GraphWidget(
                title=f"Queue {queue.name}: oldest message age / DLQ messages",
                left=[
                    pair.queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum")
                ],
                right=[
                    pair.dlq.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label="DLQ messages"
                    )
                ],
                width=WIDTH,
                height=HEIGHT,
            )
        )
    if schedule_dlq is not None:
        widgets.append(
            cloudwatch.GraphWidget(
                title="Scheduled runs that failed every retry (schedule DLQ)",
                left=[
                    schedule_dlq.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum"
                    )
                ],
                width=WIDTH,
                height=HEIGHT,
            )
        )
    for function in topology.functions:
        fn = functions[function.name]
        widgets.append(
            cloudwatch.GraphWidget(
                title=f"Function {function.name}: errors, throttles / duration",
                left=[
                    fn.metric_errors(period=PERIOD, statistic="Sum"),
                    fn.metric_throttles(period=PERIOD, statistic="Sum"),
                ],
                right=[
                    fn.metric_duration(period=PERIOD, statistic="p99", label="p99 duration"),
                    fn.metric_duration(period=PERIOD, statistic="Average", label="avg duration"),
                ],
                width=WIDTH,
                height=HEIGHT,
            )
        )
    published = handler_metrics(handlers_dir)
    listed = {m for names in published.values() for m in names}
    alarmed_elsewhere = [a.metric for a in topology.alarms if a.metric not in listed]
    if alarmed_elsewhere:
        published = {**published, "alarmed": alarmed_elsewhere}
    for handler, names in published.items():
        widgets.append(
            cloudwatch.GraphWidget(
                title=f"Business: {handler}",
                left=[_business(namespace, m) for m in names],
                width=WIDTH,
                height=HEIGHT,
            )
        )
    for i in range(0, len(widgets), 24 // WIDTH):
        dashboard.add_widgets(*widgets[i : i + 24 // WIDTH])
    return dashboard
