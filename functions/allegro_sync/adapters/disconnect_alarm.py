"""`DisconnectAlarm` as a CloudWatch metric: what raises the alarm when a seller account is disconnected."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from allegro_sync.adapters import alarm_metrics

logger = Logger(child=True)


class MetricDisconnectAlarm:
    """Publishes `AccountDisconnected` with the `service` dimension only (one billed metric, one alarm);
    which account is in the log line, never in a dimension (one billed metric per account otherwise)."""

    def __init__(self, namespace: str = "AllegroSync") -> None:
        self._namespace = namespace

    def account_disconnected(self, name: str) -> None:
        logger.error("Allegro account disconnected; the seller must reconnect it", extra={"account": name})
        alarm_metrics.count("AccountDisconnected", namespace=self._namespace)
