"""The stock use cases over the in-memory repository: outcomes, revisions, crashes and critical orderings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import pytest

from allegro_sync.contracts.messages import StockSet
from allegro_sync.contracts.stock import LedgerConflict
from allegro_sync.domain.ledger import LedgerError, LedgerPolicy, OfferAction, Outcome, Sale, SaleStatus
from allegro_sync.services.stock import LedgerBusy, StockLedger
from tests.fixtures.ledger import InMemoryLedgerRepository, SimulatedCrash

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sale(n: int = 1, quantity: int = 2, sku: str = "SKU-1") -> Sale:
    return Sale(f"cf-{n}:li-1", sku, quantity, at(1), "main", offer_id="7001")


@pytest.fixture
def stock(memory_ledger: InMemoryLedgerRepository) -> StockLedger:
    return StockLedger(memory_ledger, LedgerPolicy(clock_skew=timedelta(seconds=2)), sleep=lambda _: None)


def test_a_sale_returns_the_new_level_and_revision_to_propagate(stock: StockLedger) -> None:
    stock.link_offer("SKU-1", "7001", "main")
    stock.link_offer("SKU-1", "9001", "second", cap=3)
    first = stock.apply_shop_level("SKU-1", 10, at(0), version=1)
    result = stock.apply_sale(sale(quantity=4))
    assert result.outcome is Outcome.APPLIED
    assert result.changed
    assert result.view.revision == first.view.revision + 1
    assert result.view.available == 6
    assert [(t.offer_id, t.quantity) for t in result.view.offers] == [("7001", 6), ("9001", 3)]


def test_a_redelivered_sale_changes_nothing_and_says_so(stock: StockLedger) -> None:
    stock.apply_shop_level("SKU-1", 10, at(0))
    first = stock.apply_sale(sale())
    again = stock.apply_sale(sale())
    assert again.outcome is Outcome.DUPLICATE
    assert not again.changed
    assert again.view == first.view


def crash_selling_three_of_ten(
    stock: StockLedger, memory_ledger: InMemoryLedgerRepository, when: Literal["before", "after"]
) -> None:
    """10 in stock, then a sale of 3 whose commit crashes `when`."""
    stock.apply_shop_level("SKU-1", 10, at(0))
    memory_ledger.next_crash = when
    with pytest.raises(SimulatedCrash):
        stock.apply_sale(sale(quantity=3))


def test_a_crash_after_the_commit_then_redelivery_applies_the_sale_once(
    stock: StockLedger, memory_ledger: InMemoryLedgerRepository
) -> None:
    crash_selling_three_of_ten(stock, memory_ledger, "after")
    retry = stock.apply_sale(sale(quantity=3))
    assert retry.outcome is Outcome.DUPLICATE
    assert stock.view("SKU-1").available == 7


def test_a_crash_before_the_commit_leaves_no_trace_and_the_retry_applies(
    stock: StockLedger, memory_ledger: InMemoryLedgerRepository
) -> None:
    crash_selling_three_of_ten(stock, memory_ledger, "before")
    assert stock.view("SKU-1").available == 10
    assert memory_ledger.get_sale("SKU-1", "cf-1:li-1") is None
    assert stock.apply_sale(sale(quantity=3)).outcome is Outcome.APPLIED
    assert stock.view("SKU-1").available == 7


def test_cancellation_before_sale_ends_with_the_stock_untouched(stock: StockLedger) -> None:
    stock.apply_shop_level("SKU-1", 10, at(0))
    early = stock.apply_cancellation("SKU-1", "cf-1:li-1", at(5))
    assert early.outcome is Outcome.CANCELLED_FIRST
    late = stock.apply_sale(sale(quantity=4))
    assert late.outcome is Outcome.CANCELLED_FIRST
    assert not late.changed
    assert stock.view("SKU-1").available == 10
    assert stock.apply_cancellation("SKU-1", "cf-1:li-1", at(6)).outcome is Outcome.DUPLICATE


def test_cancellation_gives_back_once_however_often_it_arrives(stock: StockLedger) -> None:
    stock.apply_shop_level("SKU-1", 10, at(0))
    stock.apply_sale(sale(1, quantity=4))
    stock.apply_sale(sale(2, quantity=1))
    for _ in range(3):
        stock.apply_cancellation("SKU-1", "cf-1:li-1", at(5))
    assert stock.view("SKU-1").available == 9


def test_snapshot_read_before_the_shop_applied_the_sale_arriving_after_the_ack(stock: StockLedger) -> None:
    """The ordering property tests find only sometimes: held level predates the ack at the ack's arrival."""
    stock.apply_shop_level("SKU-1", 5, at(0), version=1)
    stock.apply_sale(sale(quantity=2))
    stock.confirm_delivered("SKU-1", "cf-1:li-1", at(10), shop_ack_version=2)
    assert stock.view("SKU-1").available == 3
    assert stock.apply_shop_level("SKU-1", 5, at(9), version=1).outcome is Outcome.APPLIED
    assert stock.view("SKU-1").available == 3
    stock.apply_shop_level("SKU-1", 3, at(11), version=2)
    assert stock.view("SKU-1").available == 3


def test_delivered_then_cancelled_waits_for_the_shop_to_give_the_item_back(stock: StockLedger) -> None:
    stock.apply_shop_level("SKU-1", 5, at(0))
    stock.apply_sale(sale(quantity=2))
    stock.confirm_delivered("SKU-1", "cf-1:li-1", at(10))
    stock.apply_shop_level("SKU-1", 3, at(20))  # reflects the sale
    stock.apply_cancellation("SKU-1", "cf-1:li-1", at(30))
    assert stock.view("SKU-1").available == 3  # the shop decides whether the item is sellable again
    stock.apply_shop_level("SKU-1", 5, at(40))
    assert stock.view("SKU-1").available == 5


