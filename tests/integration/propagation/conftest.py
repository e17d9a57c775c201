"""Stock propagation on a laptop: moto (local runtime), the real stock_propagator and reconciler handlers,
the Allegro emulator with two connected seller accounts.

`StockWorld` sets shop levels in the ledger, queues `stock-changes` messages as producers do (group = SKU,
de-duplication id = SKU:revision), drains the queue through the real handler and reads the offers back
from the emulator.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from allegro_sync.adapters import token_store
from allegro_sync.adapters.allegro import factory
from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog, changes_table
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.domain.ledger import StockView
from allegro_sync.emulator import Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.services.catalog import Change
from allegro_sync.services.stock import StockLedger
from allegro_sync.topology import table_env
from tests.fixtures.emulator import connect_sellers
from tests.fixtures.local import MakeLocalRuntime

SONY_EAN = "4548736132610"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ACCOUNTS = {"shop1": "seller-one", "shop2": "seller-two"}


class SellerTokens:
    """A token straight from the emulator, to set offers up as the seller would (not our custody)."""

    def __init__(self, emulator: Emulator, login: str) -> None:
        self._token = str(emulator.issue_tokens(login)["access_token"])

    def access_token(self) -> str:
        return self._token

    def token_rejected(self, rejected_token: str) -> str:
        return self._token


@dataclass
class StockWorld:
    runtime: LocalRuntime
    emulator: Emulator
    _minutes: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def env(self, function: str = "stock_propagator") -> dict[str, str]:
        return self.runtime.environment(function)

    def seller_client(self, account: str) -> AllegroClient:
        url = self.emulator.base_url
        tokens = SellerTokens(self.emulator, ACCOUNTS[account])
        return AllegroClient(AllegroEnvironment(url, url, url), tokens, account=account)

    def offer(self, account: str, sku: str, stock: int = 10, *, link: bool = True) -> str:
        """An ACTIVE offer of `sku` on `account` (as the catalogue publishes it), linked in the ledger."""
        body: dict[str, Any] = {
            "name": "Słuchawki Sony WH-1000XM5 czarne",
            "productSet": [{"product": {"id": SONY_EAN, "idType": "GTIN"}}],
            "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
            "sellingMode": {"format": "BUY_NOW", "price": {"amount": "1299.00", "currency": "PLN"}},
            "stock": {"available": stock, "unit": "UNIT"},
            "images": [],
            "external": {"id": sku},
            "publication": {"status": "ACTIVE"},
        }
        with self.seller_client(account) as client:
            offer_id = client.create_product_offer(body).id
        if link:
            self.ledger().link_offer(sku, offer_id, account)
        return offer_id

    def ledger(self) -> StockLedger:
        return StockLedger(DynamoLedgerRepository(self.env()[table_env("ledger")]))

    def level(self, sku: str, quantity: int | None) -> StockView:
        """The shop reports a new level (a minute after the previous one): the ledger's new view."""
        at = T0 + timedelta(minutes=next(self._minutes))
        return self.ledger().apply_shop_level(sku, quantity, at).view

    def signal(self, view: StockView) -> None:
        """What a producer puts on `stock-changes` after moving the ledger."""
        self.runtime.send(
            "stock-changes",
            {"kind": "stock.changed", "sku": view.sku, "revision": view.revision},
            group_id=view.sku,
            deduplication_id=f"stock:{view.sku}:{view.revision}",
        )

    def propagate(self, *views: StockView) -> None:
        for view in views:
            self.signal(view)
        self.runtime.drain(timeout=30)

    def shown(self, offer_id: str) -> tuple[str, int]:
        offer = self.emulator.marketplace.offer(offer_id)
        return offer["publication"]["status"], offer["stock"]["available"]

    def history(self, sku: str) -> list[Change]:
        return DynamoChangeLog(changes_table(self.env()[table_env("changes")])).history(sku)


def fresh_guard() -> None:
    """A process rate guard with an in-memory block record: tests never wait on real time."""
    factory._shared = (RateGuard(InMemoryBlockedUntilStore()), httpx.Client(timeout=10.0))


@pytest.fixture
def world(make_local_runtime: MakeLocalRuntime, emulator: Emulator) -> Iterator[StockWorld]:
    token_store.reset()
    saved = factory._shared
    fresh_guard()
    runtime = make_local_runtime(
        allegro_urls=AllegroUrls.single(emulator.base_url), env={"ORDER_POLL_RUN_SECONDS": "0"}
    )
    connect_sellers(emulator, runtime, ACCOUNTS)
    yield StockWorld(runtime, emulator)
    factory._shared = saved
    token_store.reset()
