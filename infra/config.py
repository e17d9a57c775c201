"""Deployment settings read from CDK context (`-c key=value` or cdk.json), validated up front.

A typo in a flag must stop the synth with a message naming the flag, not deploy something odd.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import aws_logs as logs
from pydantic import ValidationError

from allegro_sync.services.publishing import OfferSettings
from allegro_sync.settings import (
    BUYER_DATA_DAYS_ENV,
    FEED_URL_ENV,
    LABEL_LINK_SECONDS_ENV,
    OFFER_SETTINGS_ENV,
    RETURNS_RESTOCK_ON_ENV,
    SHOP_OVERLAP_ENV,
    STOCK_COUNT_AT_ENV,
    buyer_data_days,
    label_link_seconds,
    restock_on,
)
from allegro_sync.topology import TOPOLOGY, ScheduleTrigger
from infra.naming import DEFAULT_NAME_PREFIX, DEFAULT_STACK_NAME

ALLEGRO_ENVIRONMENTS = ("production", "sandbox")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_RETENTION_DAYS = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


@dataclass(frozen=True)
class Settings:
    stack_name: str = DEFAULT_STACK_NAME
    name_prefix: str = DEFAULT_NAME_PREFIX
    allegro_environment: str = "production"
    log_level: str = "INFO"
    log_retention_days: int = 30
    api_throttle_rate: int = 50
    api_throttle_burst: int = 100
    alarm_email: str | None = None
    # Seller data is kept when the stack is deleted unless a dev stack opts in to destroying it.
    destroy_data_on_delete: bool = False
    # What costs money while nothing happens is opt-in (issue 21): X-Ray active tracing on every
    # invocation, the CloudWatch dashboard ($3 a month), and per-function Errors/Throttles alarms ($0.10
    # per alarm metric a month each). The default alarms watch what loses data: DLQs, the webhook API's
    # 5xx (a shop disables a webhook that keeps failing) and the business alarms of the topology.
    tracing: bool = False
    dashboard: bool = False
    detailed_alarms: bool = False
    # Deploy-time seller settings by env var name (OFFER_SETTINGS: offer defaults and EU product-safety data).
    deploy_settings: dict[str, str] = field(default_factory=dict)
    # Schedules a seller may run at another rate, by their topology `rate_context` key (minutes).
    schedule_minutes: dict[str, int] = field(default_factory=dict)
    # issue 15, item 4: e-mail subscriptions of the topics to the seller, by topic name (`-c messagesEmail=`)
    topic_emails: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,40}", self.stack_name):
            raise ValueError(f"stackName {self.stack_name!r}: letters, digits and '-', at most 41 characters")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", self.name_prefix):
            raise ValueError(f"namePrefix {self.name_prefix!r}: lower-case letters, digits and '-'")
        if self.allegro_environment not in ALLEGRO_ENVIRONMENTS:
            raise ValueError(
                f"allegroEnvironment must be one of {ALLEGRO_ENVIRONMENTS}, not {self.allegro_environment!r}"
            )
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"logLevel must be one of {LOG_LEVELS}, not {self.log_level!r}")
        if self.log_retention_days not in _RETENTION_DAYS:
            raise ValueError(
                f"logRetentionDays {self.log_retention_days} is not one of: {sorted(_RETENTION_DAYS)}"
            )
        if self.api_throttle_rate < 1 or self.api_throttle_burst < 1:
            raise ValueError("apiThrottleRate and apiThrottleBurst must be positive")
        for key, minutes in self.schedule_minutes.items():
            if not 1 <= minutes <= 1440:
                raise ValueError(f"{key} must be between 1 and 1440 minutes, not {minutes}")
        if self.alarm_email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.alarm_email):
            raise ValueError(f"alarmEmail {self.alarm_email!r} is not an e-mail address")
        for topic, address in self.topic_emails.items():
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
                raise ValueError(f"the e-mail for topic {topic} ({address!r}) is not an e-mail address")

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION_DAYS[self.log_retention_days]

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> Settings:
        """Build from `node.try_get_context`; CLI `-c` values arrive as strings, cdk.json ones typed."""
        defaults = cls()

        def text(key: str, default: str) -> str:
            value = get(key)
            return default if value is None else str(value)

        def number(key: str, default: int) -> int:
            value = get(key)
            if value is None:
                return default
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ValueError(f"context {key} must be a whole number, not {value!r}") from None

        def flag(key: str) -> bool:
            value = get(key)
            if value is None:
                return False
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError(f"context {key} must be true or false, not {value!r}")

        email = get("alarmEmail")
        return cls(
            stack_name=text("stackName", defaults.stack_name),
            name_prefix=text("namePrefix", defaults.name_prefix),
            allegro_environment=text("allegroEnvironment", defaults.allegro_environment),
            log_level=text("logLevel", defaults.log_level).upper(),
            log_retention_days=number("logRetentionDays", defaults.log_retention_days),
            api_throttle_rate=number("apiThrottleRate", defaults.api_throttle_rate),
            api_throttle_burst=number("apiThrottleBurst", defaults.api_throttle_burst),
            alarm_email=str(email) if email else None,
            destroy_data_on_delete=flag("destroyDataOnDelete"),
            tracing=flag("tracing"),
            dashboard=flag("dashboard"),
            detailed_alarms=flag("detailedAlarms"),
            deploy_settings=_deploy_settings(
                get("offerSettingsFile"), get("repricingFeedUrl"), get("orderStockCountAt")
            )
            | _shop_overlap(get("shopReconcileOverlapSeconds"))
            | _buyer_data_days(get("buyerDataDays"))
            | _restock_on(get("returnsRestockOn"))
            | _label_link(get("labelLinkSeconds")),
            schedule_minutes={
                key: number(key, trigger.rate_minutes)
                for trigger, _ in TOPOLOGY.schedules()
                if (key := trigger.rate_context) is not None
            },
            topic_emails={
                t.name: str(address)
                for t in TOPOLOGY.topics
                if t.email_context and (address := get(t.email_context))
            },
        )

    def rate_minutes(self, trigger: ScheduleTrigger) -> int:
        """The trigger's rate: the seller's `-c <rate_context>=N` if given, else the topology's."""
        key = trigger.rate_context
        return self.schedule_minutes.get(key, trigger.rate_minutes) if key else trigger.rate_minutes


