"""The DynamoDB repository against moto: round trips, conditional writes, and exactly-once under threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.contracts.stock import LedgerConflict
from allegro_sync.domain import ledger as dom
from allegro_sync.domain.ledger import (
    LedgerPolicy,
    OfferLink,
    Outcome,
    Sale,
    SaleStatus,
    ShopLevel,
    SkuLedger,
)
from allegro_sync.services.stock import StockLedger

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
EXACT = LedgerPolicy(clock_skew=timedelta(0))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sale(n: int, quantity: int = 1, sku: str = "SKU-1") -> Sale:
    return Sale(f"cf-{n}:li-1", sku, quantity, at(1), "main", offer_id="7001")


class OneRequestAtATime:
    """A boto3 client whose requests moto serves one at a time.

    moto's in-process DynamoDB is not thread-safe (a transaction deep-copies tables while another thread
    writes). Real DynamoDB makes each request atomic; this restores exactly that and nothing more: the use
    cases' read-decide-commit steps still interleave freely between threads.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        call = getattr(self._client, name)

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return call(*args, **kwargs)

        return locked


@pytest.fixture
def repo(ledger_table: str) -> DynamoLedgerRepository:
    return DynamoLedgerRepository(ledger_table)


def test_a_sku_never_seen_loads_as_unknown_at_revision_zero(repo: DynamoLedgerRepository) -> None:
    ledger = repo.load("SKU-1")
    assert (ledger.revision, ledger.level) == (0, None)


def test_the_whole_sku_state_round_trips(repo: DynamoLedgerRepository) -> None:
    ledger = SkuLedger("SKU-1")
    _, ledger = dom.apply_level(ledger, ShopLevel(9, at(0), 3), EXACT)
    ledger = dom.add_sale(ledger, sale(1, 2))
    ledger = dom.acknowledge_sale(ledger, "cf-1:li-1", at(5), 4, EXACT)
    ledger = dom.add_sale(ledger, sale(2, 1))
    ledger = dom.set_buffer(ledger, 1, "toys")
    ledger = dom.link_offer(ledger, OfferLink("7001", "main", cap=4))
    ledger = dom.link_offer(ledger, OfferLink("9001", "second"))
    repo.commit(ledger=ledger, expected_revision=0, sale=None, expected_sale_rev=None)
    assert repo.load("SKU-1") == ledger
    _, unknown = dom.apply_level(ledger, ShopLevel(None, at(9)), EXACT)
    repo.commit(ledger=unknown, expected_revision=ledger.revision, sale=None, expected_sale_rev=None)
    assert repo.load("SKU-1") == unknown


def test_sale_records_round_trip_in_every_shape(repo: DynamoLedgerRepository) -> None:
    _, tomb = dom.record_cancellation(None, "cf-1:li-1", "SKU-1", at(2), EXACT)
    _, fresh = dom.record_sale(None, sale(2, 3))
    assert fresh is not None
    _, delivered = dom.record_delivery(
        fresh, sale_id="cf-2:li-1", sku="SKU-1", ack_at=at(4), ack_version=9, policy=EXACT
    )
    assert delivered is not None
    _, cancelled = dom.record_cancellation(delivered, "cf-2:li-1", "SKU-1", at(6), EXACT)
    assert tomb is not None
    assert cancelled is not None
    repo.commit(ledger=None, expected_revision=0, sale=tomb, expected_sale_rev=None)
    assert repo.get_sale("SKU-1", "cf-1:li-1") == tomb
    _, filled = dom.record_sale(tomb, sale(1, 2))
    assert filled is not None
    repo.commit(ledger=None, expected_revision=0, sale=filled, expected_sale_rev=tomb.rev)
    assert repo.get_sale("SKU-1", "cf-1:li-1") == filled
    for before, after in ((None, fresh), (fresh, delivered), (delivered, cancelled)):
        expected_rev = None if before is None else before.rev
        repo.commit(ledger=None, expected_revision=0, sale=after, expected_sale_rev=expected_rev)
        assert repo.get_sale("SKU-1", "cf-2:li-1") == after
    with pytest.raises(LedgerConflict):  # a write based on a record that has moved on
        repo.commit(ledger=None, expected_revision=0, sale=cancelled, expected_sale_rev=fresh.rev)


def test_a_write_based_on_an_old_revision_is_refused(repo: DynamoLedgerRepository) -> None:
    first = dom.add_sale(SkuLedger("SKU-1"), sale(1))
    repo.commit(ledger=first, expected_revision=0, sale=None, expected_sale_rev=None)
    rival = dom.add_sale(SkuLedger("SKU-1"), sale(2))  # computed from revision 0, which is gone
    with pytest.raises(LedgerConflict):
        repo.commit(ledger=rival, expected_revision=0, sale=None, expected_sale_rev=None)
    assert set(repo.load("SKU-1").open_sales) == {"cf-1:li-1"}


