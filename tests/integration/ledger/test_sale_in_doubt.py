"""A shop level reported within the clock-skew margin of the shop's acknowledgement of an Allegro sale.

The ledger cannot tell whether that level already counts the sale, so it keeps the sale subtracted (never
oversell). The shop then stays quiet. Found by the soak's outsider counters (docs/soak.md): the offer showed
the level less the sale until the shop happened to report again. Now the ledger asks for a re-read of the
shop (`stock-rechecks` -> stock_rechecker -> the webhook intake) once a read can settle it.

The real functions run on the local runtime against the emulator and the demo shop (the generic contract,
with its one-SKU stock read). The shop reports its level the moment it applies our order, as WooCommerce's
`product.updated` does, and its clock moves 10 s per thing it does, so nothing depends on this machine's pace.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from allegro_sync.local.demo_shop import DemoShop, DemoShopServer
from tests.fixtures import recording_consumer
from tests.fixtures.shop_webhooks import post_signed
from tests.fixtures.stack import MakeStack
from tests.integration.orders.conftest import OrdersWorld

pytestmark = pytest.mark.integration

SKU = "DOUBT-01"
SHOP_SECRET = "doubt-shop-signing-secret-0123"
WEBHOOK_SECRET = "doubt-webhook-signing-secret-0123"


@dataclass
class ShopClock:
    """The shop's clock: 10 s pass between two things the shop does (applying an order, reading stock)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=10)
        return self.now


@dataclass
class ReportingShop(DemoShop):
    """Reports its level with a stock webhook as soon as it applies an order, stamped `report_after`
    from the moment it applied it (WooCommerce fires `product.updated` when an order reduces stock)."""

    api: str = ""
    report_after: timedelta = timedelta(seconds=1)
    reported: list[tuple[int, datetime]] = field(default_factory=list)

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        status, answer = super().answer(headers, body)
        if status == 200 and "applied_at" in answer and SKU in self.stock and not self.reported:
            level = self.stock[SKU] + (2 if self.report_after < timedelta(0) else 0)  # read before it?
            at = datetime.fromisoformat(answer["applied_at"]) + self.report_after
            self.reported.append((level, at))
            sent = post_signed(
                f"{self.api}/webhooks/shop",
                {"type": "stock.set", "sku": SKU, "stock": level, "occurred_at": at.isoformat()},
                secret=WEBHOOK_SECRET,
                delivery=f"stock-{level}-{at.timestamp()}",
            )
            assert sent.status_code == 202, sent.text
        return status, answer


def sell_two_of_ten(world: OrdersWorld, shop: ReportingShop) -> Iterator[str]:
    """10 in the shop and on one offer; a buyer takes 2 on Allegro and pays; everything runs until quiet."""
    with DemoShopServer(shop) as server:
        runtime = world.runtime
        runtime.put_secret(
            "shop-credentials",
            {
                "kind": "generic",
                "url": server.url,
                "signing_secret": SHOP_SECRET,
                "stock_url": f"{server.url}/stock",
            },
        )
        runtime.put_secret("webhook-signing", {"secret": WEBHOOK_SECRET})
        shop.api = runtime.start_gateway()
        world.connect("shop1", "seller-one")
        offer = world.offer("shop1", SKU, stock=10)
        ledger = world.ledger()
        ledger.apply_shop_level(SKU, 10, datetime.now(UTC) - timedelta(minutes=1))  # before the sale
        ledger.link_offer(SKU, offer, "shop1")
        world.poll()  # the poller's cursor starts at the newest event: the purchase comes after it
        form = world.emulator.marketplace.buy(offer, 2)
        world.emulator.marketplace.pay(form)
        world.poll()
        runtime.drain(timeout=60)  # the whole flow, with room for a loaded machine
        yield offer


@pytest.fixture
def world(make_stack: MakeStack) -> OrdersWorld:
    return OrdersWorld(make_stack())


def test_a_level_reported_just_after_the_shop_applied_the_sale_ends_at_the_shops_level(
    world: OrdersWorld,
) -> None:
    # One second after applying the sale the shop reports 8: that level counts the sale, but it is inside
    # the 5 s margin, so the ledger cannot know. Then the shop changes nothing and reports nothing more.
    shop = ReportingShop(secret=SHOP_SECRET, stock={SKU: 10}, clock=ShopClock())
    for offer in sell_two_of_ten(world, shop):
        assert shop.reported == [(8, shop.reported[0][1])]
        assert world.stack.shown(offer) == ("ACTIVE", 8)  # not 6: the sale is not taken twice

    assert world.available(SKU) == 8
    assert shop.stock[SKU] == 8
    assert world.runtime.invoker.totals["stock_rechecker"].invocations >= 1
    assert world.runtime.invoker.totals["stock_rechecker"].errors == 0
    assert world.stack.queued("stock-rechecks") == (0, 0)


def test_a_level_read_before_the_shop_applied_the_sale_never_brings_it_back(make_stack: MakeStack) -> None:
    # The shop read 10 a second before it applied the sale, and its webhook comes with the acknowledgement:
    # inside the margin too. Until a read settles it, the sale stays subtracted: 8, never 10.
    held = OrdersWorld(make_stack(handler_modules=recording_consumer.replacing("stock-rechecks")))
    shop = ReportingShop(
        secret=SHOP_SECRET, stock={SKU: 10}, clock=ShopClock(), report_after=timedelta(seconds=-1)
    )
    for offer in sell_two_of_ten(held, shop):
        assert shop.reported == [(10, shop.reported[0][1])]
        assert held.stack.shown(offer) == ("ACTIVE", 8)
        assert {m["sku"] for m in recording_consumer.take("stock-rechecks")} == {SKU}

        # The re-read (as stock_rechecker runs it) finds 8 at a later shop time: 8, the sale counted once.
        verdict = held.stack.app("stock_rechecker").stock_recheck().recheck(SKU)
        held.runtime.drain(timeout=60)

        assert verdict == "queued"
        assert held.stack.shown(offer) == ("ACTIVE", 8)
        assert held.available(SKU) == 8
        assert recording_consumer.take("stock-rechecks") == []  # settled: nothing more to read
