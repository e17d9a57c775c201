"""The one place that wires account custody together: `token_source_for(name)` for every handler.

Handlers call `token_source_for("shop1")` and hand the result to `AllegroClient(environment, tokens=...)`.
Instances are kept per process so a warm Lambda reuses its cached secret and never refreshes on its own
behalf twice.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from allegro_sync.adapters.allegro.oauth import AllegroOAuth
from allegro_sync.adapters.dynamodb.accounts import (
    DynamoAccountRegistry,
    DynamoOneTimeStore,
    DynamoRefreshLease,
    control_table,
)
from allegro_sync.adapters.secrets import KMS_KEY_ENV, AppCredentialsStore, SecretsManagerVault
from allegro_sync.services.accounts import AccountProfile, Accounts, DevicePrompt, RegistryEvents
from allegro_sync.services.tokens import AccountStatus, AccountTokens, RefreshPolicy
from allegro_sync.topology import secret_env, table_env

logger = Logger(child=True)

METRIC_NAME = "AccountDisconnected"


class MetricDisconnectAlarm:
    """Publishes `AccountDisconnected` twice: per account (to see who) and per service (for one alarm)."""

    def account_disconnected(self, name: str) -> None:
        namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AllegroSync")
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


@dataclass(frozen=True)
class AccountsSettings:
    """Where account custody lives. From the Lambda env, the local runtime, or a deployed stack's outputs."""

    control_table: str
    accounts_secret_prefix: str
    app_credentials_secret: str
    kms_key_id: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AccountsSettings:
        """From a function's environment: the process's, or e.g. `LocalRuntime.environment("oauth")`."""
        env = os.environ if environ is None else environ
        missing = [
            v
            for v in (table_env("control"), secret_env("accounts"), secret_env("app-credentials"))
            if not env.get(v)
        ]
        if missing:
            raise LookupError(f"account custody is not configured: set {', '.join(missing)}")
        return cls(
            control_table=env[table_env("control")],
            accounts_secret_prefix=env[secret_env("accounts")],
            app_credentials_secret=env[secret_env("app-credentials")],
            kms_key_id=env.get(KMS_KEY_ENV) or None,
        )


@dataclass
class Custody:
    """Every adapter of account custody, built once per process."""

    settings: AccountsSettings
    vault: SecretsManagerVault
    app_credentials: AppCredentialsStore
    registry: DynamoAccountRegistry
    lease: DynamoRefreshLease
    one_time: DynamoOneTimeStore
    oauth: AllegroOAuth
    events: RegistryEvents
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def build(
        cls,
        settings: AccountsSettings,
        *,
        oauth: AllegroOAuth | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        secrets_client: Any = None,
        dynamodb: Any = None,
    ) -> Custody:
        client = secrets_client or boto3.client("secretsmanager")
        table = control_table(settings.control_table, dynamodb)
        app_credentials = AppCredentialsStore(settings.app_credentials_secret, client=client)
        registry = DynamoAccountRegistry(table)
        return cls(
            settings=settings,
            vault=SecretsManagerVault(
                settings.accounts_secret_prefix, kms_key_id=settings.kms_key_id, client=client
            ),
            app_credentials=app_credentials,
            registry=registry,
            lease=DynamoRefreshLease(table),
            one_time=DynamoOneTimeStore(table),
            oauth=oauth or AllegroOAuth(app_credentials.read),
            events=RegistryEvents(registry, MetricDisconnectAlarm()),
            now=now,
            sleep=sleep,
        )

    def accounts(self) -> Accounts:
        return Accounts(
            vault=self.vault,
            registry=self.registry,
            one_time=self.one_time,
            oauth=self.oauth,
            now=self.now,
            sleep=self.sleep,
        )

    def tokens(self, name: str, policy: RefreshPolicy | None = None) -> AccountTokens:
        return AccountTokens(
            name,
            vault=self.vault,
            lease=self.lease,
            oauth=self.oauth,
            events=self.events,
            policy=policy,
            now=self.now,
            sleep=self.sleep,
        )


_lock = threading.Lock()
_built: dict[tuple[AccountsSettings, str], Custody] = {}
_sources: dict[tuple[AccountsSettings, str, str], AccountTokens] = {}


def _key() -> tuple[AccountsSettings, str]:
    # Keyed by where things live, so a process that drives several deployments (the local runtime,
    # tests) never answers from another one's cached secrets.
    return AccountsSettings.from_env(), os.environ.get("AWS_ENDPOINT_URL", "")


def custody() -> Custody:
    """The process-wide custody for the current environment, built on first use."""
    key = _key()
    with _lock:
        if key not in _built:
            _built[key] = Custody.build(key[0])
        return _built[key]


def token_source_for(name: str) -> AccountTokens:
    """The `TokenSource` for one seller account; raises AccountDisconnected/AccountNotFound on use."""
    built = custody()
    key = (*_key(), name)
    with _lock:
        source = _sources.get(key)
        if source is None:
            source = _sources[key] = built.tokens(name)
        return source


def connected_accounts() -> list[AccountProfile]:
    """Accounts to work for (order poller, reconciler...): CONNECTED ones, by name. One DynamoDB query."""
    profiles = custody().registry.all()
    return sorted((p for p in profiles if p.status is AccountStatus.CONNECTED), key=lambda p: p.name)


def connect_with_device_flow(
    name: str,
    *,
    on_prompt: Callable[[DevicePrompt], None],
    environment: str = "production",
    settings: AccountsSettings | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> AccountProfile:
    """Connect a seller account with the device flow and store it (the CLI and the demo call this).

    `on_prompt` receives the verification URL and user code; the demo approves the code through the
    emulator there. Allegro hosts come from ALLEGRO_* env (the emulator) or production/sandbox.
    """
    built = Custody.build(settings or AccountsSettings.from_env(), sleep=sleep)
    return built.accounts().connect_with_device_flow(name, environment=environment, on_prompt=on_prompt)


def reset() -> None:
    """Forget the process-wide wiring (tests, and the local runtime when its environment changes)."""
    with _lock:
        _built.clear()
        _sources.clear()
