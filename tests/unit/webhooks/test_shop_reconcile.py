"""The shop reconciliation with in-memory ports and WooCommerce's REST listing (`WooCatalog` over httpx's
MockTransport): a change whose webhook was lost is queued, a re-run queues nothing, a crash before the
cursor was saved re-reads without queueing twice, and a 10,000-product shop is read only where it changed."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from allegro_sync.adapters.shop.generic_changes import GenericChanges
from allegro_sync.adapters.shop.woocommerce_changes import WooCommerceChanges
from allegro_sync.contracts.messages import PriceSet, ProductDelete, ProductUpsert, StockSet
from allegro_sync.contracts.shop_changes import ShopFeedFailed
from allegro_sync.services.shop_reconcile import ShopReconciler
from allegro_sync.services.webhooks import WebhookIntake
from tests.fixtures.woo_shop import WooCatalog
from tests.unit.shop_out.fake_shops import mock_transport
from tests.unit.webhooks.test_intake import Markers, Queue


class Cursors:
    def __init__(self) -> None:
        self.value: dict[str, str] = {}
        self.saves = 0

    def read(self, kind: str) -> str | None:
        return self.value.get(kind)

    def save(self, kind: str, cursor: str, *, expected: str | None) -> bool:
        if self.value.get(kind) != expected:
            return False
        self.value[kind] = cursor
        self.saves += 1
        return True


class CrashingCursors(Cursors):
    def save(self, kind: str, cursor: str, *, expected: str | None) -> bool:
        raise RuntimeError("the Lambda timed out before the cursor was saved")


def shop_with(count: int) -> tuple[WooCatalog, WooCommerceChanges]:
    """A catalogue built a product a minute (so the 5-minute overlap re-reads a handful of them)."""
    shop = WooCatalog("ck", "cs", step=timedelta(minutes=1))
    for i in range(count):
        shop.put_product(f"SKU-{i:05d}", stock=10)
    shop.step = timedelta(seconds=1)
    http = httpx.Client(transport=mock_transport(shop))
    return shop, WooCommerceChanges("http://shop.test", ("ck", "cs"), http, overlap=timedelta(minutes=5))


def reconciler(feed: WooCommerceChanges | GenericChanges, cursors: Cursors, queue: Queue) -> ShopReconciler:
    return ShopReconciler(feed, WebhookIntake(Markers(), queue), cursors)


def sent(queue: Queue) -> list[tuple[str, str, object]]:
    return [(q.event.sku, q.event.type, getattr(q.event, "stock", None)) for q in queue.sent]


def test_a_change_whose_webhook_was_lost_is_queued_by_the_next_run_and_a_rerun_is_a_no_op() -> None:
    shop, feed = shop_with(3)
    cursors, queue = Cursors(), Queue()
    run = reconciler(feed, cursors, queue)
    first = run.run()  # no cursor yet: the whole catalogue, once
    assert first.queued == 3
    assert cursors.value["woocommerce"] == shop.products[103]["date_modified_gmt"]
    shop.clock += timedelta(hours=1)  # past the overlap
    queue.sent.clear()

    shop.edit(102, stock_quantity=0, stock_status="outofstock")  # its webhook never arrives
    second = run.run()
    assert sent(queue) == [("SKU-00001", "product.upsert", 0)]
    assert second.queued == 1
    assert cursors.value["woocommerce"] == shop.products[102]["date_modified_gmt"]

    again = run.run()  # re-reads the overlap: the same state is answered "duplicate"
    assert again.queued == 0
    assert again.duplicates == 1
    assert sent(queue) == [("SKU-00001", "product.upsert", 0)]


def test_a_crash_before_the_cursor_is_saved_re_reads_and_queues_nothing_twice() -> None:
    shop, feed = shop_with(2)
    queue, markers = Queue(), Markers()
    cursors = Cursors()
    ShopReconciler(feed, WebhookIntake(markers, queue), cursors).run()
    shop.clock += timedelta(hours=1)
    shop.edit(101, price="79.99")
    with pytest.raises(RuntimeError, match="timed out"):
        ShopReconciler(feed, WebhookIntake(markers, queue), CrashingCursors()).run()
    queued_before = len(queue.sent)
    report = ShopReconciler(feed, WebhookIntake(markers, queue), cursors).run()
    assert report.queued == 0
    assert ("SKU-00000", "duplicate") in [(c.sku, c.verdict) for c in report.changes]
    assert len(queue.sent) == queued_before  # the change was queued once, by the run that crashed
    prices = [
        q.event.price for q in queue.sent if isinstance(q.event, ProductUpsert) and q.event.sku == "SKU-00000"
    ]
    assert str(prices[-1]) == "79.99"


def test_ten_thousand_products_with_a_hundred_changed_are_read_in_a_few_pages() -> None:
    shop, feed = shop_with(10_000)
    cursors, queue = Cursors(), Queue()
    run = reconciler(feed, cursors, queue)
    run.run()
    shop.clock += timedelta(hours=1)
    queue.sent.clear()
    for product in list(shop.products)[::100]:
        shop.edit(product, stock_quantity=3)
    shop.listings = 0
    report = run.run()
    assert report.queued == 100
    assert len(queue.sent) == 100
    assert report.duplicates == 5  # saved in the 5 minutes up to the cursor (the overlap), read again
    assert shop.listings == 3  # 105 products on 2 pages of 100, and the trash (empty)
    assert report.shop_calls == shop.listings


def test_variations_of_a_changed_variable_product_and_trashed_products_are_read() -> None:
    shop, feed = shop_with(1)
    parent = shop.put_product("", type="variable")
    red = shop.add_variation(parent, "KUBEK-red", price="19.99", stock=4)
    shop.add_variation(parent, "KUBEK-blue", price="19.99", stock=6)
    cursors, queue = Cursors(), Queue()
    run = reconciler(feed, cursors, queue)
    run.run()
    shop.clock += timedelta(hours=1)
    queue.sent.clear()
    shop.edit_variation(red, stock_quantity=1, price="17.99")
    shop.edit(101, status="trash")
    report = run.run()
    events = {(type(q.event).__name__, q.event.sku) for q in queue.sent}
    assert events == {("StockSet", "KUBEK-red"), ("PriceSet", "KUBEK-red"), ("ProductDelete", "SKU-00000")}
    assert report.queued == 2  # the variation (stock + price) and the trashed product
    stock = next(q.event for q in queue.sent if isinstance(q.event, StockSet))
    price = next(q.event for q in queue.sent if isinstance(q.event, PriceSet))
    assert (stock.stock, str(price.price)) == (1, "17.99")
    assert any(isinstance(q.event, ProductDelete) for q in queue.sent)


def test_a_shop_that_is_down_fails_the_run_and_keeps_the_cursor() -> None:
    shop, feed = shop_with(1)
    cursors = Cursors()
    reconciler(feed, cursors, Queue()).run()
    kept = dict(cursors.value)
    shop.down = True
    with pytest.raises(ShopFeedFailed, match="502"):
        reconciler(feed, cursors, Queue()).run()
    assert cursors.value == kept


def test_the_dry_run_shows_each_change_and_queues_nothing() -> None:
    _shop, feed = shop_with(2)
    queue = Queue()

    class Applied:
        def applied_key(self, sku: str) -> str | None:
            return "9" * 41 if sku == "SKU-00000" else None  # newer than anything: already applied

        def applied_level(self, sku: str) -> tuple[str, int | None] | None:
            key = self.applied_key(sku)
            return None if key is None else (key, 10)

    report = ShopReconciler(feed, WebhookIntake(Markers(), queue), Cursors(), Applied()).run(dry_run=True)
    assert queue.sent == []
    assert not report.cursor_saved
    verdicts = {c.sku: c.verdict for c in report.changes}
    assert verdicts == {"SKU-00000": "already applied", "SKU-00001": "would apply"}


def test_the_dry_run_compares_product_changes_with_the_product_not_with_a_newer_stock_level() -> None:
    """A stock change leaves the product's order key (the ledger orders levels), so a product change dated
    between the two is applied by the worker: the dry run must say so, not "already applied"."""
    _shop, feed = shop_with(1)

    class Applied:
        def applied_key(self, sku: str) -> str | None:
            return "0"  # the product's content: older than the shop's

        def applied_level(self, sku: str) -> tuple[str, int | None] | None:
            return "9" * 41, 3  # a stock level newer than anything the shop sends

    report = ShopReconciler(feed, WebhookIntake(Markers(), Queue()), Cursors(), Applied()).run(dry_run=True)
    assert {c.sku: c.verdict for c in report.changes} == {"SKU-00000": "would apply"}


class GenericShopChanges:
    """A shop exposing the generic `changes` endpoint: a change log with a sequence-number cursor."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.log: list[dict[str, object]] = []
        self.requests: list[str] = []

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        from urllib.parse import parse_qs, urlsplit

        from allegro_sync.adapters.shop import signing

        h = {k.lower(): v for k, v in headers.items()}
        stamp = int(h[signing.TIMESTAMP_HEADER.lower()])
        if not signing.matches(
            [self.secret], h[signing.SIGNATURE_HEADER.lower()], stamp, h[signing.DELIVERY_HEADER.lower()], b""
        ):
            return 401, {"error": "bad signature"}
        self.requests.append(target)
        query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        start, limit = int(query.get("since", "0")), int(query["limit"])
        chunk = self.log[start : start + limit]
        return 200, {
            "events": chunk,
            "cursor": str(start + len(chunk)),
            "has_more": start + len(chunk) < len(self.log),
        }


