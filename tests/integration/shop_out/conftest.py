"""The order flow with the REAL shop_notifier: emulator order -> order_worker -> shop-outbox -> a fake shop.

The fake shops (tests/unit/shop_out/fake_shops.py) listen on 127.0.0.1 and are reached by the Lambda
code's own httpx client; `shop-credentials` points the notifier at them.
"""

from __future__ import annotations

import pytest

from tests.fixtures import recording_consumer
from tests.fixtures.stack import MakeStack
from tests.integration.orders.conftest import OrdersWorld


@pytest.fixture
def shop_world(make_stack: MakeStack) -> OrdersWorld:
    # Stock propagation is another area: record its queue instead of pushing to the emulator.
    return OrdersWorld(make_stack(handler_modules=recording_consumer.replacing("stock-changes")))
