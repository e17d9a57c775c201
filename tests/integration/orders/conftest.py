"""The order flow on the local runtime: moto, the real handlers, the Allegro emulator, connected accounts.

`OrdersWorld` buys on the emulator, fires the poller / gap scan, drains the `orders` queue through the real
order_worker and reads what came out: order records, the ledger, the shop outbox and the stock-changes queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx
import pytest

from allegro_sync.adapters import token_store
from allegro_sync.adapters.allegro import factory
from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.dynamodb.orders import DynamoOrderCursors, DynamoOrderRepository
from allegro_sync.adapters.token_store import AccountsSettings, Custody, connect_with_device_flow
from allegro_sync.domain.orders import OrderRecord
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.services.stock import StockLedger
from allegro_sync.topology import TOPOLOGY, queue_env, table_env
from tests.fixtures.local import MakeLocalRuntime
from tests.integration.orders import recording_consumer

RECORDED_QUEUES = ("stock-changes", "shop-outbox")

SONY_EAN = "4548736132610"


class EmulatorSellerTokens:
    """A token straight from the emulator, for setting up offers as the seller would (not our custody)."""

    def __init__(self, emulator: Emulator, login: str) -> None:
        self._token = str(emulator.issue_tokens(login)["access_token"])

    def access_token(self) -> str:
        return self._token

    def token_rejected(self, rejected_token: str) -> str:
        return self._token


def fresh_guard() -> None:
    """A process guard with no budget and an in-memory block record: tests never wait on real time."""
    factory._shared = (RateGuard(InMemoryBlockedUntilStore()), httpx.Client(timeout=10.0))


@dataclass
class OrdersWorld:
    runtime: LocalRuntime
    emulator: Emulator
    sellers: dict[str, str] = field(default_factory=dict)  # account -> emulator login

    def env(self, function: str = "order_worker") -> dict[str, str]:
        return self.runtime.environment(function)

    def connect(self, account: str, login: str) -> None:
        self.emulator.create_seller(login)
        settings = AccountsSettings.from_env(self.env("order_poller"))
        connect_with_device_flow(
            account,
            on_prompt=lambda prompt: self.emulator.approve_device(prompt.user_code, login),
            settings=settings,
            sleep=self.emulator.advance,
        )
        self.sellers[account] = login

    def offer(self, account: str, sku: str | None, stock: int = 10) -> str:
        url = self.emulator.base_url
        body: dict[str, Any] = {
            "name": "Słuchawki Sony WH-1000XM5 czarne",
            "productSet": [{"product": {"id": SONY_EAN, "idType": "GTIN"}}],
            "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
            "sellingMode": {"format": "BUY_NOW", "price": {"amount": "1299.00", "currency": "PLN"}},
            "stock": {"available": stock, "unit": "UNIT"},
            "images": [],
            "publication": {"status": "ACTIVE"},
        }
        if sku is not None:
            body["external"] = {"id": sku}
        tokens = EmulatorSellerTokens(self.emulator, self.sellers[account])
        with AllegroClient(AllegroEnvironment(url, url, url), tokens, account=account) as client:
            return client.create_product_offer(body).id

    def shop_level(self, sku: str, quantity: int, *offers: tuple[str, str]) -> None:
        ledger = self.ledger()
        ledger.apply_shop_level(sku, quantity, datetime.now(UTC))
        for offer_id, account in offers:
            ledger.link_offer(sku, offer_id, account)

    def ledger(self) -> StockLedger:
        return StockLedger(DynamoLedgerRepository(self.env()[table_env("ledger")]))

    def available(self, sku: str) -> int | None:
        return self.ledger().view(sku).available

    def orders(self) -> DynamoOrderRepository:
        return DynamoOrderRepository(self.env()[table_env("orders")])

    def order(self, form_id: str) -> OrderRecord | None:
        return self.orders().get(form_id)

    def cursor(self, account: str) -> str | None:
        state = DynamoOrderCursors(self.env()[table_env("control")]).read(account)
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
        url = self.env()[queue_env(queue)]
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
def world(make_local_runtime: MakeLocalRuntime, emulator: Emulator) -> Iterator[OrdersWorld]:
    token_store.reset()
    saved = factory._shared
    fresh_guard()
    recording_consumer.RECEIVED.clear()
    stand_ins = {
        consumer.name: recording_consumer.__name__
        for queue in RECORDED_QUEUES
        if (consumer := TOPOLOGY.queue_consumer(queue)) is not None
    }
    runtime = make_local_runtime(
        allegro_urls=AllegroUrls.single(emulator.base_url),
        env={"ORDER_POLL_RUN_SECONDS": "0"},
        handler_modules=stand_ins,
    )
    Custody.build(AccountsSettings.from_env(runtime.environment("order_poller"))).app_credentials.write(
        DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
    )
    assert boto3  # the runtime exported AWS_ENDPOINT_URL: plain boto3 clients reach its moto server
    yield OrdersWorld(runtime, emulator)
    factory._shared = saved
    token_store.reset()
