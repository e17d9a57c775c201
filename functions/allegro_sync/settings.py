"""What a function is configured with: the only shipped module that reads the process environment.

A Lambda gets its resources as environment variables named by the topology (`TABLE_LEDGER`,
`QUEUE_ORDERS_URL`, `SECRET_ACCOUNTS`, ...) plus a few seller settings. `Settings.from_environ` turns one
such mapping into a typed, frozen value, once: in AWS from `os.environ` at cold start, in the local
runtime and in tests from the mapping the topology computes for each function. Everything else in the
package receives a `Settings` (through `bootstrap.Application`) and never looks at the environment, so
several functions can run side by side in one process without swapping variables.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from allegro_sync.contracts.orders import DEFAULT_BUYER_DATA_DAYS
from allegro_sync.topology import (
    ALLEGRO_BURST_RPM_ENV,
    ALLEGRO_RPM_BUDGET_ENV,
    TOPOLOGY,
    Topology,
    bucket_env,
    dlq_env,
    queue_env,
    secret_env,
    table_env,
    topic_env,
)

# Seller settings and switches, by the variable that carries them (CDK and the local runtime set them).
OFFER_SETTINGS_ENV = "OFFER_SETTINGS"
STOCK_COUNT_AT_ENV = "ORDER_STOCK_COUNT_AT"
BUYER_DATA_DAYS_ENV = "ORDER_BUYER_DATA_DAYS"
POLL_RUN_SECONDS_ENV = "ORDER_POLL_RUN_SECONDS"
POLL_INTERVAL_SECONDS_ENV = "ORDER_POLL_INTERVAL_SECONDS"
REPLAY_WINDOW_ENV = "WEBHOOK_REPLAY_WINDOW_SECONDS"
SECRET_MAX_AGE_ENV = "WEBHOOK_SECRET_MAX_AGE_SECONDS"  # noqa: S105 - a variable name, not a secret
REDIRECT_URI_ENV = "OAUTH_REDIRECT_URI"
FEED_URL_ENV = "REPRICING_FEED_URL"
SHOP_OVERLAP_ENV = "SHOP_RECONCILE_OVERLAP_SECONDS"
RETURNS_RESTOCK_ON_ENV = "RETURNS_RESTOCK_ON"  # issue 15: ARRIVAL (default) or ACCEPTANCE
LABEL_LINK_SECONDS_ENV = "LABEL_LINK_SECONDS"  # issue 15: how long the shop's label link works
DEFAULT_LABEL_LINK_SECONDS = 3600
KMS_KEY_ENV = f"{secret_env('accounts')}_KMS_KEY_ID"
ALLEGRO_ENVIRONMENT_ENV = "ALLEGRO_ENVIRONMENT"
ALLEGRO_API_URL_ENV = "ALLEGRO_API_URL"
ALLEGRO_UPLOAD_URL_ENV = "ALLEGRO_UPLOAD_URL"
ALLEGRO_OAUTH_URL_ENV = "ALLEGRO_OAUTH_URL"
METRICS_NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
AWS_ENDPOINT_ENV = "AWS_ENDPOINT_URL"
# Operator tooling (the CLI) only.
STACK_ENV = "ALLEGRO_SYNC_STACK"
API_URL_ENV = "ALLEGRO_SYNC_API_URL"
WEBHOOK_SECRET_ENV = "ALLEGRO_SYNC_WEBHOOK_SECRET"  # noqa: S105 - a variable name, not a secret
# Where `local up` writes what the CLI needs to reach it; "off" makes the CLI ignore a running `local up`.
LOCAL_SESSION_ENV = "ALLEGRO_SYNC_LOCAL_SESSION"

# One poll per invocation: the poll-tick chain brings the next one ORDER_POLL_INTERVAL_SECONDS later
# (services/orders/ticks.py); a longer run would be billed for sleeping between polls.
DEFAULT_POLL_RUN_SECONDS = 0.0
DEFAULT_POLL_INTERVAL_SECONDS = 5.0
DEFAULT_REPLAY_WINDOW_SECONDS = 300
DEFAULT_SECRET_MAX_AGE_SECONDS = 300
# The shop reconciliation re-reads this much before its cursor: saves committed out of order by the shop.
DEFAULT_SHOP_OVERLAP_SECONDS = 300


class NotWired(LookupError):
    """The function asked for a resource its topology entry does not give it (as it would fail in AWS)."""


class Settings(BaseModel):
    """One function's configuration. Resources are keyed by the topology's logical names."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    function_name: str = ""
    aws_endpoint_url: str | None = None
    region: str | None = None
    tables: dict[str, str] = Field(default_factory=dict)
    queues: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    # Operator tooling only (`allegro-sync dlq`, `status`): each queue's dead-letter queue URL.
    dead_letter_queues: dict[str, str] = Field(default_factory=dict)
    buckets: dict[str, str] = Field(default_factory=dict)  # issue 15: label PDFs (`BUCKET_LABELS`)
    topics: dict[str, str] = Field(default_factory=dict)  # issue 15, item 4: `TOPIC_SELLER_MESSAGES_ARN`
    kms_key_id: str | None = None
    allegro_environment: str = ""
    allegro_api_url: str = ""
    allegro_upload_url: str = ""
    allegro_oauth_url: str = ""
    allegro_rpm_budget: int | None = None
    # Set for bulk Allegro callers only (the catalogue import): the instance's pace on the shared pool.
    allegro_burst_rpm: int | None = None
    offer_settings: str = ""
    order_stock_count_at: str | None = None
    order_buyer_data_days: int = DEFAULT_BUYER_DATA_DAYS
    order_poll_run_seconds: float = DEFAULT_POLL_RUN_SECONDS
    order_poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS
    webhook_replay_window_seconds: int = DEFAULT_REPLAY_WINDOW_SECONDS
    webhook_secret_max_age_seconds: int = DEFAULT_SECRET_MAX_AGE_SECONDS
    oauth_redirect_uri: str | None = None
    repricing_feed_url: str | None = None
    shop_reconcile_overlap_seconds: int = DEFAULT_SHOP_OVERLAP_SECONDS
    returns_restock_on: Literal["ARRIVAL", "ACCEPTANCE"] = "ARRIVAL"  # issue 15, item 3
    label_link_seconds: int = DEFAULT_LABEL_LINK_SECONDS  # issue 15, item 1: the shop's label link
    metrics_namespace: str = "AllegroSync"
    stack_name: str | None = None
    api_url: str | None = None
    webhook_secret: str | None = None

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, *, topology: Topology = TOPOLOGY
    ) -> Settings:
        """From a function's environment: the process's (a Lambda, the CLI) or one the runtime computed."""
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, default: float) -> float:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number of seconds (0 or more), got {raw!r}")
            return value

        budget = text(ALLEGRO_RPM_BUDGET_ENV)
        burst = text(ALLEGRO_BURST_RPM_ENV)
        for name, value in ((ALLEGRO_RPM_BUDGET_ENV, budget), (ALLEGRO_BURST_RPM_ENV, burst)):
            if value is not None and not (value.isdigit() and int(value) >= 1):
                raise ValueError(f"{name} must be an integer of at least 1, got {value!r}")
        found = {
            "tables": {t.name: env[table_env(t.name)] for t in topology.tables if env.get(table_env(t.name))},
            "queues": {q.name: env[queue_env(q.name)] for q in topology.queues if env.get(queue_env(q.name))},
            "secrets": {
                s.name: env[secret_env(s.name)] for s in topology.secrets if env.get(secret_env(s.name))
            },
            "dead_letter_queues": {
                q.name: env[dlq_env(q.name)] for q in topology.queues if env.get(dlq_env(q.name))
            },
            "buckets": {
                b.name: env[bucket_env(b.name)] for b in topology.buckets if env.get(bucket_env(b.name))
            },
            "topics": {t.name: env[topic_env(t.name)] for t in topology.topics if env.get(topic_env(t.name))},
        }
        return cls(
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", ""),
            aws_endpoint_url=text(AWS_ENDPOINT_ENV),
            region=text("AWS_REGION") or text("AWS_DEFAULT_REGION"),
            kms_key_id=text(KMS_KEY_ENV),
            allegro_environment=(text(ALLEGRO_ENVIRONMENT_ENV) or "").lower(),
            allegro_api_url=text(ALLEGRO_API_URL_ENV) or "",
            allegro_upload_url=text(ALLEGRO_UPLOAD_URL_ENV) or "",
            allegro_oauth_url=text(ALLEGRO_OAUTH_URL_ENV) or "",
            allegro_rpm_budget=int(budget) if budget is not None else None,
            allegro_burst_rpm=int(burst) if burst is not None else None,
            offer_settings=text(OFFER_SETTINGS_ENV) or "",
            order_stock_count_at=text(STOCK_COUNT_AT_ENV),
            order_buyer_data_days=buyer_data_days(text(BUYER_DATA_DAYS_ENV), topology),
            order_poll_run_seconds=number(POLL_RUN_SECONDS_ENV, DEFAULT_POLL_RUN_SECONDS),
            order_poll_interval_seconds=number(POLL_INTERVAL_SECONDS_ENV, DEFAULT_POLL_INTERVAL_SECONDS),
            webhook_replay_window_seconds=int(number(REPLAY_WINDOW_ENV, DEFAULT_REPLAY_WINDOW_SECONDS)),
            webhook_secret_max_age_seconds=int(number(SECRET_MAX_AGE_ENV, DEFAULT_SECRET_MAX_AGE_SECONDS)),
            oauth_redirect_uri=text(REDIRECT_URI_ENV),
            repricing_feed_url=text(FEED_URL_ENV),
            shop_reconcile_overlap_seconds=int(number(SHOP_OVERLAP_ENV, DEFAULT_SHOP_OVERLAP_SECONDS)),
            returns_restock_on=restock_on(text(RETURNS_RESTOCK_ON_ENV)),
            label_link_seconds=label_link_seconds(text(LABEL_LINK_SECONDS_ENV)),
            metrics_namespace=text(METRICS_NAMESPACE_ENV) or "AllegroSync",
            stack_name=text(STACK_ENV),
            api_url=text(API_URL_ENV),
            webhook_secret=text(WEBHOOK_SECRET_ENV),
            **found,
        )

    def table(self, name: str) -> str:
        return self._wired(self.tables, name, table_env(name), "table")

    def queue(self, name: str) -> str:
        return self._wired(self.queues, name, queue_env(name), "queue")

    def secret(self, name: str) -> str:
        return self._wired(self.secrets, name, secret_env(name), "secret")

    def bucket(self, name: str) -> str:
        return self._wired(self.buckets, name, bucket_env(name), "bucket")

    def topic(self, name: str) -> str:
        return self._wired(self.topics, name, topic_env(name), "topic")

    def _wired(self, found: Mapping[str, str], name: str, variable: str, kind: str) -> str:
        try:
            return found[name]
        except KeyError:
            who = self.function_name or "this process"
            raise NotWired(
                f"{who} has no {kind} {name!r} ({variable} is not set): give the function the {kind} "
                "in topology.py"
            ) from None

    @property
    def has_explicit_allegro_urls(self) -> bool:
        return bool(self.allegro_api_url or self.allegro_upload_url or self.allegro_oauth_url)


