"""No order lost or doubled while Allegro misbehaves: duplicated, delayed and skipped events, 5xx, a 429
block, events that never come (the gap scan), overlapping poller runs."""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.orders.conftest import OrdersWorld

pytestmark = pytest.mark.integration


def started(world: OrdersWorld, sku: str, level: int = 50) -> str:
    world.connect("shop1", "seller-one")
    offer = world.offer("shop1", sku, stock=40)
    world.shop_level(sku, level, (offer, "shop1"))
    world.sync()
    return offer


def assert_each_once(world: OrdersWorld, forms: dict[str, int], sku: str, level: int = 50) -> None:
    """Every form recorded, its lines taken once, the ledger down by exactly the quantities bought."""
    for form_id in forms:
        record = world.order(form_id)
        assert record is not None, f"order {form_id} lost"
        assert len(record.taken) == 1
    assert world.available(sku) == level - sum(forms.values())
    changes = world.stock_changes()
    assert len(changes) == len(forms)  # one stock change per sale, never two
    assert sorted(c["available"] for c in changes) == sorted({c["available"] for c in changes})


def dlq_depth(world: OrdersWorld) -> int:
    """Messages the worker gave up on (the orders queue's dead-letter queue)."""
    sqs = world.runtime.client("sqs")
    url = world.stack.app("order_poller").settings.queue("orders")
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    dlq_name = json.loads(policy["RedrivePolicy"])["deadLetterTargetArn"].rsplit(":", 1)[-1]
    dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_duplicated_events_import_each_order_once(world: OrdersWorld) -> None:
    offer = started(world, "SKU-DUP")
    world.emulator.set_faults(order_event_duplicate_rate=1.0)
    forms = {}
    for quantity in (1, 2, 3):
        form_id = world.emulator.marketplace.buy(offer, quantity)
        world.emulator.marketplace.pay(form_id)
        forms[form_id] = quantity

    report = world.sync()
    world.sync()

    assert report["enqueued"] == 9  # 3 orders x (BOUGHT, FILLED_IN, READY_FOR_PROCESSING), each once
    assert_each_once(world, forms, "SKU-DUP")


def test_delayed_duplicated_and_skipped_events_together_import_once(world: OrdersWorld) -> None:
    offer = started(world, "SKU-LATE")
    world.emulator.set_faults(
        order_event_delay_seconds=600,
        order_event_duplicate_rate=1.0,
        order_event_skip_rate=1.0,  # READY_FOR_PROCESSING missing at first ...
        order_event_reemit_after_seconds=3600,  # ... re-emitted an hour later under a new id
    )
    form_id = world.emulator.marketplace.buy(offer, 2)
    world.emulator.marketplace.pay(form_id)

    world.sync()
    assert world.order(form_id) is None  # nothing visible yet
    world.emulator.advance(601)
    world.sync()
    record = world.order(form_id)
    assert record is not None
    assert record.status == "READY_FOR_PROCESSING"  # the worker reads the form, not the event
    assert world.available("SKU-LATE") == 48

    world.emulator.advance(3600)  # the skipped event arrives
    world.sync()
    world.emulator.marketplace.surcharge(form_id, "5.00")  # READY_FOR_PROCESSING again (#2087)
    world.emulator.advance(601)
    world.sync()

    assert_each_once(world, {form_id: 2}, "SKU-LATE")


def test_server_errors_lose_and_double_nothing(world: OrdersWorld) -> None:
    offer = started(world, "SKU-5XX")
    forms = {}
    for quantity in (1, 2, 1):
        form_id = world.emulator.marketplace.buy(offer, quantity)
        world.emulator.marketplace.pay(form_id)
        forms[form_id] = quantity
    world.emulator.set_faults(error_rate=0.2)

    for _ in range(3):  # a failed poll leaves its cursor: the next run (a minute later) picks up
        world.sync()
    world.emulator.set_faults(error_rate=0.0)
    world.sync()

    assert_each_once(world, forms, "SKU-5XX")
    assert dlq_depth(world) == 0


def test_a_429_block_stops_polling_and_loses_nothing(world: OrdersWorld) -> None:
    offer = started(world, "SKU-429")
    form_id = world.emulator.marketplace.buy(offer, 2)
    world.emulator.marketplace.pay(form_id)
    before = world.cursor("shop1")
    world.emulator.set_faults(requests_per_minute=1)

    report = world.sync()

    assert report["blocked_until"] is not None
    assert world.cursor("shop1") == before
    assert world.order(form_id) is None
    blocked_calls = report["accounts"]["shop1"]["polls"]
    again = world.sync()  # still blocked: the guard refuses without calling Allegro
    assert again["blocked_until"] is not None
    assert blocked_calls == 1

    # The block passes.
    world.emulator.set_faults(requests_per_minute=9000)
    world.emulator.reset_rate_limit()
    world.stack.guard_clock.skip(report["blocked_until"] - world.stack.guard_clock() + 1)
    world.sync()

    assert_each_once(world, {form_id: 2}, "SKU-429")


def test_the_gap_scan_imports_an_order_whose_events_never_came(world: OrdersWorld) -> None:
    offer = started(world, "SKU-GAP")
    world.emulator.set_faults(order_event_delay_seconds=12 * 3600)  # one seller measured a 12 h lag
    form_id = world.emulator.marketplace.buy(offer, 3)
    world.emulator.marketplace.pay(form_id)
    world.sync()
    assert world.order(form_id) is None

    report = world.scan()
    world.runtime.drain()

    assert report["shop1"]["enqueued"] == 1
    record = world.order(form_id)
    assert record is not None
    assert record.status == "READY_FOR_PROCESSING"
    assert world.scan()["shop1"]["enqueued"] == 0  # already current: nothing re-enqueued

    world.emulator.advance(12 * 3600 + 1)  # the events finally arrive ...
    world.sync()
    assert_each_once(world, {form_id: 3}, "SKU-GAP")  # ... and change nothing


def test_the_cursor_only_moves_forward_and_a_held_lease_blocks_a_second_run(world: OrdersWorld) -> None:
    offer = started(world, "SKU-CUR")
    positions = [world.cursor("shop1")]
    for _ in range(3):
        world.emulator.marketplace.buy(offer, 1)
        world.sync()
        positions.append(world.cursor("shop1"))
    numbers = [int(p or 0) for p in positions]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)

    cursors = world.stack.app("order_poller").order_cursors()
    assert cursors.claim("shop1", "a-run-still-polling", time.time(), 120) is not None
    world.emulator.marketplace.buy(offer, 1)
    report = world.sync()
    assert report["accounts"]["shop1"]["skipped"]
    assert report["enqueued"] == 0
    assert world.cursor("shop1") == positions[-1]
