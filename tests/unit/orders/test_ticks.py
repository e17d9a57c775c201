"""The tick chain's watchdog: a seed whose first tick could not be sent leaves no chain claiming to live."""

from __future__ import annotations

import pytest

from allegro_sync.services.orders import OrderPoller, PollChain
from tests.fixtures.clock import FakeClock
from tests.unit.orders.fakes import MemoryCursors, MemoryQueue


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
