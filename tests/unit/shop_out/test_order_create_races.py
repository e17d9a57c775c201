"""Two notifier workers delivering two states of one new order at once (the outbox is a standard queue with
several consumers): the shop must end with ONE order for the purchase, its stock taken once, whatever
request boundary the other worker's whole delivery lands on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from allegro_sync.adapters.dynamodb.shop_deliveries import DynamoShopDeliveries
from allegro_sync.adapters.shop.woocommerce_rest import CLAIM_LEASE, IndexedOrder
from allegro_sync.contracts.shop import ShopOrderSink, ShopUnavailable
from allegro_sync.services.shop_delivery import ShopDelivery
from tests.fixtures.aws import create_table
from tests.fixtures.ledger import InMemoryLedgerRepository
from tests.fixtures.shopify_shop import FakeShopify
from tests.unit.orders.fakes import MemoryBuyers
from tests.unit.shop_out.fake_shops import FakeWooCommerce
from tests.unit.shop_out.test_shop_delivery import (
    FORM,
    T0,
    MemoryIndex,
    MemoryLog,
    ledger_with_sale,
    order,
    woo,
)
from tests.unit.shop_out.test_shopify_out import shopify, stocked


class _RivalBeforeTheNextClaim(MemoryIndex):
    """Runs `rival` (another worker's whole delivery) after this delivery looked for the shop's order
    (index, then the shop itself) and found none, right before it claims the create."""

    rival: Callable[[], object] | None = None

    def claim(self, checkout_form_id: str, at: datetime) -> bool:
        rival, self.rival = self.rival, None
        if rival is not None:
            rival()
        return super().claim(checkout_form_id, at)


def _woocommerce(index: MemoryIndex) -> tuple[ShopOrderSink, Callable[[], int]]:
    fake = FakeWooCommerce("ck_test", "cs_test")
    fake.add_product("SKU-1", 10)
    return woo(fake, index), lambda: len(fake.orders)


def _shopify(index: MemoryIndex) -> tuple[ShopOrderSink, Callable[[], int]]:
    fake: FakeShopify = stocked()
    return shopify(fake, index), lambda: len(fake.orders)


@pytest.mark.parametrize("shop", [_woocommerce, _shopify], ids=["woocommerce", "shopify"])
def test_two_states_of_a_new_order_delivered_at_once_make_one_shop_order(
    shop: Callable[[MemoryIndex], tuple[ShopOrderSink, Callable[[], int]]],
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    """Worker A delivers the bought state (v1); worker B delivers the paid state (v2) between A's look for
    the shop's order and A's claim to create it. A must not create a second order: it retries, and its v1
    is then older than what the shop has."""
    index = _RivalBeforeTheNextClaim()
    sink, orders = shop(index)
    delivery = ShopDelivery(sink, ledger_with_sale(memory_ledger), MemoryLog(), MemoryBuyers())

    index.rival = lambda: delivery.deliver(order("READY_FOR_PROCESSING", 2))
    with pytest.raises(ShopUnavailable, match="another delivery"):
        delivery.deliver(order("BOUGHT", 1))
    retried = delivery.deliver(order("BOUGHT", 1))

    assert orders() == 1
    assert retried.superseded


def test_the_stored_claim_is_exclusive_until_its_holder_is_surely_gone(aws: None) -> None:
    """On DynamoDB: one delivery at a time may create the shop's order; a claim whose holder died without
    an order is taken over once its lease is over, and a claim with an order never again."""
    index = DynamoShopDeliveries(create_table("orders"))
    assert index.claim(FORM, T0)
    assert not index.claim(FORM, T0 + CLAIM_LEASE / 2)  # its holder may still be creating the order
    assert index.claim(FORM, T0 + CLAIM_LEASE)  # it died (a Lambda lives 60 s): nobody else creates it
    assert not index.claim(FORM, T0 + CLAIM_LEASE * 1.5)  # the new holder's own lease
    index.set(FORM, 7)
    assert not index.claim(FORM, T0 + CLAIM_LEASE * 9)  # the order exists: never created again
    assert index.get(FORM) == IndexedOrder(T0 + CLAIM_LEASE, 7)
