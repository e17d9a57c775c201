"""Token custody against fakes with Allegro's rotation rules: one refresh, saved before use, crash-safe."""

from __future__ import annotations

import threading

import pytest

from allegro_sync.contracts.accounts import (
    AccountDisconnected,
    AccountNotFound,
    AccountStatus,
    LeaseGrant,
    StoredAccount,
    TokenPair,
    TokenUnavailable,
)
from allegro_sync.services.tokens import AccountTokens, RefreshPolicy
from tests.unit.accounts.fakes import (
    FakeClock,
    MemoryLease,
    MemoryVault,
    RecordingEvents,
    RotatingOAuth,
    stored,
)


class World:
    def __init__(self, *, seconds_left: float) -> None:
        self.clock = FakeClock()
        self.vault = MemoryVault()
        self.lease = MemoryLease()
        self.oauth = RotatingOAuth(self.clock)
        self.events = RecordingEvents()
        first = self.oauth.issue()
        self.vault.items["shop1"] = stored(
            "shop1", first, expires_at=self.clock.now() + seconds_left, now=self.clock.now()
        )

    def tokens(self, **kwargs: object) -> AccountTokens:
        return AccountTokens(
            "shop1",
            vault=kwargs.pop("vault", self.vault),  # type: ignore[arg-type]
            lease=kwargs.pop("lease", self.lease),  # type: ignore[arg-type]
            oauth=self.oauth,
            events=self.events,
            now=self.clock.now,
            sleep=kwargs.pop("sleep", self.clock.sleep),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )


def test_a_fresh_token_is_served_without_calling_allegro() -> None:
    world = World(seconds_left=3600)
    assert world.tokens().access_token() == "access-1"
    assert world.oauth.calls == 0


def test_a_token_about_to_expire_is_refreshed_and_saved_before_it_is_handed_out() -> None:
    world = World(seconds_left=60)
    token = world.tokens().access_token()
    assert token == "access-2"
    assert world.oauth.calls == 1
    saved = world.vault.items["shop1"]
    assert saved.access_token == token
    assert saved.refresh_token == "refresh-2"
    assert saved.expires_at == pytest.approx(world.clock.now() + 43199)
    assert [r.access_token for r in world.events.refreshes] == ["access-2"]
    assert world.lease.holders == {}


def test_twenty_concurrent_callers_cause_exactly_one_refresh() -> None:
    world = World(seconds_left=30)
    barrier = threading.Barrier(20)
    results: list[str] = []
    errors: list[BaseException] = []

    def call() -> None:
        # Each caller is its own "Lambda": its own AccountTokens, shared vault and lease.
        source = world.tokens(sleep=lambda _s: None)
        barrier.wait()
        try:
            results.append(source.access_token())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert world.oauth.calls == 1
    assert results == ["access-2"] * 20


def test_invalid_grant_marks_the_account_disconnected_and_stops_all_calls() -> None:
    world = World(seconds_left=10)
    world.oauth.revoke_all()  # the seller changed the password
    source = world.tokens()
    with pytest.raises(AccountDisconnected, match="reconnect it with: allegro-sync accounts connect shop1"):
        source.access_token()
    assert world.vault.items["shop1"].status is AccountStatus.DISCONNECTED
    assert world.vault.items["shop1"].refresh_token == ""
    assert [name for name, _ in world.events.disconnects] == ["shop1"]
    calls = world.oauth.calls
    with pytest.raises(AccountDisconnected):
        world.tokens().access_token()
    assert world.oauth.calls == calls  # no further call reaches Allegro for it


class _Crash(BaseException):
    """Stands for the process dying: nothing after it runs in that 'process'."""


class _CrashOnSave(MemoryVault):
    def __init__(self, inner: MemoryVault) -> None:
        super().__init__()
        self.inner = inner

    def read(self, name: str, *, fresh: bool) -> StoredAccount:
        return self.inner.read(name, fresh=fresh)

    def save(self, account: StoredAccount) -> None:
        raise _Crash


