"""The import: one checkout form's current state applied to the stock ledger exactly once per line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from allegro_sync.contracts.messages import OrderNotice
from allegro_sync.domain.ledger import Sale
from allegro_sync.domain.orders import LineOwner, StockCountPoint
from allegro_sync.services.orders import OrderImporter
from allegro_sync.services.stock import StockLedger
from tests.fixtures.ledger import InMemoryLedgerRepository, SimulatedCrash
from tests.unit.orders.fakes import Crash, MemoryBuyers, MemoryLinks, MemoryOrders, MemoryOutbox, form

T0 = datetime(2026, 11, 27, 12, tzinfo=UTC)
ONE_LINE = [("line-1", "offer-1", "SKU-1", 2)]


class World:
    def __init__(self, repo: InMemoryLedgerRepository, count_at: StockCountPoint = StockCountPoint.BOUGHT):
        self.repo = repo
        self.stock = StockLedger(repo, sleep=lambda _: None)
        self.stock.apply_shop_level("SKU-1", 10, T0)
        self.stock.link_offer("SKU-1", "offer-1", "shop1")
        self.stock.link_offer("SKU-1", "offer-9", "shop2")
        self.orders = MemoryOrders()
        self.outbox = MemoryOutbox()
        self.links = MemoryLinks()
        self.buyers = MemoryBuyers()
        self.importer = OrderImporter(
            self.orders, self.stock, self.outbox, self.outbox, self.links, self.buyers, count_at=count_at
        )

    def available(self, sku: str = "SKU-1") -> int | None:
        return self.stock.view(sku).available


@pytest.fixture
def world(memory_ledger: InMemoryLedgerRepository) -> World:
    return World(memory_ledger)


def test_a_bought_order_takes_stock_once_and_tells_everyone(world: World) -> None:
    result = world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))

    assert result.taken == ("line-1",)
    assert world.available() == 8
    [stock] = world.outbox.stock
    assert (stock.sku, stock.available, stock.cause) == ("SKU-1", 8, "sale")
    assert {(o.offer_id, o.account, o.quantity) for o in stock.offers} == {
        ("offer-1", "shop1", 8),
        ("offer-9", "shop2", 8),
    }
    [order] = world.outbox.orders
    assert order.status == "BOUGHT"
    assert [(li.sku, li.quantity, li.stock_effect) for li in order.lines] == [("SKU-1", 2, "TAKEN")]
    assert world.orders.records["f1"].taken == {"line-1"}


def test_the_same_form_again_changes_and_emits_nothing(world: World) -> None:
    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    again = world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))

    assert again.changed is False
    assert world.available() == 8
    assert (len(world.outbox.orders), len(world.outbox.stock)) == (1, 1)


def test_payment_and_a_surcharge_repeat_never_take_again(world: World) -> None:
    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    paid = world.importer.import_form("shop1", form("f1", "READY_FOR_PROCESSING", ONE_LINE, revision="r2"))
    surcharged = world.importer.import_form(
        "shop1", form("f1", "READY_FOR_PROCESSING", ONE_LINE, revision="r3")
    )

    assert (paid.taken, surcharged.taken) == ((), ())
    assert world.available() == 8
    assert [o.status for o in world.outbox.orders] == [
        "BOUGHT",
        "READY_FOR_PROCESSING",
        "READY_FOR_PROCESSING",
    ]
    assert len(world.outbox.stock) == 1  # the ledger moved once
    assert len({o.message_id for o in world.outbox.orders}) == 3


def test_a_cancellation_gives_the_stock_back_once(world: World) -> None:
    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    cancelled = world.importer.import_form("shop1", form("f1", "CANCELLED", ONE_LINE, revision="r2"))
    world.importer.import_form("shop1", form("f1", "CANCELLED", ONE_LINE, revision="r2"))

    assert cancelled.returned == ("line-1",)
    assert world.available() == 10
    assert [s.cause for s in world.outbox.stock] == ["sale", "cancellation"]
    assert world.outbox.orders[-1].lines[0].stock_effect == "RETURNED"


def test_counting_at_payment_waits_for_it(memory_ledger: InMemoryLedgerRepository) -> None:
    world = World(memory_ledger, StockCountPoint.READY_FOR_PROCESSING)
    bought = world.importer.import_form("shop1", form("f1", "FILLED_IN", ONE_LINE))
    assert (bought.taken, world.available()) == ((), 10)
    assert world.outbox.orders[0].lines[0].stock_effect == "NONE"

    world.importer.import_form("shop1", form("f1", "READY_FOR_PROCESSING", ONE_LINE, revision="r2"))
    assert world.available() == 8


def test_an_unpaid_order_cancelled_before_it_counted_returns_nothing(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    world = World(memory_ledger, StockCountPoint.READY_FOR_PROCESSING)
    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    world.importer.import_form("shop1", form("f1", "CANCELLED", ONE_LINE, revision="r2"))

    assert world.available() == 10
    assert world.outbox.stock == []
    assert world.outbox.orders[-1].lines[0].stock_effect == "NONE"
    # A stale "paid" view of the form arriving after the cancellation cannot take stock either.
    world.importer.import_form("shop1", form("f1", "READY_FOR_PROCESSING", ONE_LINE, revision="r1"))
    assert world.available() == 10


def test_an_unknown_sku_is_recorded_for_the_seller_and_the_other_lines_still_count(world: World) -> None:
    lines = [("line-1", "offer-1", "SKU-1", 1), ("line-2", "offer-77", None, 1)]
    result = world.importer.import_form("shop1", form("f1", "BOUGHT", lines))

    assert world.available() == 9
    assert len(result.attention) == 1
    assert "offer-77" in result.attention[0]
    assert world.orders.records["f1"].attention == result.attention
    assert world.outbox.orders[0].needs_attention == result.attention
    assert [li.sku for li in world.outbox.orders[0].lines] == ["SKU-1", None]


def test_a_line_without_external_id_is_matched_by_the_offer_link(world: World) -> None:
    world.links.links[("shop1", "offer-1")] = ["SKU-1"]
    world.importer.import_form("shop1", form("f1", "BOUGHT", [("line-1", "offer-1", None, 3)]))
    assert world.available() == 7


def test_an_offer_linked_to_two_skus_is_never_guessed(world: World) -> None:
    world.links.links[("shop1", "offer-1")] = ["SKU-1", "SKU-2"]
    result = world.importer.import_form("shop1", form("f1", "BOUGHT", [("line-1", "offer-1", None, 3)]))
    assert world.available() == 10
    assert "several SKUs" in result.attention[0]


def test_an_unknown_status_changes_no_stock(world: World) -> None:
    result = world.importer.import_form("shop1", form("f1", "ON_HOLD", ONE_LINE))
    assert world.available() == 10
    assert "ON_HOLD" in result.attention[0]


def test_a_crash_after_the_ledger_re_emits_with_the_same_ids_and_takes_nothing_more(world: World) -> None:
    world.orders.crash_before_save = True
    with pytest.raises(Crash):
        world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    assert world.available() == 8

    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))  # SQS redelivers

    assert world.available() == 8
    assert [s.message_id for s in world.outbox.stock] == [world.outbox.stock[0].message_id] * 2
    # The order's message goes out after its record is saved: the attempt that died sent none.
    assert [o.message_id for o in world.outbox.orders] == ["order:f1:v1"]
    assert world.orders.records["f1"].taken == {"line-1"}
    assert world.orders.records["f1"].published


def test_a_crash_between_the_save_and_the_message_sends_it_on_the_retry(world: World) -> None:
    world.outbox.crash_before_order = True
    with pytest.raises(Crash):
        world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    assert not world.orders.records["f1"].published

    again = world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))  # SQS redelivers

    assert again.changed is False  # the state was saved; only its message was missing
    assert [(o.message_id, o.status) for o in world.outbox.orders] == [("order:f1:v1", "BOUGHT")]
    assert world.orders.records["f1"].published
    assert world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE)).changed is False
    assert len(world.outbox.orders) == 1  # sent once: a later repeat sends nothing


def test_a_worker_that_died_mid_import_never_gives_a_later_state_the_id_of_an_earlier_one(
    world: World,
) -> None:
    """The soak of 2026-12-07: an import of a paid order died after its message went out and before its
    record was saved; the retry read the form cancelled by then, took the same version, and its message had
    the paid one's id, so the shop dropped the cancellation as a repeat and kept the units taken."""
    world.orders.crash_before_save = True
    with pytest.raises(Crash):
        world.importer.import_form("shop1", form("f1", "READY_FOR_PROCESSING", ONE_LINE))

    world.importer.import_form("shop1", form("f1", "CANCELLED", ONE_LINE, revision="r2"))

    assert world.available() == 10  # taken by the attempt that died, given back by the cancellation
    ids = [o.message_id for o in world.outbox.orders]
    assert len(ids) == len(set(ids))  # one id, one state
    assert [o.status for o in world.outbox.orders] == ["CANCELLED"]
    [line] = world.outbox.orders[-1].lines
    assert line.stock_effect == "NONE"  # the shop was never told of the sale: nothing to give back


