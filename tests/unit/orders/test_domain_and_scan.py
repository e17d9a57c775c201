"""Pure order decisions, message ids, and the gap scan's choice of what to re-import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from allegro_sync.contracts.allegro_errors import AllegroRateLimited, AllegroUserRateLimited
from allegro_sync.contracts.messages import OrderChanged, OrderNotice, fifo_safe, parse_outbox_message
from allegro_sync.domain.orders import (
    FormLine,
    LineAction,
    OrderDomainError,
    OrderRecord,
    StockCountPoint,
    event_id_after,
    line_action,
    match_sku,
)
from allegro_sync.services.orders import GapScanner, allegro_time
from tests.unit.orders.fakes import FakeForms, MemoryCursors, MemoryOrders, MemoryQueue, form
from tests.unit.shop_out.test_shop_delivery import order

BOUGHT, PAID = StockCountPoint.BOUGHT, StockCountPoint.READY_FOR_PROCESSING


@pytest.mark.parametrize(
    ("status", "point", "action"),
    [
        ("BOUGHT", BOUGHT, LineAction.TAKE),
        ("FILLED_IN", BOUGHT, LineAction.TAKE),
        ("READY_FOR_PROCESSING", BOUGHT, LineAction.TAKE),
        ("BOUGHT", PAID, LineAction.WAIT),
        ("FILLED_IN", PAID, LineAction.WAIT),
        ("READY_FOR_PROCESSING", PAID, LineAction.TAKE),
        ("CANCELLED", BOUGHT, LineAction.GIVE_BACK),
        ("CANCELLED", PAID, LineAction.GIVE_BACK),
        ("SOMETHING_NEW", BOUGHT, LineAction.WAIT),
    ],
)
def test_when_a_line_counts(status: str, point: StockCountPoint, action: LineAction) -> None:
    assert line_action(status, point) is action


def test_the_count_point_setting_is_checked() -> None:
    assert StockCountPoint.parse(None) is BOUGHT
    assert StockCountPoint.parse("ready_for_processing") is PAID
    with pytest.raises(OrderDomainError, match="ORDER_STOCK_COUNT_AT"):
        StockCountPoint.parse("PAID")


def test_sku_matching_prefers_external_id_and_never_guesses() -> None:
    def no_links(_: str) -> list[str]:
        return []

    line = FormLine("l1", "o1", 1, external_id="SKU-1")
    assert match_sku(line, no_links)[:2] == ("SKU-1", "external.id")
    assert match_sku(FormLine("l1", "o1", 1), lambda _: ["SKU-9"])[:2] == ("SKU-9", "offer link")
    assert match_sku(FormLine("l1", "o1", 1), no_links)[0] is None
    assert match_sku(FormLine("l1", "o1", 1, external_id=" padded "), no_links)[0] is None


def test_fifo_ids_stay_valid_for_any_sku() -> None:
    assert fifo_safe("SKU-1") == "SKU-1"
    odd = fifo_safe("Żółta kurtka XL")
    assert odd.startswith("h:")
    assert len(odd) <= 128
    assert odd == fifo_safe("Żółta kurtka XL")
    notice = OrderNotice(account="shop1", checkout_form_id="f1", source="event", event_id="77")
    assert notice.deduplication_id == "shop1:event:77"


def test_event_ids_are_opaque_and_the_journal_orders_them() -> None:
    """Issue 14 (#5576): ids look like microsecond timestamps, but only the journal's order counts."""
    assert event_id_after(None, "1")
    assert event_id_after("9", "10")
    assert event_id_after("1661520636571747", "1661520630934020")  # the journal said so: follow it
    assert event_id_after("1661520636571747", "a40c15e0-1539-11f0")  # not a number at all
    assert not event_id_after("10", "10")  # the cursor's own event again: a loop


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(
            order("BOUGHT").model_copy(
                update={"updated_at": None, "lines": (), "buyer": None, "delivery": None}
            ),
            id="bare",
        ),
        pytest.param(order("READY_FOR_PROCESSING", 2), id="lines-buyer-delivery"),
    ],
)
def test_outbox_messages_round_trip(message: OrderChanged) -> None:
    assert parse_outbox_message(message.model_dump_json()) == message


NOW = datetime(2026, 11, 27, 20, 30, tzinfo=UTC)


def make_scanner(cursors: MemoryCursors, orders: MemoryOrders, queue: MemoryQueue) -> GapScanner:
    return GapScanner(cursors, orders, queue, overlap=timedelta(minutes=10))


def poller_started(cursors: MemoryCursors, account: str, at: datetime) -> None:
    """The poller's first run on `account` at `at` (where history ends for the gap scan too)."""
    cursors.claim(account, "poller", at.timestamp(), 120)
    cursors.start(account, "poller", "100", at.timestamp(), 120)


