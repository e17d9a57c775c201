"""The order poller's tick chain (services/orders/ticks.py) on the local runtime: poll-tick messages carry
the polls, the schedule is only the watchdog, and there is always exactly one chain."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.poll_chain import CHAIN_KEY, DynamoPollChain
from allegro_sync.bootstrap import Application
from allegro_sync.contracts.messages import PollTick
from allegro_sync.local.events import sqs_event, sqs_record
from allegro_sync.settings import Settings
from bench.cost import IdleTick
from tests.fixtures.stack import MakeStack, unpaced_application
from tests.integration.orders.conftest import OrdersWorld

pytestmark = pytest.mark.integration

TICKS = "poll-tick"


def _chain(world: OrdersWorld) -> DynamoPollChain:
    app = world.stack.app("order_poller")
    return DynamoPollChain(app.settings.table("control"), app.aws_client("dynamodb"))


def _ticks_waiting(world: OrdersWorld) -> list[str]:
    """The chains of the ticks on the queue (taken off it: a test puts back what it needs)."""
    sqs, url = world.runtime.client("sqs"), world.runtime.wiring.queues[TICKS].url
    chains = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in got:
            chains.append(PollTick.model_validate_json(message["Body"]).chain)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return chains


def _ticks_on_queue(world: OrdersWorld) -> int:
    """Ticks on the queue, visible or still delayed."""
    sqs, url = world.runtime.client("sqs"), world.runtime.wiring.queues[TICKS].url
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(counts[name]) for name in names)


def _tick(world: OrdersWorld) -> dict[str, Any]:
    """One tick as its event source hands it over; the handler's answer (the local poller drops it)."""
    sqs, queue = world.runtime.client("sqs"), world.runtime.wiring.queues[TICKS]
    [message] = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=1, WaitTimeSeconds=2)["Messages"]
    sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    record = sqs_record(message, queue_arn=queue.arn, region=world.runtime.region)
    result: dict[str, Any] = world.runtime.invoke("order_poller", sqs_event([record]))
    return result


def _started(world: OrdersWorld) -> tuple[str, str]:
    world.connect("shop1", "seller-one")
    offer = world.offer("shop1", "SKU-TICK", stock=20)
    world.shop_level("SKU-TICK", 10, (offer, "shop1"))
    first = world.sync()  # the watchdog: starts the cursor at the newest event and seeds the chain
    assert first["chain"]["seeded"] is True
    return offer, first["chain"]["chain"]


def test_the_tick_chain_imports_an_order_without_the_schedule(world: OrdersWorld) -> None:
    offer, _ = _started(world)
    form = world.emulator.marketplace.buy(offer, 2)
    world.emulator.marketplace.pay(form)

    world.runtime.next_tick()  # the poll-tick event source, not the schedule

    record = world.order(form)
    assert record is not None
    assert len(record.taken) == 1
    assert world.available("SKU-TICK") == 8
    assert world.runtime.scheduler.fired("order_poller") == 1
    world.runtime.next_tick()  # the tick re-sent itself: the chain goes on, and imports nothing twice
    assert world.available("SKU-TICK") == 8
    # The second tick's successor, and the spare of the first (it found the order; issue 13), which stops
    # when it comes: its tick was served.
    assert _ticks_on_queue(world) == 2


def test_the_next_tick_passes_over_a_copy_whose_tick_was_served(world: OrdersWorld) -> None:
    """A busy tick's spare (issue 13) stops when its tick was served; `next_tick` runs the one that polls."""
    offer, chain = _started(world)  # the watchdog's tick 0 waits on the queue
    _deliver(world, PollTick(chain=chain, seq=0), "m-0")  # another copy serves tick 0 first
    form = world.emulator.marketplace.buy(offer, 1)
    world.emulator.marketplace.pay(form)

    world.runtime.next_tick()  # the queue's tick 0 comes first and stops; tick 1 polls

    assert world.order(form) is not None


def test_seeding_again_while_the_chain_lives_starts_no_second_chain(world: OrdersWorld) -> None:
    _, chain = _started(world)

    again = world.poll()

    assert again["chain"]["seeded"] is False
    assert _ticks_waiting(world) == [chain]
    stored = _chain(world).read()
    assert stored is not None
    assert stored.chain == chain


def test_a_dead_chain_is_reseeded_and_a_stale_tick_of_it_stops(world: OrdersWorld) -> None:
    _, dead = _started(world)
    assert _ticks_waiting(world) == [dead]  # its tick is lost: the chain is dead
    assert world.poll()["chain"]["seeded"] is False  # its heartbeat has not expired yet
    app = world.stack.app("order_poller")
    app.aws_client(
        "dynamodb"
    ).update_item(  # as if the lease (interval + 60 s) had passed since its last beat
        TableName=app.settings.table("control"),
        Key=items.dump(CHAIN_KEY),
        UpdateExpression="SET beat_until = :past",
        ExpressionAttributeValues=items.dump({":past": 1}),
    )

    reseeded = world.poll()

    live = reseeded["chain"]["chain"]
    assert reseeded["chain"]["seeded"] is True
    assert live != dead
    assert _ticks_waiting(world) == [live]
    world.runtime.send(TICKS, PollTick(chain=dead).model_dump_json())  # the old tick turns up after all
    stale = _tick(world)
    assert stale["chain"]["stopped"]
    assert stale["accounts"] == {}
    assert _ticks_waiting(world) == []  # it sent nothing: the live chain's tick was taken above
    world.runtime.send(TICKS, PollTick(chain=live).model_dump_json())
    assert _tick(world)["chain"]["stopped"] is None
    assert _ticks_waiting(world) == [live]


