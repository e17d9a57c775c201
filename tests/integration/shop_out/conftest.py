"""The order flow with the REAL shop_notifier: emulator order -> order_worker -> shop-outbox -> a fake shop.

The fake shops (tests/unit/shop_out/fake_shops.py) listen on 127.0.0.1 and are reached by the Lambda
code's own httpx client; `shop-credentials` points the notifier at them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allegro_sync.adapters import shop_wiring, token_store
from allegro_sync.adapters.allegro import factory
from allegro_sync.adapters.token_store import AccountsSettings, Custody
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local import AllegroUrls
from tests.fixtures.local import MakeLocalRuntime
from tests.integration.orders import recording_consumer
from tests.integration.orders.conftest import OrdersWorld, fresh_guard


@pytest.fixture
def shop_world(make_local_runtime: MakeLocalRuntime, emulator: Emulator) -> Iterator[OrdersWorld]:
    token_store.reset()
    shop_wiring.forget_credentials()
    saved = factory._shared
    fresh_guard()
    recording_consumer.RECEIVED.clear()
    runtime = make_local_runtime(
        allegro_urls=AllegroUrls.single(emulator.base_url),
        env={"ORDER_POLL_RUN_SECONDS": "0"},
        # Stock propagation is another area: record its queue instead of pushing to the emulator.
        handler_modules={"stock_propagator": recording_consumer.__name__},
    )
    Custody.build(AccountsSettings.from_env(runtime.environment("order_poller"))).app_credentials.write(
        DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
    )
    yield OrdersWorld(runtime, emulator)
    factory._shared = saved
    token_store.reset()
    shop_wiring.forget_credentials()
