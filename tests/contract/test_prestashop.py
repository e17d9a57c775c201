"""PrestaShop as its Webservice API answers (the fake in allegro_sync.local.prestashop_fake, from PrestaShop's
documented JSON): combinations published one SKU each, a change seen once by two overlapping reconciliation
runs, a stock movement that leaves `date_upd` alone still synced, an order delivered once under retries,
a combined payment cancelling the replaced order, and a product that cannot be published refused with a
status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import pytest

from allegro_sync.adapters.shop.prestashop import PrestaShopChanges
from allegro_sync.adapters.shop.prestashop_orders import PrestaShopShop
from allegro_sync.adapters.shop_credentials import PrestaShopCredentials, parse_credentials
from allegro_sync.contracts.messages import Parcel, ProductUpsert, ShopOrderStatus, StockSet
from allegro_sync.contracts.shop import ShopUnavailable
from allegro_sync.contracts.webhooks import Refusal, Source
from allegro_sync.local.prestashop_fake import FakePrestaShop
from allegro_sync.services.shop_reconcile import ShopReconciler
from allegro_sync.services.webhooks import WebhookIntake
from tests.fixtures.prestashop_shop import KEY, URL, catalogue, client
from tests.unit.shop_out.test_shop_delivery import MemoryIndex, line, order
from tests.unit.webhooks.test_intake import Markers, Queue
from tests.unit.webhooks.test_shop_reconcile import Cursors


class Refusals:
    def __init__(self) -> None:
        self.kept: dict[str, str] = {}

    def record(self, source: Source, key: str, refused: Sequence[Refusal]) -> None:
        self.kept |= {r.sku: r.reason for r in refused}


def feed(shop: FakePrestaShop) -> PrestaShopChanges:
    return PrestaShopChanges(URL, KEY, client(shop), overlap=timedelta(seconds=2), vat_percent=Decimal("23"))


def reconciler(
    shop: FakePrestaShop, markers: Markers, cursors: Cursors, queue: Queue, refusals: Refusals | None = None
) -> ShopReconciler:
    return ShopReconciler(feed(shop), WebhookIntake(markers, queue, refusals=refusals), cursors)


def upserts(queue: Queue) -> dict[str, ProductUpsert]:
    return {q.event.sku: q.event for q in queue.sent if isinstance(q.event, ProductUpsert)}


def test_a_product_with_combinations_is_published_once_per_combination_with_its_own_price_ean_and_stock() -> (
    None
):
    shop, _, _ = catalogue()
    queue = Queue()
    reconciler(shop, Markers(), Cursors(), queue).run()
    found = upserts(queue)
    assert sorted(found) == ["CABLE-1", "SONY-XM5-BLK", "SONY-XM5-SLV"]  # the parent itself is no offer
    black, silver = found["SONY-XM5-BLK"], found["SONY-XM5-SLV"]
    assert (black.price, silver.price) == (Decimal("1230.00"), Decimal("1291.50"))  # (net + impact) * 1.23
    assert (black.stock, silver.stock) == (4, 2)
    assert black.ean == "4548736132610"
    assert silver.ean is None
    assert black.name == "Słuchawki Sony WH-1000XM5 - Czarny"
    assert black.category_path == ["Słuchawki"]
    assert black.attributes == {"Stan": "Nowy", "Wariant": "Czarny"}  # features + the combination's option
    assert all(q.event.source == "prestashop" for q in queue.sent)


def test_two_overlapping_runs_queue_a_change_once_and_a_quiet_run_reads_nothing_new() -> None:
    shop, product, _ = catalogue()
    markers, cursors, queue = Markers(), Cursors(), Queue()
    reconciler(shop, markers, cursors, queue).run()
    started_from = dict(cursors.value)
    shop.edit_product(product, price="900.00")  # saved in the back office: date_upd moves
    queue.sent.clear()
    first = reconciler(shop, markers, cursors, queue).run()
    late = Cursors()
    late.value = started_from  # a second run that started from the same cursor, overlapping the first
    second = reconciler(shop, markers, late, queue).run()
    prices = [(q.event.sku, q.event.price) for q in queue.sent if isinstance(q.event, ProductUpsert)]
    assert sorted(prices) == [("SONY-XM5-BLK", Decimal("1107.00")), ("SONY-XM5-SLV", Decimal("1168.50"))]
    assert first.queued >= 1
    assert second.queued == 0
    assert second.duplicates >= 1
    queue.sent.clear()
    quiet = reconciler(shop, markers, cursors, queue).run()
    assert queue.sent == []
    assert quiet.queued == 0


def test_a_stock_movement_that_leaves_date_upd_alone_is_still_synced_once() -> None:
    shop, product, _ = catalogue()
    markers, cursors, queue = Markers(), Cursors(), Queue()
    reconciler(shop, markers, cursors, queue).run()
    before = shop.tables["products"][product]["date_upd"]
    silver = int(shop.tables["products"][product]["associations"]["combinations"][1]["id"])
    shop.set_stock(product, silver, 0)  # a sale in the shop: PrestaShop does not touch date_upd (#20465)
    assert shop.tables["products"][product]["date_upd"] == before
    queue.sent.clear()
    reconciler(shop, markers, cursors, queue).run()
    levels = {q.event.sku: q.event.stock for q in queue.sent if isinstance(q.event, StockSet)}
    assert levels["SONY-XM5-SLV"] == 0
    queue.sent.clear()
    reconciler(shop, markers, cursors, queue).run()
    assert queue.sent == []  # nothing moved since: nothing re-sent


def test_a_product_that_cannot_be_published_is_refused_with_a_reason_on_its_status() -> None:
    shop, product, _ = catalogue()
    shop.add_combination(product, "SONY-XM5-RED", impact="-1500.00", stock=1, option="Czerwony")
    refusals, queue = Refusals(), Queue()
    reconciler(shop, Markers(), Cursors(), queue, refusals).run()
    assert "SONY-XM5-RED" not in upserts(queue)
    assert "SONY-XM5-BLK" in upserts(queue)
    assert "below 0" in refusals.kept["SONY-XM5-RED"]
    assert "PrestaShop" in refusals.kept["SONY-XM5-RED"]


def sink(shop: FakePrestaShop, index: MemoryIndex) -> PrestaShopShop:
    return PrestaShopShop(URL, KEY, client(shop), index)


def test_an_order_is_delivered_once_under_retries_even_when_the_create_answer_was_lost() -> None:
    shop, product, _ = catalogue()
    black = int(shop.tables["products"][product]["associations"]["combinations"][0]["id"])
    message = order("READY_FOR_PROCESSING", 1, line(sku="SONY-XM5-BLK", qty=2))
    shop.lose_order_answers = 1  # PrestaShop created the order, but its answer never reached us
    with pytest.raises(ShopUnavailable):
        sink(shop, MemoryIndex()).deliver(message)
    index = MemoryIndex()  # the index write was lost too: only PrestaShop knows the order
    for _ in range(3):  # the queue redelivers
        ack = sink(shop, index).deliver(message)
    assert len(shop.orders()) == 1
    assert ack.shop_order_id == str(shop.orders()[0]["id"])
    assert shop.orders()[0]["payment"] == f"Allegro {message.checkout_form_id}"
    assert shop.orders()[0]["current_state"] == "2"  # payment accepted
    assert shop.stock(product, black) == 2  # 4 - 2: PrestaShop's own order took the stock, once
    assert len(shop.tables["customers"]) == len(shop.tables["carts"]) == 1


def test_a_combined_payment_cancels_the_replaced_order_only_once_the_combined_one_exists() -> None:
    shop, _, cable = catalogue()
    index = MemoryIndex()
    first = order("READY_FOR_PROCESSING", 1, line(sku="CABLE-1", qty=3))
    sink(shop, index).deliver(first)
    merged = first.model_copy(
        update={"status": "MERGED", "merged_into": "c0mb1ned-0000-0000-0000-000000000000"}
    )
    with pytest.raises(ShopUnavailable):
        sink(shop, index).deliver(merged)  # the combined order is not in PrestaShop yet
    combined = first.model_copy(update={"checkout_form_id": "c0mb1ned-0000-0000-0000-000000000000"})
    sink(shop, index).deliver(combined.model_copy(update={"buyer": {"email": "other@allegromail.pl"}}))
    sink(shop, index).deliver(merged)
    states = sorted(o["current_state"] for o in shop.orders())
    assert states == ["2", "6"]
    assert shop.stock(cable) == 27


def test_the_credentials_secret_selects_prestashop_and_never_shows_the_key() -> None:
    parsed = parse_credentials(f'{{"kind": "prestashop", "url": "{URL}", "api_key": "{KEY}"}}')
    assert isinstance(parsed, PrestaShopCredentials)
    assert KEY not in repr(parsed)


class Fulfillment(list[ShopOrderStatus]):
    """The fulfillment queue: what was sent, in order."""

    def send(self, update: ShopOrderStatus) -> None:
        self.append(update)


def test_an_order_the_seller_ships_in_prestashop_goes_back_to_allegro_once_with_its_tracking_number() -> None:
    shop, _, _ = catalogue()
    message = order("READY_FOR_PROCESSING", 1, line(sku="CABLE-1", qty=1))
    sink(shop, MemoryIndex()).deliver(message)
    markers, cursors, queue, sent = Markers(), Cursors(), Queue(), Fulfillment()

    def run() -> None:
        ShopReconciler(feed(shop), WebhookIntake(markers, queue), cursors, fulfillment=sent).run()

    run()
    assert sent == []  # payment accepted is our own state: nothing to tell Allegro
    shop.ship(int(shop.orders()[0]["id"]), "620111222333444555666777")
    shop.clock += timedelta(minutes=10)  # past the overlap
    run()
    run()
    assert sent == [
        ShopOrderStatus(
            checkout_form_id=message.checkout_form_id,
            status="SENT",
            parcels=(Parcel(carrier="InPost", waybill="620111222333444555666777"),),
        )
    ]
