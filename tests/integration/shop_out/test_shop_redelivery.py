"""A shop that was down gets its orders on the notifier's back-off (2 s at first), not after the event
source's retry delay (the queue's visibility timeout in AWS: 6 minutes).

The runtime's retry delay here is 300 s: an order the notifier left to it would not come back within
the test's drain. The order arrives after the first back-off step instead.
"""

from __future__ import annotations

import pytest

from allegro_sync.domain.ledger import SaleStatus
from tests.fixtures import recording_consumer
from tests.fixtures.stack import MakeStack
from tests.integration.orders.conftest import OrdersWorld
from tests.integration.shop_out.test_shop_notifier import SECRET, sale_record
from tests.unit.shop_out.fake_shops import FakeGenericShop, ShopServer

pytestmark = pytest.mark.integration

RETRY_DELAY_SECONDS = 300


@pytest.fixture
def world(make_stack: MakeStack) -> OrdersWorld:
    return OrdersWorld(
        make_stack(
            handler_modules=recording_consumer.replacing("stock-changes"),
            retry_delay_seconds=RETRY_DELAY_SECONDS,
            redelivery_scale=1,  # the notifier's own schedule, in real seconds
        )
    )


def test_a_shop_back_after_a_503_gets_the_order_on_the_back_off_not_the_retry_delay(
    world: OrdersWorld,
) -> None:
    shop = FakeGenericShop(secret=SECRET, stock={"SKU-B": 10}, down_for_attempts=1)
    with ShopServer(shop) as server:
        world.runtime.put_secret(
            "shop-credentials", {"kind": "generic", "url": server.url, "signing_secret": SECRET}
        )
        world.connect("shop1", "seller-one")
        offer = world.offer("shop1", "SKU-B")
        world.shop_level("SKU-B", 10, (offer, "shop1"))
        world.sync()
        form_id = world.emulator.marketplace.buy(offer, 1)
        world.emulator.marketplace.pay(form_id)
        world.poll()
        world.runtime.drain(timeout=60)  # 1-2 s of back-off; the retry delay would need 300 s

    assert shop.attempts == 2  # one 503, then delivered
    assert [m["checkout_form_id"] for m in shop.received] == [form_id]
    assert world.runtime.poller.stats.retried["shop-outbox"] == 1
    assert sale_record(world, "SKU-B", form_id).status is SaleStatus.DELIVERED_TO_SHOP
