"""Two notifier workers delivering two states of one new order at once (the outbox is a standard queue with
several consumers): the shop must end with ONE order for the purchase, its stock taken once, whatever
request boundary the other worker's whole delivery lands on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from allegro_sync.adapters.dynamodb.shop_deliveries import TURN_SECONDS, DynamoShopDeliveries
from allegro_sync.adapters.shop.woocommerce_rest import CLAIM_LEASE, IndexedOrder
from allegro_sync.contracts.messages import OrderChanged
from allegro_sync.contracts.shop import ShopAck, ShopOrderSink, ShopUnavailable
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
    line,
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
def test_one_new_order_delivered_by_two_workers_at_once_makes_one_shop_order(
    shop: Callable[[MemoryIndex], tuple[ShopOrderSink, Callable[[], int]]],
) -> None:
    """A standard queue may hand one message to two workers at once (both hold the same delivery turn):
    worker B's whole delivery lands between worker A's look for the shop's order and A's claim to create
    it. A must not create a second order (two orders, the stock taken twice): it is retried, and finds B's."""
    index = _RivalBeforeTheNextClaim()
    sink, orders = shop(index)

    index.rival = lambda: sink.deliver(order())
    with pytest.raises(ShopUnavailable, match="another delivery"):
        sink.deliver(order())
    sink.deliver(order())  # A's retry

    assert orders() == 1


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


class _RivalBeforeTheNextShopCall:
    """The shop, with `rival` (another worker's delivery) run right before the next order reaches it."""

    def __init__(self, shop: ShopOrderSink) -> None:
        self.shop = shop
        self.rival: Callable[[], object] | None = None

    def deliver(self, message: OrderChanged) -> ShopAck:
        rival, self.rival = self.rival, None
        if rival is not None:
            rival()
        return self.shop.deliver(message)


def test_a_cancellation_delivered_beside_the_payment_leaves_the_shop_order_cancelled(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    """After a shop outage both states wait in the outbox: worker A sends the paid state (v2), worker B the
    cancellation (v3) between A's check that v2 is the newest and A's call to the shop. The shop must end
    with the cancelled order and its stock given back, not the paid order A sent last."""
    fake = FakeWooCommerce("ck_test", "cs_test")
    fake.add_product("SKU-1", 10)
    shop = _RivalBeforeTheNextShopCall(woo(fake, MemoryIndex()))
    delivery = ShopDelivery(shop, ledger_with_sale(memory_ledger), MemoryLog(), MemoryBuyers())
    delivery.deliver(order("BOUGHT", 1))
    cancellation = order("CANCELLED", 3, line(effect="RETURNED"))
    queued: list[OrderChanged] = []

    def worker_b() -> None:
        try:
            delivery.deliver(cancellation)
        except ShopUnavailable:
            queued.append(cancellation)  # SQS delivers it again

    shop.rival = worker_b
    delivery.deliver(order("READY_FOR_PROCESSING", 2))
    for message in queued:
        delivery.deliver(message)

    [only] = fake.orders.values()
    assert (only["status"], fake.stock("SKU-1")) == ("cancelled", 10)


def test_the_stored_delivery_turn_lets_one_state_of_an_order_through_at_a_time(aws: None) -> None:
    """On DynamoDB: a second state waits while the first holds the turn; the turn ends with the record
    (or is given back); an older state than the shop's is superseded; a holder that died lapses."""
    now = [T0]
    log = DynamoShopDeliveries(create_table("orders"), clock=lambda: now[0])
    v1, v2 = order("BOUGHT", 1), order("READY_FOR_PROCESSING", 2)

    assert log.take_turn(FORM, 2, v2.message_id) == "go"
    assert log.take_turn(FORM, 1, v1.message_id) == "busy"
    assert log.take_turn(FORM, 2, v2.message_id) == "go"  # its own redelivery carries on
    log.record(v2, ShopAck(T0))
    assert log.take_turn(FORM, 1, v1.message_id) == "superseded"
    v3 = order("CANCELLED", 3)
    assert log.take_turn(FORM, 3, v3.message_id) == "go"
    log.end_turn(FORM, v3.message_id)  # the shop did not take it
    assert log.take_turn(FORM, 4, "order:x:v4") == "go"
    assert log.take_turn(FORM, 3, v3.message_id) == "busy"
    now[0] = T0 + timedelta(seconds=TURN_SECONDS + 1)  # v4's worker died
    assert log.take_turn(FORM, 3, v3.message_id) == "go"