def buyer_data_days(raw: str | None, topology: Topology = TOPOLOGY) -> int:
    """ORDER_BUYER_DATA_DAYS (CDK `-c buyerDataDays=N`): whole days, longer than a shop-outbox message can
    wait for the data (its retention plus its DLQ's), at most a year; None or empty: the default."""
    if raw is None or not raw.strip():
        return DEFAULT_BUYER_DATA_DAYS
    outbox = [q for q in topology.queues if q.personal_data]
    shortest = 1 + max((q.retention_days + q.dlq_retention_days for q in outbox), default=0)
    if not raw.strip().isdigit() or not shortest <= int(raw) <= 365:
        raise ValueError(
            f"{BUYER_DATA_DAYS_ENV} must be whole days from {shortest} (a queued order must still find its "
            f"buyer's address) to 365, got {raw!r}"
        )
    return int(raw)


def restock_on(raw: str | None) -> Literal["ARRIVAL", "ACCEPTANCE"]:
    """RETURNS_RESTOCK_ON (CDK `-c returnsRestockOn=...`): when a returned item is back in stock."""
    moment = (raw or "ARRIVAL").strip().upper()
    if moment == "ARRIVAL":
        return "ARRIVAL"
    if moment == "ACCEPTANCE":
        return "ACCEPTANCE"
    raise ValueError(f"{RETURNS_RESTOCK_ON_ENV} must be ARRIVAL or ACCEPTANCE, got {raw!r}")