def test_a_state_saved_but_not_sent_is_followed_by_the_next_state_under_a_new_id(world: World) -> None:
    world.outbox.crash_before_order = True
    with pytest.raises(Crash):
        world.importer.import_form("shop1", form("f1", "READY_FOR_PROCESSING", ONE_LINE))

    world.importer.import_form("shop1", form("f1", "CANCELLED", ONE_LINE, revision="r2"))

    assert [(o.message_id, o.status) for o in world.outbox.orders] == [("order:f1:v2", "CANCELLED")]
    assert world.available() == 10


def test_a_crash_inside_the_ledger_commit_is_retried_safely(world: World) -> None:
    world.repo.next_crash = "after"
    with pytest.raises(SimulatedCrash):
        world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    assert world.available() == 8
    assert world.outbox.stock[-1].revision == world.stock.view("SKU-1").revision


def test_two_lines_of_one_sku_send_one_stock_message_at_the_final_revision(world: World) -> None:
    lines = [("line-1", "offer-1", "SKU-1", 1), ("line-2", "offer-1", "SKU-1", 2)]
    world.importer.import_form("shop1", form("f1", "BOUGHT", lines))
    [stock] = world.outbox.stock
    assert stock.available == 7
    assert stock.sale_ids == ("line-1", "line-2")
    assert stock.revision == world.stock.view("SKU-1").revision