def test_the_generic_changes_endpoint_is_paged_by_its_cursor_and_re_reads_are_duplicates() -> None:
    shop = GenericShopChanges("s" * 32)
    for i in range(150):
        shop.log.append(
            {"type": "stock.set", "sku": f"G-{i}", "stock": i, "occurred_at": "2026-11-27T12:00:00Z"}
        )
    feed = GenericChanges("http://shop.test/changes", "s" * 32, httpx.Client(transport=mock_transport(shop)))
    cursors, queue, markers = Cursors(), Queue(), Markers()
    first = ShopReconciler(feed, WebhookIntake(markers, queue), cursors).run()
    assert (first.queued, first.shop_calls, cursors.value["generic"]) == (150, 2, "150")
    shop.log.append(
        {"type": "price.set", "sku": "G-1", "price": "9.99", "occurred_at": "2026-11-27T12:05:00Z"}
    )
    second = ShopReconciler(feed, WebhookIntake(markers, queue), cursors).run()
    assert second.queued == 1
    assert queue.sent[-1].event.sku == "G-1"
    cursors.value["generic"] = "100"  # a cursor restored from before: the re-read changes are duplicates
    third = ShopReconciler(feed, WebhookIntake(markers, queue), cursors).run()
    assert third.queued == 0
    assert third.duplicates == 51


def test_a_generic_change_without_occurred_at_is_skipped_with_a_note() -> None:
    shop = GenericShopChanges("s" * 32)
    shop.log.append({"type": "stock.set", "sku": "G-1", "stock": 1})
    feed = GenericChanges("http://shop.test/changes", "s" * 32, httpx.Client(transport=mock_transport(shop)))
    report = ShopReconciler(feed, WebhookIntake(Markers(), Queue()), Cursors()).run()
    assert report.queued == 0
    assert "must say when it happened" in report.notes[0]
