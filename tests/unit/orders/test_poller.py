"""The poller's run: first position, the in-run loop, leases, forward-only cursor, per-account isolation."""

from __future__ import annotations

import pytest

from allegro_sync.contracts.allegro_errors import (
    AllegroRateLimited,
    AllegroServerError,
    AllegroUserRateLimited,
)
from allegro_sync.services.orders import OrderPoller, PollSettings
from tests.fixtures.clock import FakeClock
from tests.unit.orders.fakes import FakeEvents, MemoryCursors, MemoryQueue, event


def make_poller(
    cursors: MemoryCursors,
    queue: MemoryQueue,
    clock: FakeClock,
    *,
    run_seconds: float = 0,
    interval: float = 5,
    owner: str = "run-1",
) -> OrderPoller:
    settings = PollSettings(run_seconds=run_seconds, interval_seconds=interval)
    return OrderPoller(cursors, queue, settings=settings, clock=clock, sleep=clock.sleep, owner=owner)


def positioned(clock: FakeClock, apis: dict[str, FakeEvents]) -> tuple[MemoryCursors, MemoryQueue]:
    """After a first run: each account's cursor at its journal's latest event (its start when empty)."""
    cursors, queue = MemoryCursors(), MemoryQueue()
    make_poller(cursors, queue, clock).run(apis)
    return cursors, queue


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_first_run_starts_at_the_latest_event_and_ignores_history(clock: FakeClock) -> None:
    api = FakeEvents([event(1, "old-a"), event(2, "old-b")])
    cursors, queue = MemoryCursors(), MemoryQueue()

    report = make_poller(cursors, queue, clock).run({"shop1": api})

    assert queue.sent == []
    assert report.accounts["shop1"].started_at == "2"
    assert cursors.items["shop1"].event_id == "2"

    api.events.append(event(3, "new-c"))
    make_poller(cursors, queue, clock).run({"shop1": api})
    assert [(n.checkout_form_id, n.event_id) for n in queue.sent] == [("new-c", "3")]


def test_an_empty_journal_is_read_from_its_beginning(clock: FakeClock) -> None:
    api = FakeEvents()
    cursors, queue = positioned(clock, {"shop1": api})
    api.events.append(event(1, "first"))

    make_poller(cursors, queue, clock).run({"shop1": api})

    assert [n.checkout_form_id for n in queue.sent] == ["first"]


def test_one_run_polls_every_interval_until_its_time_is_up(clock: FakeClock) -> None:
    api = FakeEvents([event(1, "seed")])
    cursors, queue = positioned(clock, {"shop1": api})
    api.calls.clear()

    class Buyer:
        """Events arrive while the run is sleeping."""

        def __init__(self) -> None:
            self.next_id = 2

        def sleep(self, seconds: float) -> None:
            clock.sleep(seconds)
            api.events.append(event(self.next_id, f"form-{self.next_id}"))
            self.next_id += 1

    buyer = Buyer()
    poller = OrderPoller(
        cursors,
        queue,
        settings=PollSettings(run_seconds=50, interval_seconds=5),
        clock=clock,
        sleep=buyer.sleep,
    )
    report = poller.run({"shop1": api})

    assert report.ticks == 11  # at 0, 5, ..., 50 s
    assert clock.sleeps[-10:] == [5.0] * 10
    assert len(queue.sent) == 10  # every event that arrived during the run, once
    assert report.accounts["shop1"].enqueued == 10


def test_the_budget_caps_the_run(clock: FakeClock) -> None:
    poller = make_poller(MemoryCursors(), MemoryQueue(), clock, run_seconds=50)
    report = poller.run({"shop1": FakeEvents([event(1, "a")])}, budget_seconds=12)
    assert report.ticks == 3  # 0, 5, 10 s


def test_an_event_served_twice_in_a_page_is_enqueued_once(clock: FakeClock) -> None:
    api = FakeEvents([event(1, "seed")])
    cursors, queue = positioned(clock, {"shop1": api})
    api.events += [event(2, "a"), event(2, "a"), event(3, "a", "READY_FOR_PROCESSING")]

    report = make_poller(cursors, queue, clock).run({"shop1": api})

    assert report.accounts["shop1"].enqueued == 2
    assert [n.event_id for n in queue.sent] == ["2", "3"]
    assert {n.group_id for n in queue.sent} == {"a"}


def test_an_overlapping_run_does_not_enqueue(clock: FakeClock) -> None:
    api = FakeEvents([event(1, "seed")])
    cursors, queue = positioned(clock, {"shop1": api})
    api.events.append(event(2, "a"))
    cursors.claim("shop1", "stuck-run", clock(), 120)  # another run holds the lease

    report = make_poller(cursors, queue, clock, owner="run-2").run({"shop1": api})

    assert report.accounts["shop1"].skipped
    assert queue.sent == []
    # the second run looked at the next page without the lease (an idle tick writes nothing), then found
    # the cursor held and left it: it enqueued nothing and never moved the cursor
    assert api.calls == ["1", "1"]
    state = cursors.read("shop1")
    assert state is not None
    assert state.event_id == "1"

    clock.now += 121  # the stuck run's lease expires: the next run takes over
    make_poller(cursors, queue, clock, owner="run-3").run({"shop1": api})
    assert [n.event_id for n in queue.sent] == ["2"]


