"""The shared "blocked until" record on DynamoDB (moto): only moves forward, seen by every guard; the shared
request pool's draws: atomic, capped per slot and per seller."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from allegro_sync.adapters.allegro.rate_guard import RateGuard
from allegro_sync.adapters.allegro.shared_budget import Draw
from allegro_sync.adapters.dynamodb.rate_limit import DynamoBlockedUntilStore, DynamoSharedBudget
from allegro_sync.contracts.allegro_errors import AllegroRateLimited
from allegro_sync.local.provision import create_table
from tests.fixtures.clock import FakeClock
from tests.unit.client.fakes import FakeAllegro, make_client, reply

pytestmark = pytest.mark.integration
TABLE = "control-test"


@pytest.fixture
def table(aws: None) -> str:
    create_table(boto3.client("dynamodb"), TABLE)
    return TABLE


def test_record_is_created_and_only_moves_forward(table: str) -> None:
    store = DynamoBlockedUntilStore(table)
    assert store.read_blocked_until() == 0.0
    store.extend_blocked_until(1_800_000_060.5)
    store.extend_blocked_until(1_800_000_030.0)  # a late, shorter block must not shorten it
    assert store.read_blocked_until() == 1_800_000_060.5
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": "allegro#client"}, "sk": {"S": "rate-limit"}}
    )["Item"]
    assert item["blocked_until"]["N"] == "1800000060500"
    assert int(item["expires_at"]["N"]) > 1_800_000_060


def test_block_seen_by_one_instance_stops_another(table: str) -> None:
    clock = FakeClock()
    first = RateGuard(DynamoBlockedUntilStore(table), clock=clock)
    second = RateGuard(DynamoBlockedUntilStore(table), clock=clock)
    second.check()
    first.record_block(60)
    clock.now += 5  # past the second guard's cache window
    with pytest.raises(AllegroRateLimited):
        second.check()
    clock.now += 56
    second.check()


def test_a_429_seen_by_one_client_stops_a_client_in_another_process(table: str) -> None:
    clock = FakeClock()
    allegro = FakeAllegro()
    allegro.route("GET", "/me", lambda _: reply(200, {"id": "1"}))
    allegro.script("GET", "/me", reply(429, None, {"retry-after": "60"}))
    first = make_client(allegro, clock=clock, guard=RateGuard(DynamoBlockedUntilStore(table), clock=clock))
    second = make_client(allegro, clock=clock, guard=RateGuard(DynamoBlockedUntilStore(table), clock=clock))
    with pytest.raises(AllegroRateLimited):
        first.me()
    with pytest.raises(AllegroRateLimited):
        second.me()
    assert len(allegro.requests) == 1
    clock.now += 60
    assert second.me().id == "1"


def test_shared_pool_draws_never_pass_the_slot_cap_and_say_what_is_left(table: str) -> None:
    pool = DynamoSharedBudget(table)
    assert pool.claim(7, 25, limit=60) == Draw(True, 25)
    assert pool.claim(7, 25, limit=60) == Draw(True, 50)
    assert pool.claim(7, 25, limit=60) == Draw(False, 50)  # refused, and told that 10 are left
    assert pool.claim(7, 10, limit=60) == Draw(True, 60)
    assert pool.claim(8, 25, limit=60).granted  # the next slot starts empty


def test_shared_pool_counts_each_sellers_product_offer_writes(table: str) -> None:
    pool = DynamoSharedBudget(table)
    assert pool.claim(7, 5, limit=100, seller="shop1", writes=5, writes_limit=8) == Draw(True, 5, 5)
    assert pool.claim(7, 5, limit=100, seller="shop1", writes=5, writes_limit=8) == Draw(False, 5, 5)
    assert pool.claim(7, 5, limit=100, seller="shop2", writes=5, writes_limit=8) == Draw(True, 10, 5)


def test_concurrent_draws_of_many_instances_stay_within_the_cap(table: str) -> None:
    pool = DynamoSharedBudget(table)
    with ThreadPoolExecutor(8) as workers:
        draws = list(workers.map(lambda _: pool.claim(9, 7, limit=50), range(24)))
    assert sum(7 for d in draws if d.granted) == 49
