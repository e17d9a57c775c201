"""The tick chain's watchdog: a seed whose first tick could not be sent leaves no chain claiming to live; a
busy tick's spare successor keeps orders coming when the successor dies before its handler (issue 13)."""

from __future__ import annotations

import pytest

from allegro_sync.services.orders import OrderPoller, PollChain
from tests.fixtures.clock import FakeClock
from tests.unit.orders.fakes import FakeEvents, MemoryCursors, MemoryQueue, event


class MemoryChain:
    """`PollChainStore` in memory, with the adapter's conditions."""

    def __init__(self) -> None:
        self.chain: str | None = None
        self.until = 0.0
        self.beats = 0

    def seed(self, chain: str, now: float, lease_seconds: float) -> bool:
        if self.until >= now:
            return False
        self.chain, self.until, self.beats = chain, now + lease_seconds, 0
        return True

    def beat(self, chain: str, seq: int, tick_id: str, now: float, lease_seconds: float) -> bool:
        if chain != self.chain or seq != self.beats:
            return False
        self.until, self.beats = now + lease_seconds, seq + 1
        return True

    def forget(self, chain: str) -> None:
        if chain == self.chain:
            self.until = 0.0


class FailingTicks:
    def __init__(self) -> None:
        self.fail = True
        self.sent: list[tuple[str, int, int]] = []

    def send(self, chain: str, seq: int, delay_seconds: int) -> None:
        if self.fail:
            raise ConnectionError("SQS unreachable")
        self.sent.append((chain, seq, delay_seconds))


def test_a_seed_whose_tick_was_not_sent_is_seeded_again_by_the_next_watchdog_run() -> None:
    clock, store, ticks = FakeClock(), MemoryChain(), FailingTicks()
    poller = OrderPoller(MemoryCursors(), MemoryQueue(), clock=clock, sleep=clock.sleep)
    names = iter(["a" * 32, "b" * 32])
    chain = PollChain(store, ticks, poller, interval_seconds=5, clock=clock, new_chain=lambda: next(names))

    with pytest.raises(ConnectionError):
        chain.watchdog(dict)
    ticks.fail = False
    report = chain.watchdog(dict)  # at once, not after the lease

    assert report.seeded
    assert ticks.sent == [("b" * 32, 0, 5)]


def test_a_tick_interval_sqs_cannot_delay_is_refused() -> None:
    clock = FakeClock()
    poller = OrderPoller(MemoryCursors(), MemoryQueue(), clock=clock, sleep=clock.sleep)
    with pytest.raises(ValueError, match="0-900 s"):
        PollChain(MemoryChain(), FailingTicks(), poller, interval_seconds=901)


# ---- issue 13: a tick that dies before its handler must not stall polling while orders come in ----------


def _busy_chain() -> tuple[PollChain, MemoryChain, FailingTicks, MemoryQueue, FakeEvents]:
    clock, store, ticks, queue = FakeClock(), MemoryChain(), FailingTicks(), MemoryQueue()
    ticks.fail = False
    api = FakeEvents([event(1, "seed")])
    poller = OrderPoller(MemoryCursors(), queue, clock=clock, sleep=clock.sleep)
    chain = PollChain(store, ticks, poller, interval_seconds=5, clock=clock, new_chain=lambda: "c" * 32)
    chain.watchdog(lambda: {"shop1": api})  # seeds the chain, starts the cursor at the newest event
    ticks.sent.clear()
    return chain, store, ticks, queue, api


def test_a_tick_that_found_orders_sends_a_spare_that_polls_if_its_successor_died() -> None:
    chain, _, ticks, queue, api = _busy_chain()
    api.events.append(event(2, "bought"))

    busy = chain.tick("c" * 32, 0, "m-0", lambda: {"shop1": api})

    assert busy.poll is not None
    assert busy.poll.enqueued == 1
    assert ticks.sent == [("c" * 32, 1, 5), ("c" * 32, 1, 10)]  # the successor, then its spare
    # The successor (m-1) dies before its handler: SQS would hand it out again only after the queue's
    # visibility timeout. The spare arrives five seconds after it, serves tick 1 and polls.
    api.events.append(event(3, "bought-meanwhile"))
    spare = chain.tick("c" * 32, 1, "m-spare", lambda: {"shop1": api})

    assert spare.stopped is None
    assert [n.checkout_form_id for n in queue.sent] == ["bought", "bought-meanwhile"]
    assert ("c" * 32, 2, 5) in ticks.sent  # the chain goes on from the spare
    late = chain.tick("c" * 32, 1, "m-1", lambda: {"shop1": api})  # the dead one comes back after all
    assert late.stopped


def test_a_spare_whose_successor_beat_stops_and_an_idle_tick_sends_none() -> None:
    chain, _, ticks, _, api = _busy_chain()
    api.events.append(event(2, "bought"))
    chain.tick("c" * 32, 0, "m-0", lambda: {"shop1": api})
    successor = chain.tick("c" * 32, 1, "m-1", lambda: {"shop1": api})  # idle: nothing new
    ticks.sent.clear()

    spare = chain.tick("c" * 32, 1, "m-spare", lambda: {"shop1": api})

    assert successor.spare_tick_seconds is None
    assert spare.stopped
    assert ticks.sent == []
