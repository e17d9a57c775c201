"""Catalogue + stock ledger + order flow + propagator on the local runtime and the Allegro emulator.

A product published on two accounts; a buyer buys on one; the other account's offer follows. A stale shop
webhook (sent before the shop counted the sale) cannot bring the sold units back; a real restock does.
The shop outbox's consumer is replaced by a recorder: the shop's acknowledgement of the sale is given to
the ledger by the test, at a chosen shop time, as the shop adapter would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from allegro_sync.adapters import token_store
from allegro_sync.adapters.allegro import factory
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog, catalog_table
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.dynamodb.mappings import DynamoMappings, mappings_table
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from allegro_sync.domain.shop_events import SHOP_EVENT_ADAPTER, ShopEvent, StockSet
from allegro_sync.emulator import Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.services.stock import StockLedger
from allegro_sync.topology import TOPOLOGY, table_env
from tests.fixtures import recording_consumer
from tests.fixtures.emulator import connect_sellers
from tests.fixtures.local import MakeLocalRuntime
from tests.integration.catalog.conftest import HEADPHONES, T0, approved, upsert
from tests.integration.propagation.conftest import ACCOUNTS, fresh_guard

pytestmark = pytest.mark.integration

SKU = "SONY-LEDGER"


@pytest.fixture
def runtime(make_local_runtime: MakeLocalRuntime, emulator: Emulator) -> Iterator[LocalRuntime]:
    token_store.reset()
    saved = factory._shared
    fresh_guard()
    recording_consumer.RECEIVED.clear()
    outbox = TOPOLOGY.queue_consumer("shop-outbox")
    assert outbox is not None
    built = make_local_runtime(
        allegro_urls=AllegroUrls.single(emulator.base_url),
        env={"ORDER_POLL_RUN_SECONDS": "0"},
        handler_modules={outbox.name: recording_consumer.__name__},
    )
    connect_sellers(emulator, built, ACCOUNTS)
    env = built.environment("catalog_worker")
    mappings = DynamoMappings(mappings_table(env[table_env("mappings")]))
    mappings.put_mapping(approved(HEADPHONES, "101"))
    mappings.put_pricing_rule(ScopedRule(rule=PricingRule(name="as in the shop")))
    yield built
    factory._shared = saved
    token_store.reset()


def send(runtime: LocalRuntime, event: ShopEvent) -> None:
    runtime.send(
        "shop-events",
        SHOP_EVENT_ADAPTER.dump_json(event).decode(),
        group_id=event.sku,
        deduplication_id=f"{event.sku}-{event.delivery_id}",
    )
    runtime.drain(timeout=30)


def test_a_sale_on_one_account_reaches_the_other_and_a_stale_webhook_cannot_undo_it(
    runtime: LocalRuntime, emulator: Emulator
) -> None:
    env = runtime.environment("catalog_worker")
    ledger = StockLedger(DynamoLedgerRepository(env[table_env("ledger")]))
    catalog = DynamoCatalog(catalog_table(env[table_env("catalog")]))

    def shown() -> dict[str, tuple[str, int]]:
        found = {a: emulator.marketplace.offer(offers[a]) for a in ACCOUNTS}
        return {a: (o["publication"]["status"], o["stock"]["available"]) for a, o in found.items()}

    send(runtime, upsert(SKU, stock=7))
    offers: dict[str, str] = {}
    for account in ACCOUNTS:
        link = catalog.link(SKU, account)
        assert link is not None
        assert link.offer_id is not None, link.reasons
        offers[account] = link.offer_id
    assert {(t.offer_id, t.account, t.quantity) for t in ledger.view(SKU).offers} == {
        (offers["shop1"], "shop1", 7),
        (offers["shop2"], "shop2", 7),
    }
    assert shown() == {"shop1": ("ACTIVE", 7), "shop2": ("ACTIVE", 7)}

    runtime.fire("order_poller")  # the first run starts each account's cursor at the newest event
    form = emulator.marketplace.buy(offers["shop1"], 2)
    emulator.marketplace.pay(form)
    runtime.fire("order_poller")
    runtime.drain(timeout=30)

    assert ledger.view(SKU).available == 5
    assert shown() == {"shop1": ("ACTIVE", 5), "shop2": ("ACTIVE", 5)}  # shop2 followed the sale on shop1

    # The shop counted the sale at T0+30 min; a webhook it sent at T0+10 min still says 7.
    [sale_id] = DynamoLedgerRepository(env[table_env("ledger")]).load(SKU).open_sales
    ledger.confirm_delivered(SKU, sale_id, T0 + timedelta(minutes=30))
    send(runtime, StockSet(delivery_id="stale", occurred_at=T0 + timedelta(minutes=10), sku=SKU, stock=7))

    assert ledger.view(SKU).available == 5
    assert shown() == {"shop1": ("ACTIVE", 5), "shop2": ("ACTIVE", 5)}

    send(runtime, StockSet(delivery_id="restock", occurred_at=T0 + timedelta(minutes=60), sku=SKU, stock=9))

    assert ledger.view(SKU).available == 9
    assert shown() == {"shop1": ("ACTIVE", 9), "shop2": ("ACTIVE", 9)}
