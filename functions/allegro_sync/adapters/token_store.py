"""Moved to `allegro_sync.custody` (it composes services and adapters, so it is part of the composition
root); re-exported so older imports keep working. import-linter ignores this module's upward import."""

from allegro_sync.adapters.disconnect_alarm import METRIC_NAME as METRIC_NAME
from allegro_sync.adapters.disconnect_alarm import MetricDisconnectAlarm as MetricDisconnectAlarm
from allegro_sync.custody import AccountsSettings as AccountsSettings
from allegro_sync.custody import Custody as Custody
from allegro_sync.custody import connect_with_device_flow as connect_with_device_flow