def _buyer_data_days(value: Any) -> dict[str, str]:
    """How long a buyer's personal data stays after the order's last change (docs/privacy.md)."""
    if value is None:
        return {}
    try:
        return {BUYER_DATA_DAYS_ENV: str(buyer_data_days(str(value)))}
    except ValueError as error:
        raise ValueError(f"buyerDataDays: {error}") from None


def _label_link(value: Any) -> dict[str, str]:
    """Issue 15: how long the shop's presigned label link works, checked at synth time."""
    try:
        return {} if value is None else {LABEL_LINK_SECONDS_ENV: str(label_link_seconds(str(value)))}
    except ValueError as error:
        raise ValueError(f"labelLinkSeconds: {error}") from None


def _restock_on(value: Any) -> dict[str, str]:
    """Issue 15: when a returned item is back in stock (ARRIVAL or ACCEPTANCE), checked at synth time."""
    if value is None:
        return {}
    try:
        return {RETURNS_RESTOCK_ON_ENV: restock_on(str(value))}
    except ValueError as error:
        raise ValueError(f"returnsRestockOn: {error}") from None


def _shop_overlap(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not str(value).isdigit() or not 0 <= int(value) <= 86_400:
        raise ValueError(f"shopReconcileOverlapSeconds must be 0..86400 seconds, not {value!r}")
    return {SHOP_OVERLAP_ENV: str(int(value))}


def _deploy_settings(
    offer_settings_file: Any, repricing_feed_url: Any, order_stock_count_at: Any
) -> dict[str, str]:
    """Seller settings by env var name, checked at synth time so a typo fails the deploy, not a sale."""
    settings: dict[str, str] = {}
    if order_stock_count_at:
        moment = str(order_stock_count_at).upper()
        if moment not in ("BOUGHT", "READY_FOR_PROCESSING"):
            raise ValueError(f"orderStockCountAt must be BOUGHT or READY_FOR_PROCESSING, not {moment!r}")
        settings[STOCK_COUNT_AT_ENV] = moment
    if repricing_feed_url:
        url = str(repricing_feed_url)
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+|https://\S+", url):
            raise ValueError(f"repricingFeedUrl must be s3://bucket/key or https://..., not {url!r}")
        settings[FEED_URL_ENV] = url
    if offer_settings_file:
        settings.update(_offer_settings(offer_settings_file))
    return settings


def s3_object_arn(url: str) -> str | None:
    """`s3://bucket/key` -> the object's ARN (for a read grant); None for an HTTPS feed."""
    if not url.startswith("s3://"):
        return None
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return f"arn:aws:s3:::{bucket}/{key}"


def _offer_settings(offer_settings_file: Any) -> dict[str, str]:
    path = Path(str(offer_settings_file))
    try:
        settings = OfferSettings.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"offerSettingsFile {path}: {error.strerror}") from None
    except ValidationError as error:
        raise ValueError(f"offerSettingsFile {path} is not valid offer settings: {error}") from None
    return {OFFER_SETTINGS_ENV: settings.model_dump_json(exclude_defaults=True)}
