"""Stock propagation on a laptop: the shared `stack` world (moto through the local runtime, the real
stock_propagator and reconciler handlers, the Allegro emulator) with two connected seller accounts.

`StockWorld` sets shop levels in the ledger, queues `stock-changes` messages as producers do (group = SKU,
de-duplication id = SKU:revision), drains the queue through the real handler and reads the offers back
from the emulator. The ledger and the change log it reads are the stock_propagator's own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from allegro_sync.contracts.catalog import Change
from allegro_sync.domain.ledger import StockView
from allegro_sync.services.stock import StockLedger
from tests.fixtures.products import T0
from tests.fixtures.stack import MakeStack
from tests.integration.catalog.conftest import CatalogStack

ACCOUNTS = {"shop1": "seller-one", "shop2": "seller-two"}


@dataclass
class StockWorld(CatalogStack):
    """The stack seen from the stock ledger: levels, the signals producers send, what Allegro shows."""

    _minutes: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def seller_offer(self, account: str, sku: str, stock: int = 10, *, link: bool = True) -> str:
        """An ACTIVE offer of `sku` on `account` (as the catalogue publishes it), linked in the ledger."""
        offer_id = self.list_offer(account, sku, stock)
        if link:
            self.ledger().link_offer(sku, offer_id, account)
        return offer_id

    def ledger(self) -> StockLedger:
        return self.app("stock_propagator").stock_ledger()

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

    def history(self, sku: str) -> list[Change]:
        return self.app("stock_propagator").change_log().history(sku)


def stock_world(make_stack: MakeStack, **options: Any) -> StockWorld:
    """A StockWorld on a fresh stack (LocalRuntime `options` of the caller's) with ACCOUNTS connected."""
    world = make_stack(**options).seen_as(StockWorld)
    world.connect(ACCOUNTS)
    return world


@pytest.fixture
def world(make_stack: MakeStack) -> StockWorld:
    return stock_world(make_stack)
