"""Catalogue + stock ledger + order flow + propagator on the local runtime and the Allegro emulator.

A product published on two accounts; a buyer buys on one; the other account's offer follows. A stale shop
webhook (sent before the shop counted the sale) cannot bring the sold units back; a real restock does.
The shop outbox's consumer is replaced by a recorder: the shop's acknowledgement of the sale is given to
the ledger by the test, at a chosen shop time, as the shop adapter would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.contracts.messages import StockSet
from tests.fixtures.products import T0
from tests.fixtures.recording_consumer import replacing
from tests.fixtures.stack import MakeStack
from tests.integration.catalog.conftest import AS_IN_THE_SHOP, upsert
from tests.integration.propagation.conftest import ACCOUNTS, StockWorld, stock_world

pytestmark = pytest.mark.integration

SKU = "SONY-LEDGER"


@pytest.fixture
def world(make_stack: MakeStack) -> StockWorld:
    built = stock_world(make_stack, handler_modules=replacing("shop-outbox"))
    built.map_categories(AS_IN_THE_SHOP)
    return built


def test_a_sale_on_one_account_reaches_the_other_and_a_stale_webhook_cannot_undo_it(
    world: StockWorld,
) -> None:
    ledger = world.ledger()
    emulator = world.emulator

    def shown() -> dict[str, tuple[str, int]]:
        return {a: world.shown(offers[a]) for a in ACCOUNTS}

    world.publish(upsert(SKU, stock=7))
    offers: dict[str, str] = {}
    for account in ACCOUNTS:
        link = world.catalog.link(SKU, account)
        assert link is not None
        assert link.offer_id is not None, link.reasons
        offers[account] = link.offer_id
    assert {(t.offer_id, t.account, t.quantity) for t in ledger.view(SKU).offers} == {
        (offers["shop1"], "shop1", 7),
        (offers["shop2"], "shop2", 7),
    }
    assert shown() == {"shop1": ("ACTIVE", 7), "shop2": ("ACTIVE", 7)}

    world.runtime.fire("order_poller")  # the first run starts each account's cursor at the newest event
    form = emulator.marketplace.buy(offers["shop1"], 2)
    emulator.marketplace.pay(form)
    world.runtime.fire("order_poller")
    world.runtime.drain(timeout=30)

    assert ledger.view(SKU).available == 5
    assert shown() == {"shop1": ("ACTIVE", 5), "shop2": ("ACTIVE", 5)}  # shop2 followed the sale on shop1

    # The shop counted the sale at T0+30 min; a webhook it sent at T0+10 min still says 7.
    app = world.app("order_worker")
    [sale_id] = (
        DynamoLedgerRepository(app.settings.table("ledger"), app.aws_client("dynamodb")).load(SKU).open_sales
    )
    ledger.confirm_delivered(SKU, sale_id, T0 + timedelta(minutes=30))
    world.publish(StockSet(delivery_id="stale", occurred_at=T0 + timedelta(minutes=10), sku=SKU, stock=7))

    assert ledger.view(SKU).available == 5
    assert shown() == {"shop1": ("ACTIVE", 5), "shop2": ("ACTIVE", 5)}

    world.publish(StockSet(delivery_id="restock", occurred_at=T0 + timedelta(minutes=60), sku=SKU, stock=9))

    assert ledger.view(SKU).available == 9
    assert shown() == {"shop1": ("ACTIVE", 9), "shop2": ("ACTIVE", 9)}
