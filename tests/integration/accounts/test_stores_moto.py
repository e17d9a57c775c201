"""The DynamoDB and Secrets Manager adapters against moto: conditional writes, single use, KMS, caching."""

from __future__ import annotations

import json

import boto3
import pytest

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.accounts import (
    DynamoAccountRegistry,
    DynamoOneTimeStore,
    DynamoRefreshLease,
)
from allegro_sync.adapters.secrets import AppCredentialsStore, SecretsManagerVault
from allegro_sync.bootstrap import Application
from allegro_sync.contracts.accounts import (
    AccountNotFound,
    AccountProfile,
    AccountStatus,
    LeaseGrant,
    StoredAccount,
    TokenStoreCorrupt,
)
from allegro_sync.custody import AccountsSettings
from allegro_sync.settings import Settings
from allegro_sync.topology import secret_env, table_env
from tests.integration.accounts.conftest import APP_SECRET, PREFIX, custody_environment

pytestmark = pytest.mark.integration


def _account(access: str = "a1", refresh: str = "r1") -> StoredAccount:
    return StoredAccount(
        name="shop1",
        status=AccountStatus.CONNECTED,
        access_token=access,
        refresh_token=refresh,
        expires_at=2_000_000_000.0,
        scopes=("allegro:api:orders:read",),
        seller_id="10000001",
        login="seller-one",
        environment="production",
        refreshed_at=1_999_956_801.0,
    )


def test_an_account_secret_is_created_under_the_prefix_with_the_stacks_kms_key(
    settings: AccountsSettings,
) -> None:
    vault = SecretsManagerVault(PREFIX, kms_key_id=settings.kms_key_id)
    vault.save(_account())
    described = boto3.client("secretsmanager").describe_secret(SecretId=f"{PREFIX}shop1")
    assert described["KmsKeyId"] == settings.kms_key_id
    assert vault.read("shop1", fresh=False) == _account()
    vault.save(_account("a2", "r2"))  # second save is a new version, not a second secret
    assert vault.read("shop1", fresh=False).refresh_token == "r2"


def test_a_cached_read_is_served_from_memory_until_forced(settings: AccountsSettings) -> None:
    writer = SecretsManagerVault(PREFIX)
    reader = SecretsManagerVault(PREFIX)
    writer.save(_account())
    assert reader.read("shop1", fresh=False).access_token == "a1"
    writer.save(_account("a2", "r2"))  # another process rotated the pair
    assert reader.read("shop1", fresh=False).access_token == "a1"
    assert reader.read("shop1", fresh=True).access_token == "a2"


def test_missing_and_malformed_secrets_give_specific_errors(settings: AccountsSettings) -> None:
    vault = SecretsManagerVault(PREFIX)
    with pytest.raises(AccountNotFound):
        vault.read("ghost", fresh=True)
    boto3.client("secretsmanager").create_secret(Name=f"{PREFIX}broken", SecretString="not json")
    with pytest.raises(TokenStoreCorrupt):
        vault.read("broken", fresh=True)


def test_app_credentials_keep_the_link_key_and_the_other_environment(settings: AccountsSettings) -> None:
    store = AppCredentialsStore(APP_SECRET)
    with pytest.raises(LookupError, match="accounts set-app"):
        store.read()
    first = store.write("cid", "csecret")
    assert len(first.link_signing_key) >= 32
    store.write("sandbox-id", "sandbox-secret", sandbox=True)
    creds = store.read()
    assert creds.for_environment("production") == ("cid", "csecret")
    assert creds.for_environment("sandbox") == ("sandbox-id", "sandbox-secret")
    assert creds.link_signing_key == first.link_signing_key
    assert "csecret" not in repr(creds)


def test_only_one_owner_holds_the_lease_until_it_expires(settings: AccountsSettings) -> None:
    lease = DynamoRefreshLease(items.table("control"))
    assert lease.acquire("shop1", "a", 100.0, 20.0) == LeaseGrant("")
    assert lease.acquire("shop1", "b", 110.0, 20.0) is None
    lease.release("shop1", "b")  # someone else's release must not free it
    assert lease.acquire("shop1", "b", 119.0, 20.0) is None
    assert lease.acquire("shop1", "b", 121.0, 20.0) is not None  # a's lease expired
    lease.release("shop1", "a", rotated_from="x")  # the slow former holder cannot free b's lease
    assert lease.holder("shop1") == "b"
    lease.release("shop1", "b", rotated_from="fp-1")
    assert lease.holder("shop1") is None
    # The next holder learns which refresh token the last completed refresh used up.
    assert lease.acquire("shop1", "c", 122.0, 20.0) == LeaseGrant("fp-1")
    lease.release("shop1", "c")  # a failed refresh keeps the record
    assert lease.acquire("shop1", "d", 123.0, 20.0) == LeaseGrant("fp-1")


