"""A schedule the seller may rate differently (`-c shopReconcileMinutes=N`) runs at that rate locally too."""

from __future__ import annotations

from typing import Any

from allegro_sync.local.scheduler import Scheduler
from allegro_sync.topology import TOPOLOGY, Function


def test_the_local_scheduler_takes_the_rate_by_the_same_context_key_as_cdk() -> None:
    now = [0.0]
    fired: list[str] = []

    def invoke(function: Function, event: dict[str, Any]) -> None:
        fired.append(function.name)

    schedules = [(t, f) for t, f in TOPOLOGY.schedules() if f.name in ("shop_reconciler", "reconciler")]
    scheduler = Scheduler(
        schedules, invoke, region="eu-central-1", clock=lambda: now[0], minutes={"shopReconcileMinutes": 5}
    )
    now[0] = 5 * 60
    scheduler.tick()
    assert fired == ["shop_reconciler"]  # the reconciler keeps its own rate (hourly, issue 21)
    now[0] = 60 * 60
    scheduler.tick()
    assert sorted(fired) == ["reconciler", "shop_reconciler", "shop_reconciler"]


def test_a_tick_chain_watchdog_runs_at_start_and_then_at_its_rate() -> None:
    now = [0.0]
    fired: list[str] = []
    schedules = [(t, f) for t, f in TOPOLOGY.schedules() if f.name in ("order_poller", "reconciler")]
    scheduler = Scheduler(
        schedules,
        lambda function, event: fired.append(function.name),
        region="eu-central-1",
        clock=lambda: now[0],
        at_start=frozenset({"order_poller"}),
    )
    scheduler.tick()
    assert fired == ["order_poller"]  # no order is polled before the chain is seeded
    now[0] = 5 * 60
    scheduler.tick()
    assert fired == ["order_poller", "order_poller"]
