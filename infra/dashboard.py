"""The stack's CloudWatch dashboard (opt-in), generated from the topology and the published metrics.

Why generated: a widget per queue and per function comes from the same `TOPOLOGY` as the resources, and
the business metrics are `adapters/alarm_metrics.py`'s (the only ones the code can publish), so a new
queue, function or metric shows up on the dashboard without anyone remembering to add it. Every other
count is a log field: docs/operations.md has the Logs Insights queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from allegro_sync.adapters.alarm_metrics import ALARM_METRICS
from allegro_sync.topology import Topology

PERIOD = cdk.Duration.minutes(5)
WIDTH = 12  # two widgets per row on the 24-column grid
HEIGHT = 6


class _QueuePair(Protocol):
    queue: sqs.Queue
    dlq: sqs.Queue


def _business(namespace: str, service: str, metric: str) -> cloudwatch.Metric:
    # The `service` dimension alone: the only one the publisher sets (one billed metric per name).
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric,
        dimensions_map={"service": service},
        statistic="Sum",
        period=PERIOD,
        label=metric,
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
    service: str,
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
    alarmed = [*ALARM_METRICS, *(a.metric for a in topology.alarms if a.metric not in ALARM_METRICS)]
    widgets.append(
        cloudwatch.GraphWidget(
            title="Business: what needs the seller (alarmed metrics)",
            left=[_business(namespace, service, m) for m in alarmed],
            width=WIDTH,
            height=HEIGHT,
        )
    )
    for i in range(0, len(widgets), 24 // WIDTH):
        dashboard.add_widgets(*widgets[i : i + 24 // WIDTH])
    return dashboard