def test_a_form_recorded_for_another_account_is_refused(world: World) -> None:
    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    with pytest.raises(ValueError, match="shop1"):
        world.importer.import_form("shop2", form("f1", "CANCELLED", ONE_LINE))
    assert world.available() == 8


# --- allegro-orders: sale ids across a combined payment, and records written before it (#1111) ---


def test_a_record_written_with_the_old_form_line_keys_keeps_them_through_a_combined_payment(
    world: World,
) -> None:
    """No migration: a sale counted as `f1:line-1` by an older version is still that sale when a
    combined payment moves its line item into a new form, so it is never taken twice."""
    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    legacy = world.orders.records["f1"]
    old_line = replace(legacy.lines[0], sale_id="f1:line-1")
    world.orders.records["f1"] = replace(legacy, lines=(old_line,), taken=frozenset({"f1:line-1"}))
    world.orders.owners["line-1"] = LineOwner("f1", "f1:line-1")  # re-read once after the upgrade
    world.stock.apply_sale(Sale("f1:line-1", "SKU-1", 2, T0, "shop1", "offer-1"))  # what the old import took
    taken = world.available()

    world.importer.import_form("shop1", form("f3", "READY_FOR_PROCESSING", ONE_LINE))

    assert world.available() == taken
    assert world.orders.records["f3"].taken == {"f1:line-1"}
    assert world.orders.records["f1"].status == "MERGED"
    closed = [o for o in world.outbox.orders if o.checkout_form_id == "f1" and o.status == "MERGED"]
    assert [o.merged_into for o in closed] == ["f3"]


