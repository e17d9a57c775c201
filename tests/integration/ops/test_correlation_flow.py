"""One id through the logs, end to end on the local runtime (moto, the real handlers, the Allegro emulator).

A signed stock webhook: its delivery id is on the webhook's line, the catalog worker's, and the stock
propagator's Allegro calls on both accounts. An Allegro order: the id the order poller queued it under is on
the order worker's lines, the propagator's call on the OTHER account's offer, and the shop delivery. The JSON
lines are read through the Powertools formatter every handler logs with, as CloudWatch would receive them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures.shop_webhooks import post_signed
from tests.fixtures.stack import Stack
from tests.unit.ops.test_correlation import LogLines, logger
from tests.unit.shop_out.fake_shops import FakeGenericShop, ShopServer

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "correlation-webhook-secret"
SHOP_SECRET = "correlation-shop-secret-0123456789"
SKU = "SONY-CORR"
ACCOUNTS = {"shop1": "seller-one", "shop2": "seller-two"}
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def logs() -> Iterator[LogLines]:
    capture = LogLines()
    target = logging.getLogger(logger.service)
    target.addHandler(capture)
    yield capture
    target.removeHandler(capture)


@pytest.fixture
def world(stack: Stack) -> Stack:
    """Two connected accounts, the real consumers of every queue, a signing secret for shop webhooks."""
    stack.connect(ACCOUNTS)
    stack.runtime.put_secret("webhook-signing", {"secret": WEBHOOK_SECRET})
    return stack


def offer(world: Stack, account: str, sku: str, stock: int) -> str:
    """An ACTIVE offer of `sku` on `account`, linked in the ledger (as the catalogue publishes it)."""
    offer_id = world.list_offer(account, sku, stock)
    world.app().stock_ledger().link_offer(sku, offer_id, account)
    return offer_id


def shop_level(world: Stack, sku: str, quantity: int) -> None:
    """The shop reports a level and a producer queues the change outside any event (no correlation
    id attribute); every offer follows."""
    view = world.app().stock_ledger().apply_shop_level(sku, quantity, T0 + timedelta(minutes=1)).view
    world.app("catalog_worker").stock_changes().stock_changed(view, "shop")
    world.runtime.drain(timeout=30)


def lines(logs: LogLines, message: str, function: str, since: int = 0) -> list[dict[str, Any]]:
    """`message` lines logged by `function` (its deployed name ends with the topology's name)."""
    return [
        x
        for x in logs.lines[since:]
        if x["message"] == message and x.get("function_name", "").endswith("-" + function)
    ]


def allegro_calls(
    logs: LogLines, function: str, method: str, offer_id: str, since: int = 0
) -> list[dict[str, Any]]:
    return [
        x
        for x in lines(logs, "Allegro call", function, since)
        if x["allegro_method"] == method and x["allegro_path"].endswith("/" + offer_id)
    ]


def post_webhook(world: Stack, path: str, payload: dict[str, Any], delivery: str) -> httpx.Response:
    """What the shop does: one signed delivery over HTTP to the local API gateway."""
    url = world.runtime.start_gateway() + path
    return post_signed(url, payload, secret=WEBHOOK_SECRET, delivery=delivery)


def sell(world: Stack, offer_id: str, shop: FakeGenericShop) -> str:
    """A paid order of 3 on `offer_id`; the poller queues its events, everything drains (shop included)."""
    with ShopServer(shop) as server:
        world.runtime.put_secret(
            "shop-credentials", {"kind": "generic", "url": server.url, "signing_secret": SHOP_SECRET}
        )
        form_id = world.emulator.marketplace.buy(offer_id, 3)
        world.emulator.marketplace.pay(form_id)
        world.runtime.fire("order_poller")
        world.runtime.drain(timeout=30)
    return form_id


def test_a_stock_webhook_delivery_id_reaches_the_propagators_allegro_calls(
    world: Stack, logs: LogLines
) -> None:
    one = offer(world, "shop1", SKU, stock=10)
    two = offer(world, "shop2", SKU, stock=10)
    delivery = f"corr-{uuid.uuid4().hex[:12]}"

    answer = post_webhook(world, "/webhooks/shop", {"type": "stock.set", "sku": SKU, "stock": 4}, delivery)
    world.runtime.drain(timeout=30)

    assert answer.status_code == 202, answer.text
    assert world.shown(one) == ("ACTIVE", 4)
    assert world.shown(two) == ("ACTIVE", 4)
    [accepted] = lines(logs, "webhook accepted", "shop_webhook")
    assert accepted["correlation_id"] == delivery
    [applied] = lines(logs, "shop event applied", "catalog_worker")
    assert applied["correlation_id"] == delivery
    patches = allegro_calls(logs, "stock_propagator", "PATCH", one) + allegro_calls(
        logs, "stock_propagator", "PATCH", two
    )
    assert sorted(p["account"] for p in patches) == ["shop1", "shop2"]
    assert {p["correlation_id"] for p in patches} == {delivery}
    assert all(p["level"] == "INFO" for p in patches)
    [summary] = lines(logs, "stock propagated", "stock_propagator")
    assert (summary["correlation_id"], summary["correlation_ids"]) == (delivery, [delivery])


def test_an_order_event_id_reaches_the_other_accounts_offer_and_the_shop(
    world: Stack, logs: LogLines
) -> None:
    sold_on = offer(world, "shop1", SKU, stock=10)
    other = offer(world, "shop2", SKU, stock=10)
    # The shop acknowledges the sale after its last stock report, as a real shop would.
    shop = FakeGenericShop(secret=SHOP_SECRET, stock={SKU: 10}, clock=T0 + timedelta(hours=1))
    shop_level(world, SKU, 10)  # a message without the attribute: its own id, not the order's
    world.runtime.fire("order_poller")  # the first run starts each account's cursor at the latest event
    before = len(logs.lines)

    form_id = sell(world, sold_on, shop)

    assert world.shown(other) == ("ACTIVE", 7)
    assert [m["checkout_form_id"] for m in shop.received] == [form_id]
    # The propagator's call on the account the buyer did NOT use: which order event moved it?
    [patch] = allegro_calls(logs, "stock_propagator", "PATCH", other, since=before)
    cid = patch["correlation_id"]
    queued = {x["correlation_id"]: x for x in lines(logs, "order notice queued", "order_poller")}
    assert cid in queued, f"{cid} is not an id the order poller queued: {sorted(queued)}"
    assert (queued[cid]["checkout_form_id"], queued[cid]["account"]) == (form_id, "shop1")
    assert cid not in {x.get("correlation_id") for x in logs.lines[:before]}
    [imported] = [x for x in lines(logs, "order imported", "order_worker") if x["correlation_id"] == cid]
    assert imported["checkout_form_id"] == form_id
    [delivered] = lines(logs, "delivered to the shop", "shop_notifier")
    assert delivered["correlation_id"] == cid
    # The order worker's own read of the form is an Allegro call in the same chain.
    assert any(
        x["allegro_path"].endswith("/" + form_id) and x["correlation_id"] == cid
        for x in lines(logs, "Allegro call", "order_worker")
    )


def test_a_shop_order_update_keeps_its_delivery_id_to_the_fulfillment_calls(
    world: Stack, logs: LogLines
) -> None:
    sold_on = offer(world, "shop1", SKU, stock=10)
    shop_level(world, SKU, 10)
    world.runtime.fire("order_poller")
    form_id = sell(world, sold_on, FakeGenericShop(secret=SHOP_SECRET, clock=T0 + timedelta(hours=1)))
    delivery = f"upd-{uuid.uuid4().hex[:12]}"
    update = {
        "type": "order.status",
        "checkout_form_id": form_id,
        "status": "SENT",
        "parcels": [{"carrier": "InPost", "waybill": "620111222333444555666777"}],
    }

    answer = post_webhook(world, "/webhooks/shop/orders", update, delivery)
    world.runtime.drain(timeout=30)

    assert answer.status_code == 202, answer.text
    assert world.emulator.marketplace.state.checkout_forms[form_id].fulfillment_status == "SENT"
    [applied] = lines(logs, "fulfillment applied", "fulfillment_worker")
    assert applied["correlation_id"] == delivery
    calls = lines(logs, "Allegro call", "fulfillment_worker")
    # The parcel is a POST; Allegro then marks the order SENT itself (issue 14), so no status PUT is needed.
    assert any(x["allegro_method"] == "POST" for x in calls)
    assert {x["correlation_id"] for x in calls} == {delivery}
