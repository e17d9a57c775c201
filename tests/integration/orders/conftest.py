"""The order flow on the local runtime: moto, the real handlers, the Allegro emulator, connected accounts.

`OrdersWorld` buys on the emulator, fires the poller / gap scan, drains the `orders` queue through the real
order_worker and reads what came out, through the functions' own applications: order records, the ledger,
the shop outbox and the stock-changes queue (whose consumers are replaced by a recorder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from allegro_sync.adapters.dynamodb.orders import DynamoOrderRepository
from allegro_sync.domain.orders import OrderRecord
from allegro_sync.emulator import Emulator
from allegro_sync.local import LocalRuntime
from allegro_sync.services.stock import StockLedger
from tests.fixtures import recording_consumer
from tests.fixtures.stack import MakeStack, Stack

RECORDED_QUEUES = ("stock-changes", "shop-outbox")


@dataclass
class OrdersWorld:
    stack: Stack

    @property
    def runtime(self) -> LocalRuntime:
        return self.stack.runtime

    @property
    def emulator(self) -> Emulator:
        return self.stack.emulator

    def connect(self, account: str, login: str) -> None:
        self.stack.connect({account: login})

    def offer(self, account: str, sku: str | None, stock: int = 10) -> str:
        return self.stack.list_offer(account, sku, stock)

    def shop_level(self, sku: str, quantity: int, *offers: tuple[str, str]) -> None:
        ledger = self.ledger()
        ledger.apply_shop_level(sku, quantity, datetime.now(UTC))
        for offer_id, account in offers:
            ledger.link_offer(sku, offer_id, account)

    def ledger(self) -> StockLedger:
        return self.stack.app("order_worker").stock_ledger()

    def available(self, sku: str) -> int | None:
        return self.ledger().view(sku).available

    def orders(self) -> DynamoOrderRepository:
        return self.stack.app("order_worker").order_repository()

    def order(self, form_id: str) -> OrderRecord | None:
        return self.orders().get(form_id)

    def cursor(self, account: str) -> str | None:
        state = self.stack.app("order_poller").order_cursors().read(account)
        return None if state is None else state.event_id

    def poll(self) -> dict[str, Any]:
        result: dict[str, Any] = self.runtime.fire("order_poller")
        return result

    def scan(self) -> dict[str, Any]:
        result: dict[str, Any] = self.runtime.fire("order_gap_scan")
        return result

    def sync(self) -> dict[str, Any]:
        """One poller run, then the worker until the orders queue is empty."""
        report = self.poll()
        self.runtime.drain()
        return report

    def _take(self, queue: str) -> list[dict[str, Any]]:
        """What reached `queue`: recorded by the stand-in consumer during drains, plus what still waits."""
        sqs = self.runtime.client("sqs")
        url = self.runtime.wiring.queues[queue].url
        bodies = recording_consumer.take(queue)
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300)
            messages = got.get("Messages", [])
            if not messages:
                return bodies
            for m in messages:
                bodies.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def outbox(self) -> list[dict[str, Any]]:
        return self._take("shop-outbox")

    def stock_changes(self) -> list[dict[str, Any]]:
        return self._take("stock-changes")


@pytest.fixture
def world(make_stack: MakeStack) -> OrdersWorld:
    """The order flow with recorders where stock propagation and shop delivery would consume."""
    return OrdersWorld(make_stack(handler_modules=recording_consumer.replacing(*RECORDED_QUEUES)))
