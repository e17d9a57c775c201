"""A shop stock change writes the stock ledger, not the catalogue's product item (issue 21, goal 5), and
still reaches every offer: a level change, a sell-out, a restock; a level older than the product's last
upsert is still ignored; `products status` shows the ledger's level (docs/stock-ledger.md)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from allegro_sync.adapters.dynamodb.shop_cursor import CatalogAppliedState, LedgerLevels
from allegro_sync.contracts.catalog import order_key
from allegro_sync.contracts.messages import StockSet
from tests.fixtures.products import T0
from tests.fixtures.stack import MakeStack
from tests.integration.catalog.conftest import AS_IN_THE_SHOP, upsert
from tests.integration.propagation.conftest import ACCOUNTS, StockWorld, stock_world

pytestmark = pytest.mark.integration

SKU = "SONY-ONE-RECORD"


@pytest.fixture
def world(make_stack: MakeStack) -> StockWorld:
    built = stock_world(make_stack)
    built.map_categories(AS_IN_THE_SHOP)
    return built


def _product_item(world: StockWorld) -> dict[str, Any]:
    table = world.app("catalog_worker").table("catalog")
    item: dict[str, Any] = table.get_item(Key={"pk": f"product#{SKU}", "sk": "product"})["Item"]
    return item


def _stock_set(minutes: int, stock: int) -> StockSet:
    at = T0 + timedelta(minutes=minutes)
    return StockSet(delivery_id=f"s{minutes}", occurred_at=at, sku=SKU, stock=stock)


def test_a_stock_change_writes_no_product_item_and_still_reaches_every_offer(world: StockWorld) -> None:
    world.publish(upsert(SKU, minutes=1, stock=7))
    offers = {a: world.catalog.link(SKU, a) for a in ACCOUNTS}
    before = _product_item(world)

    def shown() -> dict[str, tuple[str, int]]:
        return {a: world.shown(link.offer_id) for a, link in offers.items() if link and link.offer_id}

    world.publish(_stock_set(5, 3))
    assert shown() == {"shop1": ("ACTIVE", 3), "shop2": ("ACTIVE", 3)}
    world.publish(_stock_set(6, 0))  # sell-out: the offers end
    assert {status for status, _ in shown().values()} == {"ENDED"}
    world.publish(_stock_set(7, 4))  # restock: the same offers sell again
    assert shown() == {"shop1": ("ACTIVE", 4), "shop2": ("ACTIVE", 4)}
    world.publish(_stock_set(0, 9))  # older than the product's upsert: ignored, as before
    assert shown() == {"shop1": ("ACTIVE", 4), "shop2": ("ACTIVE", 4)}

    assert _product_item(world) == before  # not one write: same bytes, same order key
    assert world.ledger().shop_level(SKU) == 4
    status = world.cli("products", "status", SKU, "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["stock"] == 4
    # What the intake sees (one ledger read): a repeat of the last stock.set is recognised as applied
    # without a delivery marker (the ledger's key and level, newer than the product item's).
    intake = LedgerLevels(world.app("shop_webhook").ledger_repository())
    assert intake.applied_level(SKU) == (order_key(T0 + timedelta(minutes=7), None), 4)
    # ... and the reconciliation's dry run: the same level, while a product change is compared with the
    # product's own key, as the worker compares it (a product change dated between the upsert and the
    # last level is applied, and the dry run says so).
    reconciler = world.app("shop_reconciler")
    applied = CatalogAppliedState(reconciler.catalog(), reconciler.ledger_repository())
    assert applied.applied_level(SKU) == (order_key(T0 + timedelta(minutes=7), None), 4)
    assert applied.applied_key(SKU) == before["order_key"]