def test_an_idle_tick_neither_claims_nor_releases_the_cursor(clock: FakeClock) -> None:
    """Issue 21: a tick that finds nothing new writes nothing (it runs ~530,000 times a month); the lease
    held by another run stays untouched, and the next page with events is polled under the lease."""
    api = FakeEvents([event(1, "seed")])
    cursors, queue = MemoryCursors(), MemoryQueue()
    make_poller(cursors, queue, clock).run({"shop1": api})
    cursors.claim("shop1", "a-slow-run", clock(), 120)

    report = make_poller(cursors, queue, clock, owner="idle-tick").run({"shop1": api})

    assert report.accounts["shop1"].polls == 1
    assert not report.accounts["shop1"].skipped
    assert cursors.claim("shop1", "someone-else", clock(), 120) is None  # the slow run's lease still holds
    clock.now += 121
    api.events.append(event(2, "a"))
    api.calls.clear()
    make_poller(cursors, queue, clock, owner="next-tick").run({"shop1": api})
    assert [n.event_id for n in queue.sent] == ["2"]
    assert api.calls == ["1"]  # the look's page is enqueued under the lease, not asked for twice


def test_the_cursor_never_moves_backwards(clock: FakeClock) -> None:
    api = FakeEvents([event(5, "seed")])
    cursors, queue = positioned(clock, {"shop1": api})

    class Rewinding(FakeEvents):
        def order_events(self, from_id=None, *, limit=100, types=()):  # type: ignore[no-untyped-def]
            return [event(5, "seed")]  # the cursor's own event again: following it would loop

    report = make_poller(cursors, queue, clock).run({"shop1": Rewinding()})

    assert "backwards" in (report.accounts["shop1"].error or "")
    assert cursors.items["shop1"].event_id == "5"
    assert queue.sent == []


def test_event_ids_are_followed_in_the_journals_order_not_by_number(clock: FakeClock) -> None:
    """Issue 14 (#5576): an id smaller as a number is still the next event when the journal says so."""
    api = FakeEvents([event(1661520636571747, "seed")])
    cursors, queue = positioned(clock, {"shop1": api})

    class Journal(FakeEvents):
        def order_events(self, from_id=None, *, limit=100, types=()):  # type: ignore[no-untyped-def]
            return [event(1661520630934020, "a")] if from_id == "1661520636571747" else []

    report = make_poller(cursors, queue, clock).run({"shop1": Journal()})

    assert report.accounts["shop1"].error is None
    assert [n.event_id for n in queue.sent] == ["1661520630934020"]
    assert cursors.items["shop1"].event_id == "1661520630934020"


def test_a_failed_enqueue_leaves_the_cursor_so_the_events_come_again(clock: FakeClock) -> None:
    api = FakeEvents([event(1, "seed")])
    cursors, queue = positioned(clock, {"shop1": api})
    api.events.append(event(2, "a"))
    queue.fail_next = True

    failed = make_poller(cursors, queue, clock).run({"shop1": api})
    assert failed.accounts["shop1"].error
    assert cursors.items["shop1"].event_id == "1"

    make_poller(cursors, queue, clock).run({"shop1": api})
    assert [n.event_id for n in queue.sent] == ["2"]
    assert cursors.items["shop1"].event_id == "2"


# run_seconds 0: the failure meets the one-poll run's look before the claim; 50: the in-run poll.
@pytest.mark.parametrize("run_seconds", [0, 50])
def test_one_failing_account_never_stops_the_others(clock: FakeClock, run_seconds: float) -> None:
    good, bad = FakeEvents([event(1, "g0")]), FakeEvents([event(1, "b0")])
    cursors, queue = positioned(clock, {"good": good, "bad": bad})
    good.events.append(event(2, "g1"))
    bad.events.append(event(2, "b1"))
    bad.fail = AllegroServerError(503, [])

    report = make_poller(cursors, queue, clock, run_seconds=run_seconds).run({"bad": bad, "good": good})

    assert report.accounts["bad"].error
    assert [n.checkout_form_id for n in queue.sent] == ["g1"]
    make_poller(cursors, queue, clock).run({"bad": bad, "good": good})
    assert [n.checkout_form_id for n in queue.sent] == ["g1", "b1"]  # nothing lost: picked up next run


@pytest.mark.parametrize(("run_seconds", "ticks"), [(50, 1), (0, 0)])  # met while polling / looking
def test_a_rate_limit_block_stops_every_account_at_once(
    clock: FakeClock, run_seconds: float, ticks: int
) -> None:
    first, second = FakeEvents([event(1, "a")]), FakeEvents([event(1, "b")])
    cursors, queue = positioned(clock, {"a": first, "b": second})
    first.fail = AllegroRateLimited(clock() + 60)
    second.calls.clear()

    report = make_poller(cursors, queue, clock, run_seconds=run_seconds).run({"a": first, "b": second})

    assert report.blocked_until == clock() + 60
    assert report.accounts["a"].error
    assert second.calls == []  # calling during the block would extend it
    assert report.ticks == ticks


@pytest.mark.parametrize("run_seconds", [0, 50])
def test_one_sellers_own_limit_stops_only_that_seller(clock: FakeClock, run_seconds: float) -> None:
    first, second = FakeEvents([event(1, "a")]), FakeEvents([event(1, "b")])
    cursors, queue = positioned(clock, {"a": first, "b": second})
    first.fail = AllegroUserRateLimited(clock() + 30, account="a", resource="GET /order/events")
    second.events.append(event(2, "b2"))

    report = make_poller(cursors, queue, clock, run_seconds=run_seconds).run({"a": first, "b": second})

    assert report.accounts["a"].error
    assert report.blocked_until is None  # no app-wide block
    assert "b2" in [n.checkout_form_id for n in queue.sent]  # the other seller's order still came in


def test_settings_refuse_a_lease_shorter_than_the_run() -> None:
    with pytest.raises(ValueError, match="lease"):
        PollSettings(run_seconds=200, lease_seconds=120)