def test_the_sale_record_tells_its_history(
    stock: StockLedger, memory_ledger: InMemoryLedgerRepository
) -> None:
    stock.apply_shop_level("SKU-1", 5, at(0))
    stock.apply_sale(sale())
    stock.confirm_delivered("SKU-1", "cf-1:li-1", at(10), 7)
    record = memory_ledger.get_sale("SKU-1", "cf-1:li-1")
    assert record is not None
    assert (record.status, record.shop_ack_at, record.shop_ack_version) == (
        SaleStatus.DELIVERED_TO_SHOP,
        at(10),
        7,
    )
    assert record.expires_at == at(10) + LedgerPolicy().sale_retention


def test_confirming_a_sale_never_applied_is_refused_and_changes_nothing(
    stock: StockLedger, memory_ledger: InMemoryLedgerRepository
) -> None:
    stock.apply_shop_level("SKU-1", 5, at(0))
    commits = memory_ledger.commits
    with pytest.raises(LedgerError, match="unknown sale"):
        stock.confirm_delivered("SKU-1", "cf-9:li-1", at(10))
    assert memory_ledger.commits == commits


def test_bad_input_changes_nothing(stock: StockLedger, memory_ledger: InMemoryLedgerRepository) -> None:
    with pytest.raises(LedgerError, match="shop quantity"):
        stock.apply_shop_level("SKU-1", 2.5, at(0))  # type: ignore[arg-type]
    with pytest.raises(LedgerError, match="sku"):
        stock.apply_shop_level("", 1, at(0))
    with pytest.raises(LedgerError, match="buffer"):
        stock.set_category_buffer("toys", -1)
    assert memory_ledger.commits == 0
    assert memory_ledger.buffers_by_category == {}


def test_a_stock_set_shop_event_is_one_call(stock: StockLedger) -> None:
    event = StockSet(delivery_id="d-1", occurred_at=at(3), version=4, sku="SKU-1", stock=7)
    assert stock.apply_stock_set(event).view.available == 7
    older = StockSet(delivery_id="d-0", occurred_at=at(2), version=3, sku="SKU-1", stock=70)
    assert stock.apply_stock_set(older).outcome is Outcome.STALE


def test_category_buffer_applies_until_the_sku_has_its_own(stock: StockLedger) -> None:
    stock.apply_shop_level("SKU-1", 10, at(0))
    stock.set_buffer("SKU-1", None, category="toys")
    stock.set_category_buffer("toys", 4)
    assert stock.view("SKU-1").available == 6
    stock.set_buffer("SKU-1", 1, category="toys")
    assert stock.view("SKU-1").available == 9


def test_unknown_level_holds_every_offer(stock: StockLedger) -> None:
    stock.link_offer("SKU-1", "7001", "main")
    result = stock.apply_sale(sale())
    assert result.view.available is None
    assert result.view.offers[0].action is OfferAction.HOLD


def test_push_claims_coalesce_to_the_newest_revision(stock: StockLedger) -> None:
    stock.apply_shop_level("SKU-1", 10, at(0))
    old = stock.apply_sale(sale(1)).view
    new = stock.apply_sale(sale(2)).view
    assert stock.claim_push(new)
    assert not stock.claim_push(old)
    assert not stock.claim_push(new)


def test_endless_conflicts_give_up_with_a_clear_error(memory_ledger: InMemoryLedgerRepository) -> None:
    class AlwaysConflicting(InMemoryLedgerRepository):
        def commit(self, **_: object) -> None:
            raise LedgerConflict("someone else wrote")

    stock = StockLedger(AlwaysConflicting(), max_attempts=3, sleep=lambda _: None)
    with pytest.raises(LedgerBusy, match="3 conflicting attempts"):
        stock.apply_shop_level("SKU-1", 1, at(0))


class _SaleLandsAfterTheFirstRead:
    """A repository on which another worker applies `sale` right after the next use case's first read."""

    def __init__(self, inner: InMemoryLedgerRepository, other: StockLedger, sale: Sale) -> None:
        self._inner, self._other, self._sale = inner, other, sale
        self.armed = False

    def _after_read(self) -> None:
        if self.armed:
            self.armed = False
            self._other.apply_sale(self._sale)

    def load(self, sku: str) -> Any:
        held = self._inner.load(sku)
        self._after_read()
        return held

    def get_sale(self, sku: str, sale_id: str) -> Any:
        held = self._inner.get_sale(sku, sale_id)
        self._after_read()
        return held

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_cancellation_racing_its_sale_gives_the_stock_back(memory_ledger: InMemoryLedgerRepository) -> None:
    """The sale is applied by another worker between the cancellation's two reads (found by the 20-thread
    ledger test under load): the stock must come back once and the sale stay cancelled."""
    policy = LedgerPolicy(clock_skew=timedelta(seconds=2))
    other = StockLedger(memory_ledger, policy, sleep=lambda _: None)
    racing = _SaleLandsAfterTheFirstRead(memory_ledger, other, sale(quantity=3))
    stock = StockLedger(cast(Any, racing), policy, sleep=lambda _: None)
    stock.apply_shop_level("SKU-1", 10, at(0))

    racing.armed = True
    stock.apply_cancellation("SKU-1", sale().sale_id, at(5))

    assert stock.view("SKU-1").available == 10
    assert stock.apply_sale(sale(quantity=3)).outcome is Outcome.DUPLICATE  # a redelivery takes nothing
    assert stock.view("SKU-1").available == 10
    record = memory_ledger.get_sale("SKU-1", sale().sale_id)
    assert record is not None
    assert record.status is SaleStatus.CANCELLED
