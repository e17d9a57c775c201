"""The DynamoDB adapters' conditions on moto: order versions, attention markers, the cursor's lease and CAS,
the forward-only gap watermark, and the catalogue's offer -> SKU lookup."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from allegro_sync.adapters.dynamodb.orders import CatalogOfferLinks, DynamoOrderCursors, DynamoOrderRepository
from allegro_sync.contracts.orders import CursorLost, OrderConflict
from allegro_sync.domain.orders import LineOwner, OrderRecord, StoredLine
from tests.fixtures.aws import create_table

pytestmark = pytest.mark.integration


def record(version: int, attention: tuple[str, ...] = ()) -> OrderRecord:
    line = StoredLine("l1", "f1:l1", "o1", "SKU-1", 2, "49.99", "PLN")
    return OrderRecord(
        "f1",
        "shop1",
        "BOUGHT",
        f"r{version}",
        "2026-11-27T20:00:00.000Z",
        (line,),
        taken=frozenset({"f1:l1"}),
        attention=attention,
        version=version,
    )


def test_order_records_are_versioned_and_attention_is_listed(aws: None) -> None:
    orders = DynamoOrderRepository(create_table("orders"))
    orders.save(record(1, ("line l2: no SKU",)), 0)

    assert orders.get("f1") == record(1, ("line l2: no SKU",))
    assert orders.needing_attention() == [("f1", "shop1", ["line l2: no SKU"])]
    with pytest.raises(OrderConflict):
        orders.save(record(2), 0)  # someone else wrote version 1 first
    orders.save(record(2), 1)
    assert orders.needing_attention() == []
    assert orders.get("missing") is None


def test_a_record_saved_before_its_message_is_marked_sent_only_at_its_own_version(aws: None) -> None:
    orders = DynamoOrderRepository(create_table("orders"))
    orders.save(replace(record(1), published=False), 0)
    assert orders.get("f1") == replace(record(1), published=False)

    orders.mark_published("f1", 2)  # not this record's version: a later state's mark, nothing to do
    assert orders.get("f1") == replace(record(1), published=False)
    orders.mark_published("f1", 1)
    assert orders.get("f1") == record(1)
    orders.mark_published("missing", 1)  # no record: nothing written
    assert orders.get("missing") is None


def test_the_gap_scan_reads_many_orders_in_batches_of_one_hundred(aws: None) -> None:
    """More forms than one BatchGetItem takes: every stored one comes back, the unknown ones are absent."""
    orders = DynamoOrderRepository(create_table("orders"))
    stored = [replace(record(1), checkout_form_id=f"f{n}") for n in range(0, 250, 2)]
    for one in stored:
        orders.save(one, 0)

    found = orders.get_many([f"f{n}" for n in range(250)])

    assert found == {one.checkout_form_id: one for one in stored}


def test_the_cursor_lease_and_compare_and_swap(aws: None) -> None:
    cursors = DynamoOrderCursors(create_table("control"))
    now = 1_000.0
    first = cursors.claim("shop1", "run-a", now, 120)
    assert first is not None
    assert first.started is False
    assert cursors.claim("shop1", "run-b", now + 10, 120) is None  # held
    state = cursors.start("shop1", "run-a", "100", now, 120)
    assert state.started_at == now  # where history ends, for the gap scan
    with pytest.raises(CursorLost):
        cursors.start("shop1", "run-a", "50", now, 120)  # the first position is set once
    state = cursors.advance(
        "shop1", "run-a", expected_seq=state.seq, event_id="105", now=now, lease_seconds=120
    )
    with pytest.raises(CursorLost):  # a stale sequence number: another advance happened
        cursors.advance("shop1", "run-a", expected_seq=0, event_id="103", now=now, lease_seconds=120)
    with pytest.raises(CursorLost):  # not the lease holder
        cursors.advance("shop1", "run-b", expected_seq=state.seq, event_id="110", now=now, lease_seconds=120)

    cursors.release("shop1", "run-a")
    taken = cursors.claim("shop1", "run-b", now + 1, 120)
    assert taken is not None
    assert (taken.event_id, taken.seq) == ("105", 1)
    assert cursors.claim("shop1", "run-c", now + 500, 120) is not None  # an expired lease is taken over


def test_the_gap_watermark_only_moves_forward(aws: None) -> None:
    cursors = DynamoOrderCursors(create_table("control"))
    at = datetime(2026, 11, 27, 20, tzinfo=UTC)
    assert cursors.gap_watermark("shop1") is None
    cursors.set_gap_watermark("shop1", at)
    cursors.set_gap_watermark("shop1", at - timedelta(hours=1))
    assert cursors.gap_watermark("shop1") == at


def test_offer_links_find_the_sku_of_an_offer_per_account(aws: None) -> None:
    catalog = boto3.resource("dynamodb").Table(create_table("catalog"))
    catalog.put_item(
        Item={
            "pk": "product#SKU-1",
            "sk": "offer#shop1",
            "sku": "SKU-1",
            "account": "shop1",
            "offer_id": "77",
        }
    )
    catalog.put_item(
        Item={
            "pk": "product#SKU-2",
            "sk": "offer#shop2",
            "sku": "SKU-2",
            "account": "shop2",
            "offer_id": "77",
        }
    )
    catalog.put_item(Item={"pk": "product#SKU-1", "sk": "product", "sku": "SKU-1", "offer_id": "77"})
    links = CatalogOfferLinks("catalog")

    assert links.skus_for_offer("shop1", "77") == ["SKU-1"]
    assert links.skus_for_offer("shop1", "78") == []


def test_line_owners_are_read_back_and_old_records_are_indexed_once(aws: None) -> None:
    """Combined payments (#1111): which form carries a purchase. Records from before line owners existed are
    indexed by the one-off `index_recorded_lines`, which never overwrites a newer owner."""
    orders = DynamoOrderRepository(create_table("orders"))
    orders.save(record(1), 0)  # a record with an old `<form>:<line>` sale id and no line owner
    orders.set_line_owners("f9", {"l9": "l9"})

    assert orders.line_owners(["l1", "l9"]) == {"l9": LineOwner("f9", "l9")}
    assert orders.index_recorded_lines() == 1
    assert orders.index_recorded_lines() == 0
    orders.set_line_owners("f3", {"l1": "f1:l1"})  # a combined payment moved it
    assert orders.index_recorded_lines() == 0
    assert orders.line_owners(["l1"]) == {"l1": LineOwner("f3", "f1:l1")}