def test_sale_and_sku_change_together_or_not_at_all(repo: DynamoLedgerRepository) -> None:
    _, record = dom.record_sale(None, sale(1))
    assert record is not None
    repo.commit(ledger=None, expected_revision=0, sale=record, expected_sale_rev=None)
    moved = dom.add_sale(SkuLedger("SKU-1"), sale(1))
    with pytest.raises(LedgerConflict):  # the sale record exists already: the SKU item must not move either
        repo.commit(ledger=moved, expected_revision=0, sale=record, expected_sale_rev=None)
    assert repo.load("SKU-1").revision == 0


def test_sale_records_carry_their_ttl(repo: DynamoLedgerRepository, ledger_table: str) -> None:
    stock = StockLedger(repo, EXACT)
    stock.apply_sale(sale(1))
    stock.apply_cancellation("SKU-1", "cf-1:li-1", at(60))
    record = repo.get_sale("SKU-1", "cf-1:li-1")
    assert record is not None
    assert record.status is SaleStatus.CANCELLED
    raw = boto3.client("dynamodb").get_item(
        TableName=ledger_table, Key={"pk": {"S": "sku#SKU-1"}, "sk": {"S": "sale#cf-1:li-1"}}
    )["Item"]
    assert int(raw["expires_at"]["N"]) == int((at(60) + EXACT.sale_retention).timestamp())


def test_category_buffer_and_push_claims(repo: DynamoLedgerRepository) -> None:
    repo.set_category_buffer("toys", 3)
    assert repo.category_buffer("toys") == 3
    repo.set_category_buffer("toys", None)
    assert repo.category_buffer("toys") is None
    assert repo.claim_push("SKU-1", 5)
    assert not repo.claim_push("SKU-1", 4)
    assert not repo.claim_push("SKU-1", 5)
    assert repo.claim_push("SKU-1", 6)


def test_twenty_threads_applying_overlapping_sales_end_with_exact_totals(ledger_table: str) -> None:
    """20 threads deliver overlapping slices of 12 sales (each sale 3-4 times) and repeated cancellations."""
    stock = StockLedger(
        DynamoLedgerRepository(ledger_table, OneRequestAtATime(boto3.client("dynamodb"))), EXACT
    )
    stock.apply_shop_level("SKU-1", 1000, at(0))
    sales = [sale(n, quantity=1 + n % 3) for n in range(12)]
    cancelled = {"cf-0:li-1", "cf-7:li-1", "cf-99:li-1"}  # the last one's sale never comes

    def worker(thread: int) -> list[Outcome]:
        outcomes = [stock.apply_sale(sales[(thread + k) % 12]).outcome for k in (0, 6)]
        if thread % 4 == 0:
            outcomes += [stock.apply_cancellation("SKU-1", s, at(9)).outcome for s in sorted(cancelled)]
        return outcomes

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = [o for result in pool.map(worker, range(20)) for o in result]

    taken = sum(s.quantity for s in sales if s.sale_id not in cancelled)
    assert stock.view("SKU-1").available == 1000 - taken
    open_sales = DynamoLedgerRepository(ledger_table).load("SKU-1").open_sales
    assert set(open_sales) == {s.sale_id for s in sales} - cancelled
    # Every sale and every cancellation took effect exactly once (APPLIED, or CANCELLED_FIRST when a
    # cancellation overtook its sale); every other delivery was a DUPLICATE.
    took_effect = outcomes.count(Outcome.APPLIED) + outcomes.count(Outcome.CANCELLED_FIRST)
    assert took_effect == len(sales) + len(cancelled)
    assert outcomes.count(Outcome.DUPLICATE) == len(outcomes) - took_effect


def test_a_sweeps_batched_views_equal_the_one_by_one_views(repo: DynamoLedgerRepository) -> None:
    """`views` (BatchGetItem, 100 keys a call, category buffers batched too) shows each SKU as `view` does,
    and a SKU never seen as unknown at revision 0."""
    ledger = StockLedger(repo)
    ledger.set_category_buffer("toys", 2)
    skus = [f"SKU-{n}" for n in range(150)]
    for n, sku in enumerate(skus):
        ledger.set_buffer(sku, None if n % 2 else 1, category="toys")
        ledger.apply_shop_level(sku, 10 + n, at(n))

    views = ledger.views([*skus, "NEVER-SEEN"])

    assert views == {sku: ledger.view(sku) for sku in [*skus, "NEVER-SEEN"]}
    assert views["SKU-1"].available == 11 - 2  # its category's buffer
    assert views["SKU-0"].available == 10 - 1  # its own
    assert views["NEVER-SEEN"].revision == 0
