"""The buyer's personal data stays off the shop outbox, yet the shop gets all of it (docs/privacy.md).

Emulator order -> the real order_worker -> shop-outbox (recorded, then delivered by the shop notifier's own
use case, or consumed by the real shop_notifier) -> a generic shop on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from allegro_sync.contracts.messages import OrderChanged
from tests.fixtures import recording_consumer
from tests.fixtures.stack import MakeStack
from tests.integration.orders.conftest import RECORDED_QUEUES, OrdersWorld
from tests.integration.shop_out.test_shop_notifier import SECRET, resend_outbox, sell
from tests.unit.shop_out.fake_shops import FakeGenericShop, ShopServer

pytestmark = pytest.mark.integration

DAY = 86_400


def personal(world: OrdersWorld, form_id: str) -> dict[str, Any]:
    """What Allegro's checkout form says about the buyer (the emulator generated it)."""
    form = world.emulator.marketplace.state.checkout_forms[form_id]
    return {"buyer": form.buyer, "delivery": form.delivery}


@contextmanager
def generic_shop(world: OrdersWorld, sku: str) -> Iterator[FakeGenericShop]:
    """A generic shop on 127.0.0.1 with 10 of `sku`, the notifier's credentials pointing at it."""
    shop = FakeGenericShop(secret=SECRET, stock={sku: 10})
    with ShopServer(shop) as server:
        secret = {"kind": "generic", "url": server.url, "signing_secret": SECRET}
        world.runtime.put_secret("shop-credentials", secret)
        yield shop


def test_the_outbox_carries_no_buyer_data_and_the_shop_still_gets_the_full_address(
    make_stack: MakeStack,
) -> None:
    world = OrdersWorld(make_stack(handler_modules=recording_consumer.replacing(*RECORDED_QUEUES)))
    form_id = sell(world, "SKU-P", 1)
    queued = [body for body in world.outbox() if body.get("kind") == "order.changed"]
    truth = personal(world, form_id)
    address = truth["delivery"]["address"]
    values = [truth["buyer"][k] for k in ("email", "login", "lastName", "phoneNumber")]
    values += [address["lastName"], address["street"], address["zipCode"]]

    assert queued, "the order worker queued nothing for the shop"
    for body in queued:
        text = json.dumps(body, ensure_ascii=False)
        assert [n for n, value in enumerate(values) if value in text] == []
        assert body["buyer_data_stored"] is True

    with generic_shop(world, "SKU-P") as shop:
        delivery = world.stack.app("shop_notifier").shop_delivery()
        for body in queued:
            delivery.deliver(OrderChanged.model_validate(body))

    got = shop.received[-1]
    assert (got["checkout_form_id"], got["status"]) == (form_id, "READY_FOR_PROCESSING")
    assert (got["buyer"], got["delivery"]) == (truth["buyer"], truth["delivery"])
    assert shop.stock["SKU-P"] == 9
    # Paid is closed: the buyer's data goes 30 days (the default) from now, the order record stays.
    kept = world.stack.app("shop_notifier").stored_buyers().read(form_id)
    assert kept is not None
    assert 29 * DAY < kept.expires_at - time.time() <= 30 * DAY


def test_an_order_queued_before_the_upgrade_still_reaches_the_shop_with_its_buyer(
    shop_world: OrdersWorld,
) -> None:
    with generic_shop(shop_world, "SKU-O") as shop:
        form_id = sell(shop_world, "SKU-O", 1)
        [new] = shop.received
        # The old shape: the buyer's data in the body, no `buyer_data_stored` (nothing kept for this form).
        old = {**new, "checkout_form_id": "old-form-1", "message_id": "order:old-form-1:v1", "lines": []}
        resend_outbox(shop_world, old)

    truth = personal(shop_world, form_id)
    assert (new["buyer"], new["delivery"]) == (truth["buyer"], truth["delivery"])  # the real notifier
    got = shop.received[-1]
    assert got["checkout_form_id"] == "old-form-1"
    assert (got["buyer"], got["delivery"]) == (truth["buyer"], truth["delivery"])