class _DeadLease(MemoryLease):
    """The dead process never releases: its lease stays until it expires."""

    def __init__(self, inner: MemoryLease) -> None:
        super().__init__()
        self.inner = inner

    def acquire(self, name: str, owner: str, now: float, ttl_seconds: float) -> LeaseGrant | None:
        return self.inner.acquire(name, owner, now, ttl_seconds)

    def release(self, name: str, owner: str, *, rotated_from: str | None = None) -> None:
        return None


def test_a_refresher_killed_between_allegros_answer_and_the_save_is_recovered_by_the_next_caller() -> None:
    world = World(seconds_left=30)
    doomed = world.tokens(vault=_CrashOnSave(world.vault), lease=_DeadLease(world.lease))
    with pytest.raises(_Crash):
        doomed.access_token()
    assert world.oauth.calls == 1  # Allegro rotated the pair; the new one is lost
    assert world.vault.items["shop1"].refresh_token == "refresh-1"
    assert world.lease.holders  # the dead owner's lease is still there

    # The next caller waits out the lease (virtual clock), then redoes the refresh inside the grace.
    token = world.tokens().access_token()
    assert token == "access-3"
    assert world.vault.items["shop1"].refresh_token == "refresh-3"
    assert world.clock.now() - world.oauth.live["refresh-1"] < 60  # type: ignore[operator]
    assert world.events.disconnects == []


def test_a_failed_save_is_retried_so_the_new_pair_is_not_lost() -> None:
    world = World(seconds_left=30)
    failures = {"left": 2}

    class Flaky(MemoryVault):
        def read(self, name: str, *, fresh: bool) -> StoredAccount:
            return world.vault.read(name, fresh=fresh)

        def save(self, account: StoredAccount) -> None:
            if failures["left"]:
                failures["left"] -= 1
                raise ConnectionError("Secrets Manager throttled")
            world.vault.save(account)

    assert world.tokens(vault=Flaky()).access_token() == "access-2"
    assert world.oauth.calls == 1


def test_a_rejected_token_is_replaced_by_a_newer_one_without_a_second_refresh() -> None:
    world = World(seconds_left=3600)
    first = world.tokens()
    second = world.tokens()
    assert first.token_rejected("access-1") == "access-2"
    assert second.token_rejected("access-1") == "access-2"
    assert world.oauth.calls == 1


def test_waiting_for_a_lease_held_too_long_gives_up_with_a_clear_error() -> None:
    world = World(seconds_left=30)
    world.lease.holders["shop1"] = ("someone-else", world.clock.now() + 10_000)
    policy = RefreshPolicy(max_wait_seconds=0.0)
    with pytest.raises(TokenUnavailable, match="another process is refreshing account 'shop1'"):
        world.tokens(policy=policy).access_token()
    assert world.oauth.calls == 0


def test_an_unknown_account_says_how_to_connect_it() -> None:
    world = World(seconds_left=30)
    source = AccountTokens(
        "nobody",
        vault=world.vault,
        lease=world.lease,
        oauth=world.oauth,
        events=world.events,
        now=world.clock.now,
    )
    with pytest.raises(AccountNotFound, match="allegro-sync accounts connect nobody"):
        source.access_token()


@pytest.mark.parametrize(("margin", "refreshes"), [(60.0, 0), (7200.0, 1)])
def test_ensure_fresh_refreshes_only_inside_the_margin(margin: float, refreshes: int) -> None:
    world = World(seconds_left=3600)
    world.tokens().ensure_fresh(margin)
    assert world.oauth.calls == refreshes


def test_stored_tokens_never_appear_in_repr() -> None:
    world = World(seconds_left=30)
    text = repr(world.vault.items["shop1"])
    assert "access-1" not in text
    assert "refresh-1" not in text