def local_session_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The `local up` session file (default ~/.allegro-sync/local-session.json); None when switched off."""
    env = os.environ if environ is None else environ
    explicit = env.get(LOCAL_SESSION_ENV, "").strip()
    if explicit.lower() == "off":
        return None
    return Path(explicit) if explicit else Path.home() / ".allegro-sync" / "local-session.json"


@contextmanager
def exported(values: Mapping[str, str], *, unset: Iterable[str] = ()) -> Iterator[None]:
    """Put `values` in this process's environment for the block (and remove the `unset` names), then put
    back exactly what was there. For handing variables on: the local runtime gives the CLI and boto3 the
    local endpoint, the demo runs an operator command with a function's variables. Nothing in the package
    reads configuration this way; `Settings` does."""
    removed = [name for name in unset if name not in values]
    saved = {name: os.environ.get(name) for name in [*values, *removed]}
    for name in removed:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def label_link_seconds(raw: str | None) -> int:
    """LABEL_LINK_SECONDS (CDK `-c labelLinkSeconds=N`): the shop's presigned label link, 60 s to 7 days
    (SigV4's limit; a link signed with a Lambda's session credentials also ends with them, within hours)."""
    if raw is None:
        return DEFAULT_LABEL_LINK_SECONDS
    if not raw.strip().isdigit() or not 60 <= int(raw) <= 604_800:
        raise ValueError(f"{LABEL_LINK_SECONDS_ENV} must be 60 to 604800 seconds, got {raw!r}")
    return int(raw)
