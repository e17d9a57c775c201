"""The only CloudWatch metrics the system publishes: the five a seller is alarmed on (issue 21).

Every other count is a field of a log line, read with CloudWatch Logs Insights (docs/operations.md). Each
metric carries the `service` dimension only, so five names are five billed metrics; CloudWatch bills a
custom metric only for the hours in which it is published, and `count` publishes nothing for zero, so a
month in which nothing needs the seller costs nothing here.
"""

from __future__ import annotations

from typing import Literal, get_args

AlarmMetric = Literal[
    "AccountDisconnected",  # Allegro refused an account's refresh token: the seller must reconnect
    "OrdersNeedingAttention",  # an order that could not be imported as it is (docs/orders.md)
    "FulfillmentUpdatesDropped",  # a shop's order update or tracking number did not reach Allegro
    "StockUnknownNotPushed",  # the shop could not say a SKU's stock: its offers keep the old level
    "WebhooksRejected",  # a shop delivery refused (4xx/5xx): WooCommerce disables a failing webhook
]
ALARM_METRICS: tuple[AlarmMetric, ...] = get_args(AlarmMetric)


def count(name: AlarmMetric, value: int = 1, *, namespace: str | None = None) -> None:
    """Publish `value` of `name` now, as one EMF log line (no API call), when it is above zero.

    A private provider per call: no dimension or metric left over from another invocation or another
    function of the same process (the local runtime runs them side by side), and nothing to flush at the
    end of a handler that had nothing to count. `POWERTOOLS_METRICS_DISABLED` is honoured.
    """
    if value <= 0:
        return
    from aws_lambda_powertools.metrics import MetricUnit  # imported when there is something to publish
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    provider = AmazonCloudWatchEMFProvider(namespace=namespace)
    provider.add_metric(name=name, unit=MetricUnit.Count, value=value)
    provider.flush_metrics()
