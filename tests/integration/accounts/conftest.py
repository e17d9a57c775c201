"""Moto-backed account custody: a control table, the two secrets' names, a KMS key."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.oauth import AllegroOAuth
from allegro_sync.contracts.accounts import AccountProfile, AccountStatus, StoredAccount
from allegro_sync.custody import AccountsSettings, Custody
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local.provision import create_table
from allegro_sync.settings import KMS_KEY_ENV
from allegro_sync.topology import secret_env, table_env

PREFIX = "allegro-sync/accounts/"
APP_SECRET = "allegro-sync/app-credentials"


def create_control_table(name: str = "control", client: Any = None) -> None:
    """The control table's key shape (moto creates it ACTIVE at once, so no waiter)."""
    create_table(client or boto3.client("dynamodb"), name)


def connect_shop1(custody: Custody, emulator: Emulator, *, lifetime: float | None = None) -> StoredAccount:
    """Account `shop1` connected as the device flow leaves it, with tokens the emulator issues to seller-one
    (an existing seller); `lifetime`: seconds left on the access token (default: the emulator's)."""
    answer = emulator.issue_tokens("seller-one")
    now = emulator.clock.now().timestamp()
    account = StoredAccount(
        name="shop1",
        status=AccountStatus.CONNECTED,
        access_token=answer["access_token"],
        refresh_token=answer["refresh_token"],
        expires_at=now + (answer["expires_in"] if lifetime is None else lifetime),
        scopes=(),
        seller_id=emulator.seller_id("seller-one"),
        login="seller-one",
        environment="production",
        refreshed_at=now,
    )
    custody.vault.save(account)
    custody.registry.put(
        AccountProfile(
            name="shop1",
            status=AccountStatus.CONNECTED,
            environment="production",
            seller_id=account.seller_id,
            login="seller-one",
            scopes=(),
            token_expires_at=account.expires_at,
            last_refresh_at=now,
            connected_at=now,
        )
    )
    return account


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give moto DynamoDB's per-item atomicity for conditional writes.

    Real DynamoDB evaluates a condition and applies the write atomically; moto's in-process backend
    does not lock, so two threads can both pass `attribute_not_exists` (measured: up to 3 of 20 "win").
    Concurrency tests would then test moto, not our lease. One lock around item operations fixes that.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "get_item", "query", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


def custody_environment(settings: AccountsSettings) -> dict[str, str]:
    """The variables a function with account custody gets for `settings` (as the topology gives them)."""
    env = {
        table_env("control"): settings.control_table,
        secret_env("accounts"): settings.accounts_secret_prefix,
        secret_env("app-credentials"): settings.app_credentials_secret,
    }
    if settings.kms_key_id:
        env[KMS_KEY_ENV] = settings.kms_key_id
    return env


@pytest.fixture
def settings(aws: None, atomic_dynamodb: None) -> AccountsSettings:
    create_control_table()
    key = boto3.client("kms").create_key(Description="accounts")["KeyMetadata"]["Arn"]
    return AccountsSettings(
        control_table="control",
        accounts_secret_prefix=PREFIX,
        app_credentials_secret=APP_SECRET,
        kms_key_id=key,
    )


@pytest.fixture
def allegro_env(emulator: Emulator) -> dict[str, str]:
    """The three Allegro hosts, all on the emulator (passed explicitly: no process env is changed)."""
    return {
        "ALLEGRO_API_URL": emulator.base_url,
        "ALLEGRO_UPLOAD_URL": emulator.base_url,
        "ALLEGRO_OAUTH_URL": emulator.base_url,
    }


@pytest.fixture
def custody(settings: AccountsSettings, emulator: Emulator, allegro_env: dict[str, str]) -> Custody:
    """Account custody on moto + the emulator, reading the emulator's clock; sleeping advances it."""
    emulator.create_seller("seller-one")
    built = Custody.build(
        settings,
        now=lambda: emulator.clock.now().timestamp(),
        sleep=emulator.advance,
    )
    built.app_credentials.write(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    built.oauth = AllegroOAuth(built.app_credentials.read, hosts=AllegroEnvironment.explicit(allegro_env))
    return built