def test_a_tick_and_the_watchdog_polling_at_once_enqueue_each_event_once(world: OrdersWorld) -> None:
    offer, _ = _started(world)
    start = world.stack.app("order_poller").order_cursors().read("shop1")
    assert start is not None
    forms = [world.emulator.marketplace.buy(offer, 1) for _ in range(3)]
    for form in forms:
        world.emulator.marketplace.pay(form)
    events = world.stack.app("order_poller").allegro("shop1").order_events(start.event_id, limit=1000)
    answers: list[dict[str, Any]] = []
    both = [
        threading.Thread(target=lambda: answers.append(_tick(world))),
        threading.Thread(target=lambda: answers.append(world.poll())),
    ]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    world.runtime.drain()

    assert sum(a["enqueued"] for a in answers) == len({e.id for e in events if e.order.checkout_form})
    assert world.available("SKU-TICK") == 7
    for form in forms:
        record = world.order(form)
        assert record is not None
        assert len(record.taken) == 1


def test_an_idle_tick_makes_the_aws_calls_the_cost_model_prices(make_stack: MakeStack) -> None:
    """bench/cost.py `IdleTick` prices an idle tick by these calls: a tick that made more would cost more."""
    calls: Counter[str] = Counter()

    def counting(name: str, settings: Settings) -> Application:
        app = unpaced_application(name, settings)
        if name == "order_poller":

            def count(model: Any, **_: Any) -> None:
                calls[f"{model.service_model.service_name}.{model.name}"] += 1

            app.session().events.register("before-call", count)
        return app

    world = OrdersWorld(make_stack(make_application=counting))
    _started(world)
    world.runtime.next_tick()  # warm: tokens and the app credentials are read once per instance
    calls.clear()

    world.runtime.next_tick()

    idle, accounts = IdleTick(), 1
    writes = sum(n for op, n in calls.items() if op in ("dynamodb.UpdateItem", "dynamodb.PutItem"))
    reads = sum(n for op, n in calls.items() if op in ("dynamodb.GetItem", "dynamodb.Query"))
    assert writes == idle.writes_per_run + accounts * idle.writes_per_account
    # the accounts and the cursor; the Allegro block record is in memory in tests
    assert reads <= idle.reads_per_run + accounts * idle.reads_per_account
    assert calls["sqs.SendMessage"] == 1  # the next tick; the event source receives and deletes it
    assert set(calls) <= {"dynamodb.UpdateItem", "dynamodb.GetItem", "dynamodb.Query", "sqs.SendMessage"}


def _deliver(world: OrdersWorld, tick: PollTick, message_id: str) -> dict[str, Any]:
    """A delivery of `tick` as SQS message `message_id` (a duplicate delivery, or a retry, keeps its id)."""
    message = {
        "MessageId": message_id,
        "ReceiptHandle": f"handle-{message_id}",
        "Body": tick.model_dump_json(),
    }
    queue = world.runtime.wiring.queues[TICKS]
    record = sqs_record(message, queue_arn=queue.arn, region=world.runtime.region)
    result: dict[str, Any] = world.runtime.invoke("order_poller", sqs_event([record]))
    return result


def test_a_tick_delivered_twice_does_not_fork_the_chain(world: OrdersWorld) -> None:
    _, chain = _started(world)
    [seed] = _ticks_waiting(world)
    first = PollTick(chain=seed, seq=0)

    assert _deliver(world, first, "m-1")["chain"]["stopped"] is None
    assert _deliver(world, first, "m-2")["chain"]["stopped"]  # another copy of the same tick: ends here
    assert _ticks_waiting(world) == [chain]

    # A tick that failed after it sent its successor comes back with its own id: it may beat again, and
    # the two successors it leaves behind are one fork too many for exactly one more tick.
    second = PollTick(chain=chain, seq=1)
    assert _deliver(world, second, "m-3")["chain"]["stopped"] is None
    assert _deliver(world, second, "m-3")["chain"]["stopped"] is None
    assert _ticks_waiting(world) == [chain, chain]
    third = PollTick(chain=chain, seq=2)
    answers = [_deliver(world, third, "m-4"), _deliver(world, third, "m-5")]
    assert [a["chain"]["stopped"] is None for a in answers] == [True, False]
    assert _ticks_waiting(world) == [chain]