class _LaggingVault(MemoryVault):
    """Answers one old copy after a save, like a replica that has not caught up yet."""

    def __init__(self, inner: MemoryVault, stale_copy: StoredAccount, lagging_reads: int) -> None:
        super().__init__()
        self.inner = inner
        self.stale_copy = stale_copy
        self.lagging_reads = lagging_reads

    def read(self, name: str, *, fresh: bool) -> StoredAccount:
        if self.lagging_reads:
            self.lagging_reads -= 1
            return self.stale_copy
        return self.inner.read(name, fresh=fresh)

    def save(self, account: StoredAccount) -> None:
        self.inner.save(account)


def test_a_read_that_lags_the_last_save_does_not_refresh_the_used_token_again() -> None:
    world = World(seconds_left=30)
    old = world.vault.items["shop1"]
    assert world.tokens().access_token() == "access-2"  # a completed rotation
    # The next caller's first reads still show the pre-rotation pair (old refresh token).
    lagging = world.tokens(vault=_LaggingVault(world.vault, old, lagging_reads=3))
    assert lagging.token_rejected("access-1") == "access-2"
    assert world.oauth.calls == 1


def test_invalid_grant_for_a_token_the_store_already_replaced_is_not_a_disconnect() -> None:
    world = World(seconds_left=30)
    old = world.vault.items["shop1"]
    world.tokens().access_token()  # rotates refresh-1 -> refresh-2
    world.clock.sleep(120)  # refresh-1 is now past Allegro's grace
    world.lease.rotated.clear()  # no rotation record (e.g. two rotations ago)
    lagging = world.tokens(vault=_LaggingVault(world.vault, old, lagging_reads=3))
    assert lagging.token_rejected("access-1") == "access-2"
    assert world.oauth.calls == 2  # the old token did reach Allegro and was refused
    assert world.events.disconnects == []
    assert world.vault.items["shop1"].status is AccountStatus.CONNECTED


def test_a_transient_allegro_failure_keeps_the_account_and_frees_the_lease() -> None:
    world = World(seconds_left=30)

    class Down(RotatingOAuth):
        def refresh(self, refresh_token: str, environment: str) -> TokenPair:
            raise ConnectionError("Allegro answered 503")

    source = AccountTokens(
        "shop1",
        vault=world.vault,
        lease=world.lease,
        oauth=Down(world.clock),
        events=world.events,
        now=world.clock.now,
        sleep=world.clock.sleep,
    )
    with pytest.raises(ConnectionError):
        source.access_token()
    assert world.vault.items["shop1"].status is AccountStatus.CONNECTED
    assert world.vault.items["shop1"].refresh_token == "refresh-1"
    assert world.lease.holders == {}
    assert world.events.disconnects == []
    assert world.tokens().access_token() == "access-2"  # Allegro is back: the next call refreshes


def test_a_reconnected_account_is_usable_at_once_despite_a_cached_disconnect() -> None:
    world = World(seconds_left=3600)
    live = world.vault.items["shop1"]

    class CachedDisconnect(MemoryVault):
        def read(self, name: str, *, fresh: bool) -> StoredAccount:
            return world.vault.read(name, fresh=True) if fresh else live.disconnected()

    assert world.tokens(vault=CachedDisconnect()).access_token() == "access-1"


def test_a_failing_registry_update_does_not_fail_the_token_request() -> None:
    world = World(seconds_left=30)

    class BrokenRegistry(RecordingEvents):
        def refreshed(self, account: StoredAccount) -> None:
            raise ConnectionError("DynamoDB throttled")

    source = AccountTokens(
        "shop1",
        vault=world.vault,
        lease=world.lease,
        oauth=world.oauth,
        events=BrokenRegistry(),
        now=world.clock.now,
        sleep=world.clock.sleep,
    )
    assert source.access_token() == "access-2"
    assert world.vault.items["shop1"].refresh_token == "refresh-2"
