"""Refresh against the emulator's rotating single-use refresh tokens and moto: "no lost seller" proofs."""

from __future__ import annotations

import threading
import time

import boto3
import pytest

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.accounts import DynamoRefreshLease
from allegro_sync.adapters.secrets import SecretsManagerVault
from allegro_sync.contracts.accounts import AccountDisconnected, AccountStatus, StoredAccount
from allegro_sync.custody import Custody
from allegro_sync.emulator import Emulator
from allegro_sync.services.account_refresh import refresh_due_accounts
from allegro_sync.services.tokens import AccountTokens, RefreshPolicy
from tests.integration.accounts.conftest import PREFIX, connect_shop1

pytestmark = pytest.mark.integration

TWELVE_HOURS = 43199


def test_twenty_concurrent_requests_near_expiry_make_exactly_one_refresh(
    custody: Custody, emulator: Emulator
) -> None:
    connect_shop1(custody, emulator)
    emulator.advance(TWELVE_HOURS - 120)  # two minutes left: inside the refresh margin
    secrets_client = boto3.client("secretsmanager")
    policy = RefreshPolicy(wait_poll_seconds=0.02)
    # Twenty "Lambdas": each its own secret cache, lease client and owner id; one shared AWS and Allegro.
    sources = [
        AccountTokens(
            "shop1",
            vault=SecretsManagerVault(PREFIX, client=secrets_client),
            lease=DynamoRefreshLease(items.table("control")),
            oauth=custody.oauth,
            events=custody.events,
            policy=policy,
            now=custody.now,
            sleep=time.sleep,
        )
        for _ in range(20)
    ]
    barrier = threading.Barrier(20)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def ask(source: AccountTokens) -> None:
        barrier.wait()
        try:
            tokens.append(source.access_token())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(s,)) for s in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    counters = emulator.refresh_counters("seller-one")
    assert (counters.attempts, counters.successes) == (1, 1)  # one refresh reached Allegro, no invalid_grant
    assert len(tokens) == 20
    assert len(set(tokens)) == 1
    info = emulator.oauth.authenticate(tokens[0])
    assert info.expires_at.timestamp() - emulator.clock.now().timestamp() > TWELVE_HOURS - 60
    assert custody.registry.get("shop1").last_refresh_at == pytest.approx(  # type: ignore[union-attr]
        emulator.clock.now().timestamp(), abs=2
    )


class _Killed(BaseException):
    """The refresher's process dies here: no finally of ours may pretend otherwise."""


class _DiesOnSave(SecretsManagerVault):
    def save(self, account: StoredAccount) -> None:
        raise _Killed


class _NeverReleases(DynamoRefreshLease):
    def release(self, name: str, owner: str, *, rotated_from: str | None = None) -> None:
        return None


def test_an_orphaned_lease_forces_a_refresh_even_when_the_access_token_is_still_valid(
    custody: Custody, emulator: Emulator
) -> None:
    """A forced refresh (after a 401) that died leaves a used refresh token: its grace is running out."""
    original = connect_shop1(custody, emulator)
    doomed = AccountTokens(
        "shop1",
        vault=_DiesOnSave(PREFIX),
        lease=_NeverReleases(items.table("control")),
        oauth=custody.oauth,
        events=custody.events,
        now=custody.now,
        sleep=custody.sleep,
    )
    with pytest.raises(_Killed):
        doomed.token_rejected(original.access_token)
    report = refresh_due_accounts(custody.registry, custody.tokens, margin_seconds=3600, now=custody.now())
    assert report.refreshed == ["shop1"]
    emulator.advance(120)  # well past the grace of the old refresh token
    emulator.advance(TWELVE_HOURS)
    assert custody.tokens("shop1").access_token()
    assert custody.registry.get("shop1").status is AccountStatus.CONNECTED  # type: ignore[union-attr]


def test_a_revoked_account_is_disconnected_alarmed_and_never_called_again(
    custody: Custody, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    connect_shop1(custody, emulator)
    emulator.disconnect("seller-one")  # the seller changed the password
    emulator.advance(TWELVE_HOURS - 60)
    with pytest.raises(AccountDisconnected, match="allegro-sync accounts connect shop1"):
        custody.tokens("shop1").access_token()
    profile = custody.registry.get("shop1")
    assert profile is not None
    assert profile.status is AccountStatus.DISCONNECTED
    assert profile.what_to_do() == "reconnect: allegro-sync accounts connect shop1"
    assert '"AccountDisconnected":[1.0]' in capsys.readouterr().out.replace(" ", "")
    attempts = emulator.refresh_count("seller-one")
    with pytest.raises(AccountDisconnected):
        custody.tokens("shop1").access_token()
    report = refresh_due_accounts(custody.registry, custody.tokens, margin_seconds=3600, now=custody.now())
    assert report.skipped == ["shop1"]
    assert emulator.refresh_count("seller-one") == attempts
