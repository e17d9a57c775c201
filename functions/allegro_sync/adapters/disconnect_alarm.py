"""`DisconnectAlarm` as a CloudWatch metric: what raises the alarm when a seller account is disconnected."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger(child=True)

METRIC_NAME = "AccountDisconnected"


class MetricDisconnectAlarm:
    """Publishes `AccountDisconnected` twice: per account (to see who) and per service (for one alarm)."""

    def __init__(self, namespace: str = "AllegroSync") -> None:
        self._namespace = namespace

    def account_disconnected(self, name: str) -> None:
        namespace = self._namespace
        logger.error("Allegro account disconnected; the seller must reconnect it", extra={"account": name})
        with single_metric(
            name=METRIC_NAME,
            unit=MetricUnit.Count,
            value=1,
            namespace=namespace,
            default_dimensions={"account": name},
        ):
            pass
        with single_metric(name=METRIC_NAME, unit=MetricUnit.Count, value=1, namespace=namespace):
            pass