def test_one_time_items_are_consumed_once_and_not_after_expiry(settings: AccountsSettings) -> None:
    store = DynamoOneTimeStore(items.table("control"))
    store.put("state#abc", {"account": "shop1", "verifier": "v"}, expires_at=200.0)
    assert store.consume("state#abc", now=100.0) == {"account": "shop1", "verifier": "v"}
    assert store.consume("state#abc", now=100.0) is None
    store.put("state#old", {"account": "shop1"}, expires_at=200.0)
    assert store.consume("state#old", now=300.0) is None
    assert store.consume("state#forged", now=100.0) is None


def test_registry_lists_profiles_and_records_refresh_and_disconnect(settings: AccountsSettings) -> None:
    registry = DynamoAccountRegistry(items.table("control"))
    for name in ("shop2", "shop1"):
        registry.put(
            AccountProfile(
                name=name,
                status=AccountStatus.CONNECTED,
                environment="sandbox",
                seller_id="1",
                login=f"{name}-login",
                scopes=("a", "b"),
                token_expires_at=1000.5,
                last_refresh_at=10.25,
                connected_at=10.25,
            )
        )
    registry.record_refresh("shop1", expires_at=5000.0, refreshed_at=4000.0, scopes=("a",))
    registry.record_refresh("ghost", expires_at=5000.0, refreshed_at=4000.0, scopes=("a",))
    registry.mark_disconnected("shop2", reason="invalid_grant", now=4500.0)
    profiles = {p.name: p for p in registry.all()}
    assert set(profiles) == {"shop1", "shop2"}
    assert profiles["shop1"].token_expires_at == 5000.0
    assert profiles["shop1"].last_refresh_at == 4000.0
    assert profiles["shop2"].status is AccountStatus.DISCONNECTED
    assert profiles["shop2"].what_to_do() == "reconnect: allegro-sync accounts connect shop2 --sandbox"
    assert registry.get("ghost") is None


def test_the_cli_finds_a_deployed_stack_and_its_kms_key(
    settings: AccountsSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from allegro_sync.cli.accounts_cmd import FUNCTION
    from allegro_sync.cli.deployment import find_settings

    for var in ("TABLE_CONTROL", "SECRET_ACCOUNTS", "SECRET_APP_CREDENTIALS", "ALLEGRO_SYNC_API_URL"):
        monkeypatch.delenv(var, raising=False)
    boto3.client("secretsmanager").create_secret(
        Name=APP_SECRET, SecretString="{}", KmsKeyId=settings.kms_key_id or ""
    )
    outputs = {
        "TABLECONTROL": "AllegroSync-Control1234",
        "SECRETACCOUNTS": PREFIX,
        "SECRETAPPCREDENTIALS": APP_SECRET,
        "APIURL": "https://abc.execute-api.eu-central-1.amazonaws.com",
    }
    template = {
        "Resources": {"Anchor": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName="MyShop", TemplateBody=json.dumps(template))

    found = find_settings("MyShop", function=FUNCTION)

    assert found.table("control") == "AllegroSync-Control1234"
    assert found.secret("accounts") == PREFIX
    assert found.kms_key_id == settings.kms_key_id
    assert found.api_url == outputs["APIURL"]
    with pytest.raises(LookupError, match="stack 'Nope' is not readable"):
        find_settings("Nope", function=FUNCTION)


def test_a_function_instance_keeps_one_token_source_per_account_and_deployment(
    settings: AccountsSettings,
) -> None:
    env = custody_environment(settings)
    app = Application(Settings.from_environ(env))
    first = app.tokens("shop1")
    assert app.tokens("shop1") is first  # a warm Lambda keeps its cache
    assert app.tokens("shop2") is not first
    SecretsManagerVault(PREFIX, kms_key_id=settings.kms_key_id).save(_account())
    assert first.access_token() == "a1"
    other = Application(Settings.from_environ({**env, secret_env("accounts"): "other-deployment/accounts/"}))
    assert other.tokens("shop1") is not first
    with pytest.raises(AccountNotFound):
        other.tokens("shop1").access_token()  # another deployment's vault: shop1 is not there
    registry = DynamoAccountRegistry(items.table("control"))
    for name, status in [
        ("b-shop", AccountStatus.CONNECTED),
        ("a-shop", AccountStatus.CONNECTED),
        ("gone", AccountStatus.DISCONNECTED),
    ]:
        registry.put(AccountProfile(name, status, "production", "1", "l", (), 0.0, 0.0, 0.0))
    assert [p.name for p in app.connected_accounts()] == ["a-shop", "b-shop"]
    unwired = Application(Settings.from_environ({k: v for k, v in env.items() if k != table_env("control")}))
    with pytest.raises(LookupError, match="TABLE_CONTROL is not set"):
        unwired.tokens("shop1")
