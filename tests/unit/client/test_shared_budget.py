"""The shared Allegro pool, simulated on a fake clock: every function instance of the topology calls as fast
as its guard admits it, and what reaches Allegro is counted over every sliding minute (no test waits)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import pytest

from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard, pooled_rate_guard
from allegro_sync.adapters.allegro.shared_budget import (
    POOL_CAP,
    RESERVE_PER_SLOT,
    SLOT_CAP,
    UNDRAWN_PER_SLOT,
    InMemorySharedBudget,
)
from allegro_sync.contracts.allegro_errors import AllegroRateLimited
from allegro_sync.topology import ALLEGRO_CLIENT_RPM_LIMIT, TOPOLOGY
from tests.fixtures.clock import FakeClock

SELLER_WRITES_PER_MINUTE = 2_490  # docs/allegro-behaviours.md
WRITE = ("POST", "/sale/product-offers")
READ = ("GET", "/sale/products")
PUSH = ("PUT", "/sale/offer-quantity-change-commands/1")


@dataclass
class Caller:
    name: str
    guard: RateGuard
    calls: tuple[tuple[str, str], ...]  # what it sends, in turn
    pause: float  # its own time between two calls (Allegro's answer, its work)
    seller: str = "shop1"
    until: float = 0.0  # stops calling after (0: never)
    n: int = 0


@dataclass
class World:
    clock: FakeClock = field(default_factory=FakeClock)
    pool: InMemorySharedBudget = field(default_factory=InMemorySharedBudget)
    callers: list[Caller] = field(default_factory=list)
    sent: list[tuple[float, str, str, bool]] = field(default_factory=list)  # (at, caller, seller, write)

    def instances(
        self, function: str, calls: tuple[tuple[str, str], ...], pause: float, **kw: object
    ) -> None:
        spec = TOPOLOGY.function(function)
        assert spec.reserved_concurrency is not None
        for i in range(spec.reserved_concurrency):
            guard = pooled_rate_guard(
                InMemoryBlockedUntilStore(),
                self.pool,
                rpm_budget=spec.allegro_rpm,
                burst_rpm=spec.allegro_burst_rpm or None,
                clock=self.clock,
                undrawn=UNDRAWN_PER_SLOT,  # a deployed instance (a bulk one gets none whatever it asks)
            )
            self.callers.append(Caller(f"{function}#{i}", guard, calls, pause, **kw))  # type: ignore[arg-type]

    def run(self, seconds: float) -> None:
        """Each caller asks its guard, 'sleeps' what it is told, sends, pauses, asks again."""
        start = self.clock.now
        queue = [(start + i * 0.001, i) for i in range(len(self.callers))]
        while queue:
            at, i = heapq.heappop(queue)
            caller = self.callers[i]
            if at - start >= seconds or (caller.until and at - start >= caller.until):
                continue
            self.clock.now = at
            method, path = caller.calls[caller.n % len(caller.calls)]
            try:
                wait = caller.guard.admit(method, path, caller.seller)
            except AllegroRateLimited as spent:
                heapq.heappush(queue, (max(spent.blocked_until, at + 0.1), i))
                continue
            caller.n += 1
            self.sent.append((at + wait, caller.name, caller.seller, (method, path) == WRITE))
            heapq.heappush(queue, (at + wait + caller.pause, i))

    def busiest_minute(self, match: str = "", *, seller: str | None = None, writes: bool = False) -> int:
        times = sorted(
            t
            for t, name, s, w in self.sent
            if match in name and (seller is None or s == seller) and (w or not writes)
        )
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while times[lo] <= t - 60:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def per_minute(self, match: str, first: float, last: float) -> float:
        """Calls per minute of the matching callers between `first` and `last` seconds into the run."""
        t0 = min(t for t, *_ in self.sent)
        count = sum(1 for t, name, *_ in self.sent if match in name and first <= t - t0 < last)
        return count / (last - first) * 60


OFFER = (READ, WRITE, ("POST", "/sale/images"))


def every_caller_flat_out(world: World) -> None:
    """The whole topology at its concurrency, each instance asking far faster than its pace allows."""
    world.instances("catalog_worker", OFFER, pause=0.01)
    world.instances("stock_propagator", (PUSH,), pause=0.01)
    world.instances("order_worker", (("GET", "/order/checkout-forms/1"),), pause=0.01)
    world.instances("order_poller", (("GET", "/order/events"),), pause=0.01)
    world.instances("reconciler", (("GET", "/sale/offers"),), pause=0.01)
    world.instances("repricer", (("GET", "/sale/offers"),), pause=0.01)
    world.instances("fulfillment_worker", (("GET", "/order/checkout-forms/1"),), pause=0.01)
    world.instances("order_gap_scan", (("GET", "/order/checkout-forms"),), pause=0.01)


def test_every_function_flat_out_never_passes_the_app_limit_in_any_sliding_minute() -> None:
    world = World()
    every_caller_flat_out(world)
    world.run(180)
    assert world.busiest_minute() <= ALLEGRO_CLIENT_RPM_LIMIT
    # ...and used: the old fixed shares could never send more than 6,920 a minute, whoever was idle
    assert world.busiest_minute() >= 0.7 * ALLEGRO_CLIENT_RPM_LIMIT


def test_a_sellers_product_offer_writes_stay_under_its_own_limit() -> None:
    world = World()
    world.instances("catalog_worker", (WRITE,), pause=0.01)  # every call a write, one seller
    world.run(120)
    assert world.busiest_minute(writes=True, seller="shop1") <= SELLER_WRITES_PER_MINUTE
    assert world.busiest_minute(writes=True, seller="shop1") >= 0.75 * SELLER_WRITES_PER_MINUTE


def test_an_import_alone_takes_the_free_share_far_beyond_its_old_static_one() -> None:
    world = World()
    world.instances("catalog_worker", OFFER, pause=0.01)
    world.run(120)
    old_static_share = 500 * 5  # 500 rpm x 5 instances before the pool
    rate = world.per_minute("catalog_worker", 20, 120)
    assert rate >= 2 * old_static_share
    # all the free share, and not one call of the reserve the latency-critical functions keep
    assert rate == pytest.approx((POOL_CAP - RESERVE_PER_SLOT) * 6, rel=0.02)
    assert rate <= (POOL_CAP - RESERVE_PER_SLOT) * 6


def test_stock_pushes_keep_their_pace_while_an_import_saturates_the_pool() -> None:
    alone = World()
    alone.instances("stock_propagator", (PUSH,), pause=0.5)  # 5 instances, 2 pushes/s each
    alone.run(60)
    shared = World()
    shared.instances("catalog_worker", OFFER, pause=0.01)
    shared.instances("stock_propagator", (PUSH,), pause=0.5)
    shared.run(60)
    pace = alone.per_minute("stock_propagator", 10, 60)
    assert shared.per_minute("stock_propagator", 10, 60) >= 0.95 * pace
    # ...and the import gives way: it gets what the pushes leave
    busy = shared.per_minute("catalog_worker", 10, 60)
    assert busy <= (POOL_CAP - RESERVE_PER_SLOT) * 6


def test_when_the_propagator_stops_the_import_takes_its_share() -> None:
    world = World()
    world.instances("catalog_worker", OFFER, pause=0.01)
    world.instances("stock_propagator", (PUSH,), pause=0.02, until=60)  # busy for a minute, then idle
    world.run(150)
    during = world.per_minute("catalog_worker", 10, 60)
    pushes = world.per_minute("stock_propagator", 10, 60)
    after = world.per_minute("catalog_worker", 80, 150)
    assert during + pushes <= SLOT_CAP * 6  # together within the pool
    assert pushes > 1_500  # the pushes got their pace, not the import's leftovers
    assert during < after == pytest.approx((POOL_CAP - RESERVE_PER_SLOT) * 6, rel=0.02)


def test_an_unreachable_pool_falls_back_to_the_static_share() -> None:
    class Broken(InMemorySharedBudget):
        def claim(self, slot: int, tokens: int, **kw: object) -> bool:  # type: ignore[override]
            raise ConnectionError("DynamoDB out of reach")

    clock = FakeClock()
    guard = pooled_rate_guard(
        InMemoryBlockedUntilStore(), Broken(), rpm_budget=120, burst_rpm=600, clock=clock
    )
    sent = 0
    while clock.now < 1_800_000_060:
        clock.sleep(guard.admit(*READ, "shop1"))
        sent += clock.now < 1_800_000_060
    assert sent <= 120 + 12  # the static share plus its burst, not the 600 of the pool's pace


def test_a_draw_costs_one_store_call_for_many_allegro_calls() -> None:
    world = World()
    world.instances("catalog_worker", OFFER, pause=0.05)
    world.run(60)
    assert world.pool.claims <= len(world.sent) / 10


@pytest.mark.parametrize("function", [f.name for f in TOPOLOGY.functions if f.allegro_burst_rpm])
def test_bulk_functions_keep_a_static_share_for_when_the_pool_is_unreachable(function: str) -> None:
    spec = TOPOLOGY.function(function)
    assert 0 < spec.allegro_rpm <= spec.allegro_burst_rpm


def test_a_lone_stock_push_costs_no_draw_on_the_pool() -> None:
    world = World()
    world.instances("stock_propagator", (PUSH,), pause=5.0)  # a push every 5 s per instance
    world.run(60)
    assert len(world.sent) >= 60
    assert world.pool.claims == 0
