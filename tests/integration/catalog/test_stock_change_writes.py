"""What a stock change writes on DynamoDB (moto): small items, the product page written once, and stock
pushes explained with their pushed record (docs/stock-ledger.md, "What a stock change writes")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog
from allegro_sync.adapters.dynamodb.pushed import DynamoPushLog
from allegro_sync.contracts.catalog import Change, Outcome, StoredProduct, order_key
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.contracts.stock import PushRecord
from bench._write_units import item_size, write_units
from tests.fixtures.aws import create_tables

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
_typed = TypeSerializer().serialize


def _upsert(name: str, at: datetime, **more: str) -> ProductUpsert:
    return ProductUpsert(
        delivery_id=name, occurred_at=at, sku="A", name=name, price="10.00", category_path=["Dom"], **more
    )


def _size(table: object, key: dict[str, str]) -> int:
    item = table.get_item(Key=key)["Item"]  # type: ignore[attr-defined]
    return item_size({name: _typed(value) for name, value in item.items()})


def test_a_stock_change_rewrites_only_the_small_product_item_and_the_page_stays(aws: None) -> None:
    table = create_tables("catalog")["catalog"]
    catalog = DynamoCatalog(table)
    page = _upsert("Słuchawki", T0, description_html="x" * 5000)
    upserted = StoredProduct(sku="A", order_key=order_key(T0, None), upsert=page, stock=5)
    assert catalog.accept(upserted) is Outcome.APPLIED

    later = replace(upserted, order_key=order_key(T0 + timedelta(minutes=1), None), stock=3)
    assert catalog.accept(later, new_content=False) is Outcome.APPLIED

    stored = catalog.product("A")
    assert stored is not None
    assert (stored.stock, stored.upsert) == (3, page)
    product = _size(table, {"pk": "product#A", "sk": "product"})
    assert write_units(None, {"x": {"S": "y" * product}}, transactional=False) == 1
    assert _size(table, {"pk": "product#A", "sk": "content"}) > 5000


def test_an_older_upsert_never_replaces_newer_content(aws: None) -> None:
    catalog = DynamoCatalog(create_tables("catalog")["catalog"])
    new, old = _upsert("Nowa", T0 + timedelta(minutes=5)), _upsert("Stara", T0)
    catalog.accept(StoredProduct(sku="A", order_key=order_key(new.occurred_at, None), upsert=new))

    merged = StoredProduct(sku="A", order_key=order_key(new.occurred_at, None), upsert=old)
    catalog.accept(merged)  # e.g. late content merged by the publisher: the product key is the newer one

    stored = catalog.product("A")
    assert stored is not None
    assert stored.upsert is not None
    assert stored.upsert.name == "Nowa"


def _change(n: int, offer: str = "O1") -> Change:
    at = (T0 + timedelta(minutes=n)).isoformat()
    reason = f"shop stock level (delivery {n:04d}, the shop's own stock at that time)"
    changes = {"stock": {"old": n, "new": n + 1}}
    return Change("A", "shop1", offer, "stock", changes, reason, f"stock:A:{n}", at=at)


def test_a_push_keeps_its_explanation_in_the_same_item_under_1_kb_and_history_shows_it(aws: None) -> None:
    made = create_tables("ledger", "changes")
    pushes = DynamoPushLog(made["ledger"].name)
    log = DynamoChangeLog(made["changes"], pushes.stock_changes)
    log.record(replace(_change(0), action="price", changes={"price": {"old": "1", "new": "2"}}))

    for n in range(1, 30):
        assert pushes.record("A", "O1", PushRecord(n, "SET", n + 1, "shop1"), [_change(n)])
    assert not pushes.record("A", "O1", PushRecord(3, "SET", 9, "shop1"), [_change(99)])  # older: refused
    pushes.record("A", "O1", PushRecord(30, "SET", 31, "shop1"))  # same value: the record alone

    assert _size(made["ledger"], {"pk": "sku#A", "sk": "pushed#O1"}) < 1024
    history = log.history("A")
    assert (history[0].action, history[-1].action) == ("stock", "price")
    assert history[0].changes == {"stock": {"old": 29, "new": 30}}  # the newest push, first
    assert 1 < len(history) - 1 < 29  # the newest few: older ones are in the propagator's logs
    assert pushes.pushed("A")["O1"] == PushRecord(30, "SET", 31, "shop1")


class _PushLandsAfterTheRead:
    """A `dynamodb` resource whose table runs `rival` (another worker's push record) right after the next
    GetItem: the boundary between a record's read of the offer's recent changes and its write."""

    def __init__(self) -> None:
        self.rival: Callable[[], object] | None = None

    def Table(self, name: str) -> Any:
        table, racing = boto3.resource("dynamodb").Table(name), self

        class _Racing:
            def get_item(self, **request: Any) -> Any:
                found = table.get_item(**request)
                rival, racing.rival = racing.rival, None
                if rival is not None:
                    rival()
                return found

            def __getattr__(self, attribute: str) -> Any:
                return getattr(table, attribute)

        return _Racing()


def test_a_push_recorded_while_a_newer_one_reads_keeps_its_explanation(aws: None) -> None:
    """The reconciler records a repair at revision 5 while the propagator's push of revision 6 is between
    its read of the offer's recent changes and its write: `products why` must still list both changes."""
    made = create_tables("ledger", "changes")
    racing = _PushLandsAfterTheRead()
    propagator = DynamoPushLog(made["ledger"].name, resource=racing)
    reconciler = DynamoPushLog(made["ledger"].name)
    log = DynamoChangeLog(made["changes"], propagator.stock_changes)
    assert propagator.record("A", "O1", PushRecord(4, "SET", 4, "shop1"), [_change(4)])

    racing.rival = lambda: reconciler.record("A", "O1", PushRecord(5, "SET", 5, "shop1"), [_change(5)])
    assert propagator.record("A", "O1", PushRecord(6, "SET", 6, "shop1"), [_change(6)])

    assert [c.event_id for c in log.history("A")] == ["stock:A:6", "stock:A:5", "stock:A:4"]
    assert propagator.pushed("A")["O1"] == PushRecord(6, "SET", 6, "shop1")
