"""A sale in doubt: the ledger asks for a re-read of the shop when, and only when, a read can settle it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from allegro_sync.domain.ledger import LedgerPolicy, Outcome, Sale
from allegro_sync.services.stock import StockLedger
from tests.fixtures.ledger import InMemoryLedgerRepository, SimulatedCrash

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SKEW = timedelta(seconds=5)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Rechecks:
    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def schedule(self, sku: str, delay_seconds: int) -> None:
        self.asked.append((sku, delay_seconds))


@pytest.fixture
def rechecks() -> Rechecks:
    return Rechecks()


@pytest.fixture
def stock(memory_ledger: InMemoryLedgerRepository, rechecks: Rechecks) -> StockLedger:
    """Our clock reads the shop's acknowledgement time plus 1 s when the ledger decides."""
    return StockLedger(
        memory_ledger,
        LedgerPolicy(clock_skew=SKEW),
        sleep=lambda _: None,
        rechecks=rechecks,
        now=lambda: at(101),
    )


def sold_and_acknowledged(stock: StockLedger, rechecks: Rechecks, *, version: int | None = None) -> None:
    """10 reported long before; 2 sold on Allegro; the shop applied the sale at t=100. Without versions the
    acknowledgement itself asks for a read (no level since shows the sale); forgotten here."""
    stock.apply_shop_level("SKU-1", 10, at(0), version=None if version is None else version - 1)
    stock.link_offer("SKU-1", "7001", "main")
    stock.apply_sale(Sale("cf-1:li-1", "SKU-1", 2, at(90), "main", offer_id="7001"))
    stock.confirm_delivered("SKU-1", "cf-1:li-1", at(100), version)
    assert len(rechecks.asked) == (0 if version is not None else 1)
    rechecks.asked.clear()


def test_a_level_inside_the_margin_keeps_the_sale_and_asks_for_a_read_once_it_can_settle_it(
    stock: StockLedger, rechecks: Rechecks
) -> None:
    sold_and_acknowledged(stock, rechecks)

    result = stock.apply_shop_level("SKU-1", 8, at(101))  # counts the sale, or not: 1 s is inside 5 s

    assert result.view.available == 6  # never more than the shop may have: the sale stays subtracted
    assert result.recheck_after == at(105)
    # A read settles it at shop time 105; the shop's clock may lag ours by 5 s, and reads are whole seconds.
    assert rechecks.asked == [("SKU-1", 4 + 5 + 1)]


def test_the_read_after_the_margin_settles_it_and_asks_for_nothing_more(
    stock: StockLedger, rechecks: Rechecks
) -> None:
    sold_and_acknowledged(stock, rechecks)
    stock.apply_shop_level("SKU-1", 8, at(101))

    settled = stock.apply_shop_level("SKU-1", 8, at(111))  # the re-read: 8, read well after the sale

    assert settled.view.available == 8  # the sale is in the shop's 8: not taken twice
    assert settled.recheck_after is None
    assert len(rechecks.asked) == 1


def test_a_level_read_before_the_sale_but_arriving_after_its_acknowledgement_is_in_doubt_too(
    stock: StockLedger, rechecks: Rechecks
) -> None:
    sold_and_acknowledged(stock, rechecks)

    stale = stock.apply_shop_level("SKU-1", 10, at(99))  # the shop read 10 just before applying the sale
    settled = stock.apply_shop_level("SKU-1", 8, at(111))

    assert stale.view.available == 8  # 10 less the sale: never 10
    assert [sku for sku, _ in rechecks.asked] == ["SKU-1"]
    assert settled.view.available == 8
    assert stock.apply_shop_level("SKU-1", 10, at(99)).outcome is Outcome.STALE  # a late copy changes nothing