def test_a_replaced_forms_merged_message_lost_to_a_crash_goes_out_on_the_retry(world: World) -> None:
    """A combined payment closes the replaced form like an import: record, then message, then the mark."""
    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    world.outbox.crash_before_order = True  # dies sending f1's MERGED message, its record saved
    with pytest.raises(Crash):
        world.importer.import_form("shop1", form("f3", "READY_FOR_PROCESSING", ONE_LINE))
    assert world.orders.records["f1"].status == "MERGED"
    assert not world.orders.records["f1"].published

    world.importer.import_form("shop1", form("f3", "READY_FOR_PROCESSING", ONE_LINE))  # SQS redelivers

    closed = [o for o in world.outbox.orders if o.checkout_form_id == "f1" and o.status == "MERGED"]
    assert [(o.message_id, o.merged_into) for o in closed] == [("order:f1:v2", "f3")]
    assert world.orders.records["f1"].published
    assert world.available() == 8  # the carried-over sale is taken once


def test_a_form_allegro_deleted_waits_as_deleted_without_the_seller_and_without_stock_moving(
    world: World,
) -> None:
    world.importer.import_form("shop1", form("f1", "BOUGHT", ONE_LINE))
    notice = OrderNotice(account="shop1", checkout_form_id="f1", source="event", event_id="7")

    assert world.importer.record_deleted(notice) is True
    assert world.importer.record_deleted(notice) is False
    deleted = world.orders.records["f1"]
    assert (deleted.status, deleted.attention, deleted.taken) == ("DELETED", (), frozenset({"line-1"}))
    assert world.available() == 8


# --- the buyer's personal data (docs/privacy.md) ----------------------------------------------------------

BUYER = {
    "login": "kupujacy",
    "email": "jan.kowalski@allegromail.pl",
    "firstName": "Jan",
    "lastName": "Kowalski",
    "phoneNumber": "+48 500 600 700",
}
ADDRESS = {"street": "ul. Marszałkowska 1", "zipCode": "00-001", "city": "Warszawa"}
DELIVERY = {"address": {**ADDRESS, "lastName": "Kowalski", "phoneNumber": "+48 500 600 701"}}
PERSONAL = ("Kowalski", "jan.kowalski", "500 600 70", "Marszałkowska", "kupujacy")


def test_the_shop_message_refers_to_the_buyer_kept_for_days_after_the_order_closed(world: World) -> None:
    now = [1_800_000_000.0]
    importer = replace(world.importer, clock=lambda: now[0], buyer_data_days=30)
    bought = form("f1", "BOUGHT", ONE_LINE).model_copy(update={"buyer": BUYER, "delivery": DELIVERY})
    importer.import_form("shop1", bought)
    now[0] += 86_400
    paid = bought.model_copy(update={"status": "READY_FOR_PROCESSING", "revision": "r2"})
    importer.import_form("shop1", paid)

    for message in world.outbox.orders:
        body = message.model_dump_json()
        assert message.buyer_data_stored
        assert [value for value in PERSONAL if value in body] == []
    kept = world.buyers.stored["f1"]
    assert (kept.buyer, kept.delivery) == (BUYER, DELIVERY)
    assert kept.expires_at == int(now[0]) + 30 * 86_400  # from the payment, the latest change

    now[0] += 86_400
    importer.import_form("shop1", paid.model_copy(update={"status": "CANCELLED", "revision": "r3"}))
    assert world.buyers.stored["f1"].expires_at == int(now[0]) + 30 * 86_400  # closed: 30 days from now
