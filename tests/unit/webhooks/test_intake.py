"""The intake use case with in-memory ports: claim, queue, mark — and what a crash in between does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from allegro_sync.contracts.catalog import order_key
from allegro_sync.contracts.messages import ProductDelete, StockSet
from allegro_sync.contracts.webhooks import DeleteByProductId, Delivery, Outcome, QueuedEvent, Source
from allegro_sync.services.webhooks import WebhookIntake, deduplication_id, group_id

WHEN = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Markers:
    def __init__(self) -> None:
        self.status: dict[tuple[str, str], str] = {}

    def claim(self, source: Source, key: str) -> bool:
        if self.status.get((source, key)) == "queued":
            return False
        self.status[(source, key)] = "pending"
        return True

    def mark_queued(self, source: Source, key: str, events: int) -> None:
        self.status[(source, key)] = "queued"


class Queue:
    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[QueuedEvent] = []
        self.fail_times = fail_times

    def publish(self, events: Sequence[QueuedEvent]) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("SQS is down")
        self.sent.extend(events)


class Index:
    def __init__(self) -> None:
        self.skus_of: dict[tuple[str, str], set[str]] = {}

    def remember(self, source: Source, product: str, skus: Sequence[str]) -> None:
        self.skus_of.setdefault((source, product), set()).update(skus)

    def skus(self, source: Source, product: str) -> list[str]:
        return sorted(self.skus_of.get((source, product), ()))


def stock(sku: str, level: int, delivery: str = "d") -> StockSet:
    return StockSet(delivery_id=delivery, occurred_at=WHEN, sku=sku, stock=level)


def delivery(*events: StockSet, key: str = "d", product: str | None = None) -> Delivery:
    return Delivery("generic", key, tuple(events), shop_product=product)


def test_a_delivery_is_queued_then_marked() -> None:
    markers, queue = Markers(), Queue()

    result = WebhookIntake(markers, queue).accept(delivery(stock("A", 1), stock("B", 2)))

    assert (result.outcome, result.events, result.skus) == (Outcome.QUEUED, 2, ("A", "B"))
    assert [q.group_id for q in queue.sent] == ["A", "B"]
    assert markers.status == {("generic", "d"): "queued"}


def test_a_second_delivery_with_the_same_key_is_a_duplicate() -> None:
    intake = WebhookIntake(Markers(), queue := Queue())
    intake.accept(delivery(stock("A", 1)))

    again = intake.accept(delivery(stock("A", 1)))

    assert again.outcome is Outcome.DUPLICATE
    assert len(queue.sent) == 1


def test_a_crash_while_queueing_leaves_the_delivery_retryable() -> None:
    markers, queue = Markers(), Queue(fail_times=1)
    intake = WebhookIntake(markers, queue)

    with pytest.raises(RuntimeError):
        intake.accept(delivery(stock("A", 1)))
    assert markers.status == {("generic", "d"): "pending"}

    retried = intake.accept(delivery(stock("A", 1)))

    assert retried.outcome is Outcome.QUEUED
    assert len(queue.sent) == 1


def test_the_retry_reuses_the_deduplication_ids_so_sqs_drops_a_double_send() -> None:
    first, second = Queue(), Queue()
    WebhookIntake(Markers(), first).accept(delivery(stock("A", 1), stock("A", 2)))
    WebhookIntake(Markers(), second).accept(delivery(stock("A", 1), stock("A", 2)))

    ids = [q.deduplication_id for q in first.sent]
    assert ids == [q.deduplication_id for q in second.sent]
    assert len(set(ids)) == 2  # two events of one delivery never collide


def test_an_empty_delivery_is_ignored_and_never_claimed() -> None:
    markers = Markers()

    result = WebhookIntake(markers, Queue()).accept(Delivery("woocommerce", "k", (), ignored="no SKU"))

    assert (result.outcome, result.reason) == (Outcome.IGNORED, "no SKU")
    assert markers.status == {}


def test_a_delete_by_product_id_ends_every_sku_the_index_knows() -> None:
    index = Index()
    intake = WebhookIntake(Markers(), Queue(), index)
    intake.accept(delivery(stock("K-S", 1), key="1", product="shop#850"))
    intake.accept(delivery(stock("K-M", 1), key="2", product="shop#850"))

    resolved = intake.deletion(DeleteByProductId("generic", "3", "del-1", "shop#850", WHEN))

    assert all(isinstance(e, ProductDelete) for e in resolved.events)
    assert [e.sku for e in resolved.events] == ["K-M", "K-S"]


def test_a_delete_of_an_unknown_product_is_ignored() -> None:
    resolved = WebhookIntake(Markers(), Queue(), Index()).deletion(
        DeleteByProductId("woocommerce", "3", "del-1", "shop#1", WHEN)
    )

    assert resolved.events == ()
    assert resolved.ignored is not None


@pytest.mark.parametrize("sku", ["ABC-1", "a.b/c_d#1", "x" * 100])
def test_skus_sqs_accepts_are_their_own_group(sku: str) -> None:
    assert group_id(sku) == sku


@pytest.mark.parametrize("sku", ["ŻÓŁW-1", "kot😺", "tab\tsku"])
def test_other_skus_get_a_stable_ascii_group(sku: str) -> None:
    assert group_id(sku) == group_id(sku)
    assert group_id(sku).isascii()
    assert len(group_id(sku)) <= 128


def test_dedup_ids_are_sqs_shaped_and_depend_on_every_part() -> None:
    base = deduplication_id("generic", "d", 0, "A")
    others = {
        deduplication_id("woocommerce", "d", 0, "A"),
        deduplication_id("generic", "e", 0, "A"),
        deduplication_id("generic", "d", 1, "A"),
        deduplication_id("generic", "d", 0, "B"),
    }
    assert base not in others
    assert len(others) == 4
    assert len(base) <= 128
    assert base.isalnum()


class Catalogue:
    """What the catalogue worker accepted per SKU: (order key, stock), as it applies queued events."""

    def __init__(self) -> None:
        self.levels: dict[str, tuple[str, int | None]] = {}

    def apply(self, queued: Sequence[QueuedEvent]) -> None:
        for q in queued:
            assert isinstance(q.event, StockSet)
            self.levels[q.event.sku] = (order_key(q.event.occurred_at, q.event.version), q.event.stock)

    def applied_level(self, sku: str) -> tuple[str, int | None] | None:
        return self.levels.get(sku)


def dated(*events: StockSet, key: str = "d") -> Delivery:
    """Stock levels each dated by the shop itself (`occurred_at` sent): no delivery marker is needed."""
    return Delivery("generic", key, tuple(events), self_ordered=True)


def test_shop_dated_stock_levels_need_no_marker_and_a_repeat_after_they_applied_is_a_duplicate() -> None:
    markers, queue, catalogue = Markers(), Queue(), Catalogue()
    intake = WebhookIntake(markers, queue, applied=catalogue)

    first = intake.accept(dated(stock("A", 4)))
    catalogue.apply(queue.sent)
    again = intake.accept(dated(stock("A", 4)))

    assert (first.outcome, again.outcome) == (Outcome.QUEUED, Outcome.DUPLICATE)
    assert len(queue.sent) == 1
    assert markers.status == {}


def test_a_repeat_before_its_levels_applied_is_queued_again_with_the_same_deduplication_ids() -> None:
    queue = Queue()
    intake = WebhookIntake(Markers(), queue, applied=Catalogue())

    intake.accept(dated(stock("A", 4)))
    intake.accept(dated(stock("A", 4)))

    assert [q.deduplication_id for q in queue.sent[:1]] == [q.deduplication_id for q in queue.sent[1:]]


def test_another_level_reported_for_the_same_time_is_queued_so_the_ledger_keeps_the_lower() -> None:
    queue, catalogue = Queue(), Catalogue()
    intake = WebhookIntake(Markers(), queue, applied=catalogue)
    intake.accept(dated(stock("A", 4), key="d1"))
    catalogue.apply(queue.sent)

    other = intake.accept(dated(stock("A", 3), key="d2"))
    an_hour_before = StockSet(delivery_id="d3", occurred_at=WHEN.replace(hour=11), sku="A", stock=9)
    older = intake.accept(dated(an_hour_before))

    assert (other.outcome, older.outcome) == (Outcome.QUEUED, Outcome.DUPLICATE)  # older: superseded
    assert [q.event.stock for q in queue.sent if isinstance(q.event, StockSet)] == [4, 3]


def test_levels_without_the_shops_own_time_keep_their_delivery_marker() -> None:
    markers, queue, catalogue = Markers(), Queue(), Catalogue()
    intake = WebhookIntake(markers, queue, applied=catalogue)

    intake.accept(delivery(stock("A", 4)))
    catalogue.apply(queue.sent)
    again = intake.accept(delivery(stock("A", 4)))

    assert again.outcome is Outcome.DUPLICATE
    assert markers.status == {("generic", "d"): "queued"}
