"""The per-process budget and the shared block, with a fake clock (no test waits)."""

from __future__ import annotations

import pytest

from allegro_sync.adapters.allegro.environment import PRODUCTION, SANDBOX, AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard, TokenBucket
from allegro_sync.contracts.allegro_errors import AllegroRateLimited
from tests.fixtures.clock import FakeClock
from tests.unit.client.fakes import FakeAllegro, make_client, reply


def test_bucket_allows_a_small_burst_then_paces_to_the_budget() -> None:
    clock = FakeClock()
    bucket = TokenBucket(600, clock=clock)  # 10 per second, burst of 60
    waits = [bucket.reserve() for _ in range(61)]
    assert waits[:60] == [0.0] * 60
    assert waits[60] == pytest.approx(0.1)
    clock.now += 1.0  # one second refills ten slots (minus the debt of one)
    assert [bucket.reserve() for _ in range(9)] == [0.0] * 9
    assert bucket.reserve() > 0


def test_a_minute_of_calls_through_the_client_never_exceeds_budget_plus_burst() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    allegro.route("GET", "/me", lambda _: reply(200, {"id": "1"}))
    guard = RateGuard(InMemoryBlockedUntilStore(), rpm_budget=120, clock=clock)
    client = make_client(allegro, clock=clock, guard=guard)
    start = clock.now
    sent_in_first_minute = 0
    while clock.now - start < 60:
        client.me()
        sent_in_first_minute += clock.now - start < 60
    assert sent_in_first_minute <= 120 + 12
    assert sent_in_first_minute >= 120


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TokenBucket(0)


def test_shared_record_is_cached_between_reads() -> None:
    clock = FakeClock()
    store = InMemoryBlockedUntilStore()
    guard = RateGuard(store, clock=clock, cache_seconds=5)
    for _ in range(100):
        guard.check()
    assert store.reads == 1
    store.extend_blocked_until(clock.now + 60)  # another instance got a 429
    guard.check()  # still within the cache window: not seen yet
    clock.now += 5
    with pytest.raises(AllegroRateLimited):
        guard.check()
    reads = store.reads
    for _ in range(10):
        with pytest.raises(AllegroRateLimited):
            guard.check()
    assert store.reads == reads  # while blocked, the cached end of the block is enough


def test_block_only_moves_forward() -> None:
    clock = FakeClock()
    store = InMemoryBlockedUntilStore()
    guard = RateGuard(store, clock=clock)
    guard.record_block(120)
    guard.record_block(10)
    assert store.read_blocked_until() == clock.now + 120


def test_unreadable_store_does_not_stop_the_sync() -> None:
    class Broken(InMemoryBlockedUntilStore):
        def read_blocked_until(self) -> float:
            raise OSError("dynamodb down")

    guard = RateGuard(Broken(), clock=FakeClock())
    guard.check()  # no exception: Allegro's own 429 remains the backstop


def test_environment_from_env() -> None:
    assert AllegroEnvironment.from_env({"ALLEGRO_ENVIRONMENT": "sandbox"}) == SANDBOX
    assert AllegroEnvironment.from_env({"ALLEGRO_ENVIRONMENT": "production"}) == PRODUCTION
    local = AllegroEnvironment.from_env(
        {
            "ALLEGRO_API_URL": "http://127.0.0.1:9000/",
            "ALLEGRO_UPLOAD_URL": "http://127.0.0.1:9000",
            "ALLEGRO_OAUTH_URL": "http://127.0.0.1:9000",
            "ALLEGRO_ENVIRONMENT": "production",
        }
    )
    assert local.api_url == "http://127.0.0.1:9000"
    assert SANDBOX.upload_url == "https://upload.allegro.pl.allegrosandbox.pl"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "ALLEGRO_ENVIRONMENT"),
        ({"ALLEGRO_ENVIRONMENT": "staging"}, "staging"),
        ({"ALLEGRO_API_URL": "http://127.0.0.1:1"}, "ALLEGRO_UPLOAD_URL"),
        (
            {"ALLEGRO_API_URL": "ftp://x", "ALLEGRO_UPLOAD_URL": "http://x", "ALLEGRO_OAUTH_URL": "http://x"},
            "api_url",
        ),
    ],
)
def test_bad_environment_gets_a_specific_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AllegroEnvironment.from_env(environ)
