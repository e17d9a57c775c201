"""Account custody composed in one place: the vault, the registry, the lease, OAuth, the alarm and the use
cases built on them (`Accounts`, `AccountTokens`).

`bootstrap.Application.custody()` builds one `Custody` per function instance (so a warm Lambda reuses its
cached secrets and never refreshes on its own behalf twice); the CLI and the demo build one from a
deployment's names. Part of the composition root (it wires services to adapters), so it sits above both
layers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.oauth import AllegroOAuth
from allegro_sync.adapters.disconnect_alarm import MetricDisconnectAlarm
from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.accounts import (
    DynamoAccountRegistry,
    DynamoOneTimeStore,
    DynamoRefreshLease,
)
from allegro_sync.adapters.secrets import AppCredentialsStore, SecretsManagerVault
from allegro_sync.adapters.token_recovery import SqsRecoveryScheduler
from allegro_sync.contracts.accounts import AccountProfile
from allegro_sync.services.accounts import Accounts, DevicePrompt, RegistryEvents
from allegro_sync.services.tokens import AccountTokens, RecoveryScheduler, RefreshPolicy
from allegro_sync.settings import NotWired, Settings

RECOVERY_QUEUE = "token-recovery"


@dataclass(frozen=True)
class AccountsSettings:
    """Where account custody lives. From the Lambda env, the local runtime, or a deployed stack's outputs."""

    control_table: str
    accounts_secret_prefix: str
    app_credentials_secret: str
    kms_key_id: str | None = None
    # The `token-recovery` queue; None (an operator's tool without one) falls back to the scheduled
    # refresher finding the orphaned lease within a minute.
    recovery_queue_url: str | None = None
    # Explicit Allegro hosts (the emulator); None: each account talks to its own environment's hosts.
    allegro_hosts: AllegroEnvironment | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AccountsSettings:
        """From a function's variables, e.g. `LocalRuntime.environment("oauth")` (never the process's)."""
        return cls.from_settings(Settings.from_environ(env))

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountsSettings:
        """Where custody lives for a function; LookupError naming what is missing when it has none."""
        try:
            return cls(
                control_table=settings.table("control"),
                accounts_secret_prefix=settings.secret("accounts"),
                app_credentials_secret=settings.secret("app-credentials"),
                kms_key_id=settings.kms_key_id,
                recovery_queue_url=settings.queues.get(RECOVERY_QUEUE),
                allegro_hosts=allegro_hosts(settings),
            )
        except NotWired as error:
            raise LookupError(f"account custody is not configured: {error}") from None


def allegro_hosts(settings: Settings) -> AllegroEnvironment | None:
    """The explicit Allegro hosts (the emulator, a proxy), or None: each account uses its own environment."""
    if not settings.has_explicit_allegro_urls:
        return None
    return AllegroEnvironment.resolve(
        api_url=settings.allegro_api_url,
        upload_url=settings.allegro_upload_url,
        oauth_url=settings.allegro_oauth_url,
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
    recovery: RecoveryScheduler | None = None
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
        sqs_client: Any = None,
        metrics_namespace: str = "AllegroSync",
    ) -> Custody:
        client = secrets_client or boto3.client("secretsmanager")
        recovery = (
            SqsRecoveryScheduler(settings.recovery_queue_url, sqs_client or boto3.client("sqs"))
            if settings.recovery_queue_url
            else None
        )
        table = items.table(settings.control_table, dynamodb)
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
            oauth=oauth
            or AllegroOAuth(
                app_credentials.read,
                hosts=settings.allegro_hosts,
                fresh_credentials=lambda: app_credentials.read(fresh=True),
            ),
            events=RegistryEvents(registry, MetricDisconnectAlarm(metrics_namespace)),
            recovery=recovery,
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
            recovery=self.recovery,
            policy=policy,
            now=self.now,
            sleep=self.sleep,
        )


def connect_with_device_flow(
    name: str,
    *,
    on_prompt: Callable[[DevicePrompt], None],
    environment: str = "production",
    settings: AccountsSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> AccountProfile:
    """Connect a seller account with the device flow and store it (the CLI and the demo call this).

    `on_prompt` receives the verification URL and user code; the demo approves the code through the
    emulator there. Allegro hosts come from ALLEGRO_* env (the emulator) or production/sandbox.
    """
    built = Custody.build(settings, sleep=sleep)
    return built.accounts().connect_with_device_flow(name, environment=environment, on_prompt=on_prompt)
