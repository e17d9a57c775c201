"""The reconciler as a sweep (issue 21): small pages and a run that may read one page only still cover
every offer of every account once per cycle, repair each drift once, and judge a SKU on all its offers
even when they sit on different pages."""

from __future__ import annotations

from collections import Counter

import pytest

from allegro_sync.contracts.sweeps import SweepPosition
from allegro_sync.services.reconcile import ReconcileReport
from allegro_sync.services.sweep_clock import RESERVE_SECONDS
from tests.integration.propagation.conftest import StockWorld

pytestmark = pytest.mark.integration


class OnePagePerRun:
    """The run's remaining time as the sweep sees it: room for one page, then short (counted, not timed)."""

    def __init__(self) -> None:
        self.asked = 0

    def __call__(self) -> float:
        self.asked += 1
        return RESERVE_SECONDS * 10 if self.asked == 1 else 0.0


def drifted_accounts(world: StockWorld) -> dict[str, str]:
    """Seven offers on two accounts, in sync, then four of them drift behind the ledger's back."""
    offers = {"kept": world.seller_offer("shop1", "DUP-1", stock=10)}  # listed first: on the last page
    for n in range(3):
        offers[f"fine-{n}"] = world.seller_offer("shop1", f"FINE-{n}", stock=10)
    offers["hand-edited"] = world.seller_offer("shop2", "SONY-XM5", stock=10)
    offers["active-at-zero"] = world.seller_offer("shop2", "KETTLE-1", stock=10)
    world.propagate(
        world.level("DUP-1", 4),
        *(world.level(f"FINE-{n}", 7) for n in range(3)),
        world.level("SONY-XM5", 4),
        world.level("KETTLE-1", 0),
    )
    state = world.emulator.marketplace.state.offers
    state[offers["hand-edited"]].stock = 9
    kettle = state[offers["active-at-zero"]]
    kettle.stock, kettle.status, kettle.ended_by = 3, "ACTIVE", None
    state[offers["fine-1"]].stock = 2
    # The twin is the newest offer of shop1, so it is on shop1's first page and its linked sibling two
    # pages later: only a listing of every offer of DUP-1 tells it is a duplicate.
    offers["twin"] = world.seller_offer("shop1", "DUP-1", stock=3, link=False)
    return offers


def sweep(world: StockWorld) -> list[ReconcileReport]:
    """Runs with two offers a page and one page a run, until a cycle is complete."""
    app = world.app("reconciler")
    cursor = app.sweep_cursor("reconciler")
    runs = []
    while len(runs) < 20:
        runs.append(app.reconciler().run(time_left=OnePagePerRun(), cursors=cursor, page_size=2))
        if runs[-1].continues_at is None:
            return runs
    raise AssertionError(f"no complete cycle in 20 runs: {[r.continues_at for r in runs]}")


def test_a_cycle_in_one_page_runs_covers_every_offer_once_and_repairs_each_drift_once(
    world: StockWorld,
) -> None:
    offers = drifted_accounts(world)

    runs = sweep(world)

    assert len(runs) == 3 + 1  # shop1: 5 offers in 3 pages, shop2: 2 offers in 1 page (one page a run)
    assert sum(r.offers_seen for r in runs) == len(offers)
    assert [r.continues_at for r in runs[:-1]] == [
        SweepPosition("shop1", 2),
        SweepPosition("shop1", 4),
        SweepPosition("shop2", 0),
    ]
    repaired = Counter(offer for r in runs for offer in r.repaired)
    wanted = {offers[name] for name in ("hand-edited", "active-at-zero", "fine-1", "twin")}
    assert repaired == Counter(wanted)  # each once, nothing else
    assert world.shown(offers["twin"]) == ("ENDED", 0)
    assert world.shown(offers["kept"]) == ("ACTIVE", 4)
    assert world.shown(offers["hand-edited"]) == ("ACTIVE", 4)
    assert world.shown(offers["active-at-zero"]) == ("ENDED", 0)
    assert world.shown(offers["fine-1"]) == ("ACTIVE", 7)
    assert offers["twin"] not in {t.offer_id for t in world.ledger().view("DUP-1").offers}
    assert [r.failed for r in runs if r.failed] == []
    # Of the six SKUs' batched, eventually consistent views, only the four that looked drifted (DUP-1 on
    # its twin's page) were read again strongly consistent before their repair.
    assert sum(r.rechecked for r in runs) == 4

    again = sweep(world)  # the next cycle starts over, finds nothing left, and leaves the ended twin alone
    assert sum(r.offers_seen for r in again) == len(offers)
    assert [d for r in again for d in r.drifts] == []
    assert world.shown(offers["twin"]) == ("ENDED", 0)


def test_the_scheduled_run_goes_on_where_the_last_one_stopped(world: StockWorld) -> None:
    offers = drifted_accounts(world)
    app = world.app("reconciler")
    app.sweep_cursor("reconciler").save(SweepPosition("shop2", 0))  # a run stopped before shop2

    summary = world.runtime.fire("reconciler")

    assert summary["accounts"] == ["shop2"]
    assert summary["offers_seen"] == 2
    assert summary["continues_at"] is None
    assert world.shown(offers["hand-edited"]) == ("ACTIVE", 4)
    assert world.shown(offers["fine-1"]) == ("ACTIVE", 2)  # shop1 waits for the next cycle
    assert app.sweep_cursor("reconciler").load() is None  # the cycle ended: the next run starts over
    assert world.runtime.fire("reconciler")["accounts"] == ["shop1", "shop2"]
    assert world.shown(offers["fine-1"]) == ("ACTIVE", 7)
