"""Issue 21: a round reads the catalogue only for offers a rule reprices, and a run that is short of time
stops between pages and saves where it is; the next run goes on from there and every offer is planned once
per cycle."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from allegro_sync.contracts import allegro as api
from allegro_sync.contracts.allegro_errors import AllegroError
from allegro_sync.contracts.repricing import ProductFacts
from allegro_sync.domain.repricing import Action, RepricingSettings, Strategy
from allegro_sync.services.repricing import Repricer
from allegro_sync.services.repricing.sweep import reprice_accounts
from tests.fixtures.changes import FakeChangeLog
from tests.unit.repricing.test_handler import MemoryCursor
from tests.unit.repricing.test_service import DEMAND, T0, FakeAllegro, MemoryStore, listing


class CountedFacts:
    def __init__(self) -> None:
        self.asked: list[str] = []
        self.without_stock: list[str] = []

    def facts(self, sku: str, account: str) -> ProductFacts | None:
        raise AssertionError("a round reads facts in batches")

    def facts_many(self, skus: Sequence[str], account: str, *, stock: bool = True) -> dict[str, ProductFacts]:
        self.asked.extend(skus)
        if not stock:
            self.without_stock.extend(skus)
        return {sku: ProductFacts(cost=Decimal("50.00"), list_price=Decimal("200.00")) for sku in skus}


class Clock:
    """Time left for `pages` pages, then short."""

    def __init__(self, pages: int) -> None:
        self.pages = pages

    def __call__(self) -> float:
        self.pages -= 1
        return 600.0 if self.pages >= 0 else 1.0


def test_an_offer_no_rule_reprices_costs_no_catalogue_read_and_is_still_explained() -> None:
    only_a = [RepricingSettings(sku="A", strategy=Strategy.DEMAND, min_change=Decimal("0.01"))]
    api = FakeAllegro([listing("1", "A", 40, 0), listing("2", "B", 40, 0)])
    facts = CountedFacts()
    report = Repricer(MemoryStore(only_a), facts, FakeChangeLog(), clock=lambda: T0).run_account("acc", api)
    assert facts.asked == ["A"]
    by_offer = {d.offer_id: d for d in report.decisions}
    assert by_offer["1"].action is Action.SET_PRICE
    assert by_offer["2"].action is Action.SKIP
    assert "no repricing rule" in by_offer["2"].explain()


def test_only_the_demand_strategy_pays_for_the_ledgers_stock() -> None:
    settings = [
        RepricingSettings(sku="A", strategy=Strategy.DEMAND, min_change=Decimal("0.01")),
        RepricingSettings(sku="B", strategy=Strategy.FEED),
    ]
    api = FakeAllegro([listing("1", "A", 40, 0), listing("2", "B", 40, 0)])
    facts = CountedFacts()
    Repricer(MemoryStore(settings), facts, FakeChangeLog(), clock=lambda: T0).run_account(
        "acc", api, apply=False
    )
    assert sorted(facts.asked) == ["A", "B"]
    assert facts.without_stock == ["B"]  # a feed price does not depend on our stock


def test_a_run_short_of_time_saves_its_page_and_the_next_run_finishes_the_cycle() -> None:
    offers = [listing(str(n), f"S{n}", 40, 0) for n in range(2_500)]  # three pages
    clients = {"a": FakeAllegro(offers[:1]), "b": FakeAllegro(offers)}
    store, cursor, facts = MemoryStore(DEMAND), MemoryCursor(), CountedFacts()
    repricer = Repricer(store, facts, FakeChangeLog(), clock=lambda: T0)

    first = reprice_accounts(repricer, clients, time_left=Clock(pages=2), cursors=cursor)

    assert first.continues_at is not None
    assert cursor.position == first.continues_at
    assert (first.continues_at.account, first.continues_at.offset) == ("b", 1_000)
    assert first.reports["b"].planned == 1_000
    assert first.reports["b"].decisions == []  # a scheduled run keeps counts, not every decision

    second = reprice_accounts(repricer, clients, time_left=Clock(pages=10), cursors=cursor)

    assert second.continues_at is None
    assert cursor.position is None
    assert list(second.reports) == ["b"]  # account a was done in the first run
    assert second.reports["b"].planned == 1_500
    assert sorted(facts.asked) == sorted(["S0"] + [f"S{n}" for n in range(2_500)])  # each offer once
    assert clients["b"].pages_listed == 3


class Down(FakeAllegro):
    def me(self) -> api.Me:
        raise AllegroError("Allegro 503")


def test_one_account_failing_does_not_stop_the_sweep_or_hold_its_cursor() -> None:
    clients = {"a": Down([]), "b": FakeAllegro([listing("1", "A", 40, 0)])}
    cursor = MemoryCursor()
    swept = reprice_accounts(
        Repricer(MemoryStore(DEMAND), CountedFacts(), FakeChangeLog(), clock=lambda: T0),
        clients,
        time_left=lambda: 600.0,
        cursors=cursor,
    )
    assert swept.errors == {"a": "Allegro 503"}
    assert swept.reports["b"].applied == 1
    assert swept.continues_at is None
    assert cursor.position is None