def test_an_acknowledgement_arriving_after_a_level_inside_the_margin_asks_too(
    stock: StockLedger, rechecks: Rechecks
) -> None:
    stock.apply_shop_level("SKU-1", 10, at(0))
    stock.apply_sale(Sale("cf-1:li-1", "SKU-1", 2, at(90), "main", offer_id="7001"))
    stock.apply_shop_level("SKU-1", 8, at(101))  # the shop's webhook overtook our delivery's answer
    assert rechecks.asked == []  # not acknowledged yet: nothing a read could settle

    stock.confirm_delivered("SKU-1", "cf-1:li-1", at(100))

    assert [sku for sku, _ in rechecks.asked] == ["SKU-1"]


def test_an_acknowledgement_later_than_every_level_asks_once_and_a_settled_sale_never_again(
    stock: StockLedger, rechecks: Rechecks
) -> None:
    """The shop's answer may carry a time later than the truth (our time of a redelivered answer, after a
    crash): the level the shop reported in between is then taken as older, and only a read can say."""
    stock.apply_shop_level("SKU-1", 10, at(0))
    stock.link_offer("SKU-1", "7001", "main")
    stock.apply_sale(Sale("cf-1:li-1", "SKU-1", 2, at(90), "main", offer_id="7001"))
    stock.apply_shop_level("SKU-1", 7, at(95))  # the sale and one over the counter; not acknowledged yet
    acked = stock.confirm_delivered("SKU-1", "cf-1:li-1", at(120))  # the redelivered answer's time

    assert acked.view.available == 5  # 7 less the sale: too little, never too much
    assert [sku for sku, _ in rechecks.asked] == ["SKU-1"]

    settled = stock.apply_shop_level("SKU-1", 7, at(130))  # the re-read
    later = stock.apply_shop_level("SKU-1", 6, at(140))  # the shop's next report

    assert (settled.view.available, later.view.available) == (7, 6)
    assert len(rechecks.asked) == 1


def test_a_sale_the_shop_has_not_applied_yet_asks_for_nothing(stock: StockLedger, rechecks: Rechecks) -> None:
    stock.apply_shop_level("SKU-1", 10, at(0))
    stock.apply_sale(Sale("cf-1:li-1", "SKU-1", 2, at(90), "main", offer_id="7001"))
    result = stock.apply_shop_level("SKU-1", 10, at(95))
    assert result.view.available == 8
    assert rechecks.asked == []  # only the shop's acknowledgement makes a read worth anything


def test_stock_versions_on_both_sides_decide_exactly_and_never_ask(
    stock: StockLedger, rechecks: Rechecks
) -> None:
    sold_and_acknowledged(stock, rechecks, version=7)
    result = stock.apply_shop_level("SKU-1", 8, at(101), version=7)
    assert result.view.available == 8
    assert rechecks.asked == []


def test_a_crash_after_the_commit_asks_again_on_the_redelivery(
    stock: StockLedger, memory_ledger: InMemoryLedgerRepository, rechecks: Rechecks
) -> None:
    sold_and_acknowledged(stock, rechecks)
    memory_ledger.next_crash = "after"
    with pytest.raises(SimulatedCrash):
        stock.apply_shop_level("SKU-1", 8, at(101))
    assert rechecks.asked == []  # died between the ledger's commit and the queue

    again = stock.apply_shop_level("SKU-1", 8, at(101))  # SQS delivers the webhook's event again

    assert again.outcome is Outcome.DUPLICATE
    assert [sku for sku, _ in rechecks.asked] == ["SKU-1"]


def test_a_doubt_no_read_settled_for_a_quarter_of_an_hour_is_left_to_the_next_report(
    memory_ledger: InMemoryLedgerRepository, rechecks: Rechecks
) -> None:
    """A shop whose reads stay in doubt (its clock far behind its acknowledgements') is not read forever."""
    late = StockLedger(memory_ledger, LedgerPolicy(clock_skew=SKEW), rechecks=rechecks, now=lambda: at(2000))
    late.apply_shop_level("SKU-1", 10, at(0))
    late.apply_sale(Sale("cf-1:li-1", "SKU-1", 2, at(90), "main", offer_id="7001"))
    late.confirm_delivered("SKU-1", "cf-1:li-1", at(100))
    assert late.apply_shop_level("SKU-1", 8, at(101)).view.available == 6
    assert rechecks.asked == []