def test_the_gap_scan_enqueues_only_forms_behind_and_moves_its_watermark() -> None:
    known = form("known", "BOUGHT", [], revision="r1", updated_at="2026-11-27T20:01:00.000Z")
    behind = form("behind", "READY_FOR_PROCESSING", [], revision="r2", updated_at="2026-11-27T20:05:00.000Z")
    missing = form("missing", "BOUGHT", [], revision="r1", updated_at="2026-11-27T20:03:00.000Z")
    orders = MemoryOrders()
    orders.records["known"] = OrderRecord("known", "shop1", "BOUGHT", "r1", None, version=1)
    orders.records["behind"] = OrderRecord("behind", "shop1", "BOUGHT", "r1", None, version=1)
    cursors, queue = MemoryCursors(), MemoryQueue()
    api = FakeForms([known, behind, missing])
    poller_started(cursors, "shop1", NOW - timedelta(hours=1))

    report = make_scanner(cursors, orders, queue).scan({"shop1": api})

    assert sorted(n.checkout_form_id for n in queue.sent) == ["behind", "missing"]
    assert {n.source for n in queue.sent} == {"scan"}
    assert report["shop1"].since == allegro_time(
        NOW - timedelta(hours=1)
    )  # history ends at the poller's start
    assert cursors.watermarks["shop1"] == datetime(2026, 11, 27, 20, 5, tzinfo=UTC)

    make_scanner(cursors, orders, queue).scan({"shop1": api})
    assert api.since[-1] == "2026-11-27T19:55:00.000Z"  # watermark minus the overlap


def test_the_gap_scan_queues_an_order_saved_without_its_message() -> None:
    """An import whose retries ran out between the save and the outbox left the record unsent: the gap scan,
    which finds the form at the stored revision, queues it so the import sends it."""
    sent = form("sent", "BOUGHT", [], revision="r1", updated_at="2026-11-27T20:01:00.000Z")
    unsent = form("unsent", "BOUGHT", [], revision="r1", updated_at="2026-11-27T20:02:00.000Z")
    orders = MemoryOrders()
    orders.records["sent"] = OrderRecord("sent", "shop1", "BOUGHT", "r1", None, version=1)
    orders.records["unsent"] = OrderRecord(
        "unsent", "shop1", "BOUGHT", "r1", None, version=1, published=False
    )
    cursors, queue = MemoryCursors(), MemoryQueue()
    poller_started(cursors, "shop1", NOW - timedelta(hours=1))

    make_scanner(cursors, orders, queue).scan({"shop1": FakeForms([sent, unsent])})

    assert [n.checkout_form_id for n in queue.sent] == ["unsent"]


def test_the_gap_scan_reads_its_stored_orders_one_page_at_a_time() -> None:
    """250 forms: three batched reads (100 + 100 + 50), never a read per form, and the same notices."""
    forms = [
        form(f"f{n:03}", "BOUGHT", [], revision="r2", updated_at="2026-11-27T20:05:00.000Z")
        for n in range(250)
    ]
    orders = MemoryOrders()
    for n in range(0, 250, 2):  # every second one is imported and current
        orders.records[f"f{n:03}"] = OrderRecord(f"f{n:03}", "shop1", "BOUGHT", "r2", None, version=1)
    reads: list[int] = []
    batched = orders.get_many
    orders.get_many = lambda ids: reads.append(len(ids)) or batched(ids)  # type: ignore[method-assign]
    orders.get = None  # type: ignore[assignment,method-assign]  # a read per form would fail
    cursors, queue = MemoryCursors(), MemoryQueue()
    poller_started(cursors, "shop1", NOW - timedelta(hours=1))

    report = make_scanner(cursors, orders, queue).scan({"shop1": FakeForms(forms)})

    assert reads == [100, 100, 50]
    assert report["shop1"].seen == 250
    assert sorted(n.checkout_form_id for n in queue.sent) == [f"f{n:03}" for n in range(1, 250, 2)]


def test_the_gap_scan_imports_no_history_before_the_poller_started() -> None:
    old = form("old", "READY_FOR_PROCESSING", [], updated_at="2026-11-27T18:00:00.000Z")
    cursors, queue = MemoryCursors(), MemoryQueue()
    api = FakeForms([old])

    waiting = make_scanner(cursors, MemoryOrders(), queue).scan({"shop1": api})
    assert waiting["shop1"].skipped
    assert api.since == []  # Allegro was not even asked

    poller_started(cursors, "shop1", NOW)
    make_scanner(cursors, MemoryOrders(), queue).scan({"shop1": api})
    assert queue.sent == []


@pytest.mark.parametrize(
    ("failure", "others_go_on"),
    [
        (RuntimeError("boom"), True),
        (AllegroUserRateLimited(NOW.timestamp() + 30, account="a-broken", resource="forms"), True),
        (AllegroRateLimited(NOW.timestamp() + 60), False),  # app-wide: any call would extend the block
    ],
)
def test_the_gap_scan_isolates_failing_accounts(failure: Exception, others_go_on: bool) -> None:
    class Broken(FakeForms):
        def iter_checkout_forms(self, **_: object):  # type: ignore[no-untyped-def]
            raise failure

    queue, cursors = MemoryQueue(), MemoryCursors()
    poller_started(cursors, "a-broken", NOW - timedelta(hours=1))
    poller_started(cursors, "b-good", NOW - timedelta(hours=1))
    good = FakeForms([form("g", "BOUGHT", [], updated_at="2026-11-27T20:05:00.000Z")])
    report = make_scanner(cursors, MemoryOrders(), queue).scan({"a-broken": Broken([]), "b-good": good})
    assert report["a-broken"].error
    assert bool(good.since) is others_go_on
    assert [n.checkout_form_id for n in queue.sent] == (["g"] if others_go_on else [])
