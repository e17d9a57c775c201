"""A shop back from an outage gets its waiting orders promptly, and a down shop is not asked per order.

The shop outbox is played on a fake clock: up to 10 visible records per batch (oldest first, as SQS
hands them out at best effort), each delivered by the real use case behind the invocation's probe,
the failed ones rescheduled by the notifier's real back-off policy. Nothing here sleeps or times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from allegro_sync.adapters.redelivery import Redelivery, back_off
from allegro_sync.contracts.messages import OrderChanged
from allegro_sync.contracts.shop import ShopDown, ShopUnavailable
from allegro_sync.services.shop_delivery import ShopDelivery
from allegro_sync.services.shop_probe import ShopProbe
from allegro_sync.services.stock import StockLedger
from tests.fixtures.ledger import InMemoryLedgerRepository
from tests.unit.orders.fakes import MemoryBuyers
from tests.unit.shop_out.fake_shops import FakeGenericShop
from tests.unit.shop_out.test_shop_delivery import SECRET, MemoryLog, generic, order

START = 1_795_000_000.3  # epoch seconds, not on any tick of the probe clock


@dataclass
class Waiting:
    message: OrderChanged
    handle: str
    visible_at: float
    first_received: float | None = None


@dataclass
class Outbox:
    """The queue and the world on one fake clock: the shop is down from START until `shop_back_at`."""

    shop_back_at: float
    now: float = START
    shop: FakeGenericShop = field(default_factory=lambda: FakeGenericShop(secret=SECRET, down=True))
    waiting: list[Waiting] = field(default_factory=list)
    reached_shop: dict[str, float] = field(default_factory=dict)  # message id -> when the shop took it
    calls_while_down: int = 0
    batches_while_down: int = 0

    def send(self, n: int, at: float) -> None:
        message = order().model_copy(update={"message_id": f"order:{n}", "checkout_form_id": f"form-{n}"})
        self.waiting.append(Waiting(message, f"h{n}", at))

    def change_message_visibility_batch(self, **request: Any) -> dict[str, Any]:  # the SQS client
        seconds = {e["ReceiptHandle"]: e["VisibilityTimeout"] for e in request["Entries"]}
        for record in self.waiting:
            if record.handle in seconds:
                record.visible_at = self.now + seconds[record.handle]
        return {"Successful": [], "Failed": []}

    def run(self, memory_ledger: InMemoryLedgerRepository) -> None:
        """Invoke the notifier's use case on each batch until the outbox is empty."""
        log, probe = MemoryLog(), ShopProbe()
        delivery = ShopDelivery(generic(self.shop), StockLedger(memory_ledger), log, MemoryBuyers(), probe)
        redelivery = Redelivery(self, lambda: "url")
        while self.waiting:
            self.now = max(self.now, min(r.visible_at for r in self.waiting))
            self.shop.down = self.now < self.shop_back_at
            batch = [r for r in self.waiting if r.visible_at <= self.now][:10]
            probe.new_batch()
            attempts, failed = self.shop.attempts, []
            for record in batch:
                record.first_received = record.first_received or self.now
                try:
                    delivery.deliver(record.message)
                except ShopUnavailable:
                    failed.append(record)
                else:
                    self.reached_shop[record.message.message_id] = self.now
                    self.waiting.remove(record)
            if self.shop.down:
                self.calls_while_down += self.shop.attempts - attempts
                self.batches_while_down += 1
            for record in failed:  # invisible until the policy says (or the queue's timeout: 6 min)
                record.visible_at = self.now + 360
            event = {"Records": [self._record(r) for r in failed]}
            answer = {"batchItemFailures": [{"itemIdentifier": r.handle} for r in failed]}
            redelivery.apply(event, answer, back_off(lambda: self.now))
            self.now += 0.2  # what a batch takes

    @staticmethod
    def _record(waiting: Waiting) -> dict[str, Any]:
        first_ms = str(round((waiting.first_received or 0.0) * 1000))
        return {
            "messageId": waiting.handle,
            "receiptHandle": waiting.handle,
            "attributes": {"ApproximateFirstReceiveTimestamp": first_ms},
        }


@pytest.mark.parametrize("outage", [5.0, 12.0, 36.0, 300.0])
def test_every_order_that_waited_reaches_the_shop_within_a_quarter_of_the_outage_and_2_s_at_least(
    memory_ledger: InMemoryLedgerRepository, outage: float
) -> None:
    outbox = Outbox(shop_back_at=START + outage)
    for n in range(30):  # orders arrive all through the outage
        outbox.send(n, START + outage * n / 30)

    outbox.run(memory_ledger)

    assert sorted(m["checkout_form_id"] for m in outbox.shop.received) == sorted(
        f"form-{n}" for n in range(30)
    )
    last = max(outbox.reached_shop.values()) - outbox.shop_back_at
    assert last <= max(2.0, outage / 4) + 1  # a batch or so after the tick


def test_a_young_outage_lets_the_oldest_order_through_first_within_two_seconds(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    outbox = Outbox(shop_back_at=START + 14)
    for n in range(12):
        outbox.send(n, START + n)

    outbox.run(memory_ledger)

    assert outbox.reached_shop["order:0"] - outbox.shop_back_at <= 2.0
    assert outbox.shop.received[0]["checkout_form_id"] == "form-0"


def test_a_down_shop_is_asked_once_per_batch_not_once_per_order(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    outbox = Outbox(shop_back_at=START + 60)
    for n in range(40):
        outbox.send(n, START)

    outbox.run(memory_ledger)

    assert outbox.calls_while_down == outbox.batches_while_down
    # 40 orders waiting a minute: 4 batches per tick of the probe clock, not 40 calls per tick
    assert outbox.calls_while_down <= 4 * 20
    assert len(outbox.reached_shop) == 40


class MergedOrderNotThereYet:
    """A shop adapter's reason of one message (its merged order is not in the shop yet), then fine."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls == 1:
            raise ShopUnavailable("order form-1 is not in the shop yet; will retry")
        return "sent"


def test_only_the_shop_itself_failing_stops_the_rest_of_the_batch_until_the_next_one() -> None:
    probe, send = ShopProbe(), MergedOrderNotThereYet()
    probe.new_batch()
    with pytest.raises(ShopUnavailable):
        probe.call(send)
    assert probe.call(send) == "sent"  # one message's reason: the next one is still sent

    def down() -> str:
        raise ShopDown("the shop answered 503; will retry")

    with pytest.raises(ShopDown):
        probe.call(down)
    with pytest.raises(ShopDown, match="earlier in this batch"):
        probe.call(send)
    assert send.calls == 2  # not asked while the batch knows the shop is down

    probe.new_batch()
    assert probe.call(send) == "sent"
