"""A shop level reported within the clock-skew margin of the shop's acknowledgement of an Allegro sale.

The ledger cannot tell whether that level already counts the sale, so it keeps the sale subtracted (never
oversell). The shop then stays quiet. Found by the soak's outsider counters (docs/soak.md): the offer showed
the level less the sale until the shop happened to report again. Now the ledger asks for a re-read of the
shop (`stock-rechecks` -> stock_rechecker -> the webhook intake) once a read can settle it.

The real functions run on the local runtime against the emulator and the demo shop (the generic contract,
with its one-SKU stock read); the shop's clock is the test's, an hour back, so nothing depends on how fast
this machine runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class DoubtWorld:
    world: OrdersWorld
    shop: DemoShop
    clock: ShopClock
    offer: str
    api: str

    def shown(self) -> tuple[str, int]:
        return self.world.stack.shown(self.offer)

    def shop_reports(self, stock: int, at: datetime) -> None:
        """The shop's signed stock webhook with its own change time."""
        answer = post_signed(
            f"{self.api}/webhooks/shop",
            {"type": "stock.set", "sku": SKU, "stock": stock, "occurred_at": at.isoformat()},
            secret=WEBHOOK_SECRET,
            delivery=f"stock-{stock}-{at.timestamp()}",
        )
        assert answer.status_code == 202, answer.text


def sold_two_of_ten(world: OrdersWorld) -> Iterator[DoubtWorld]:
    """10 in the shop and on one offer; a buyer takes 2 on Allegro, the shop applies the sale (its clock
    says `acked`); the offer shows 8."""
    acked = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    clock = ShopClock(acked)
    shop = DemoShop(secret=SHOP_SECRET, stock={SKU: 10}, clock=clock)
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
        world.connect("shop1", "seller-one")
        offer = world.offer("shop1", SKU, stock=10)
        ledger = world.ledger()
        ledger.apply_shop_level(SKU, 10, acked - timedelta(minutes=1))  # long before the sale
        ledger.link_offer(SKU, offer, "shop1")
        world.sync()  # the poller's cursor starts at the newest event: the purchase comes after it
        form = world.emulator.marketplace.buy(offer, 2)
        world.emulator.marketplace.pay(form)
        world.sync()
        runtime.drain(timeout=60)
        doubt = DoubtWorld(world, shop, clock, offer, runtime.start_gateway())
        assert (shop.stock[SKU], doubt.shown()) == (8, ("ACTIVE", 8))
        yield doubt


@pytest.fixture
def doubt(make_stack: MakeStack) -> Iterator[DoubtWorld]:
    yield from sold_two_of_ten(OrdersWorld(make_stack()))


@pytest.fixture
def doubt_held(make_stack: MakeStack) -> Iterator[DoubtWorld]:
    """The same, with the re-reads recorded instead of run: what the offer shows while the doubt lasts."""
    yield from sold_two_of_ten(
        OrdersWorld(make_stack(handler_modules=recording_consumer.replacing("stock-rechecks")))
    )


def test_a_level_reported_just_after_the_shop_applied_the_sale_ends_at_the_shops_level(
    doubt: DoubtWorld,
) -> None:
    # One second after applying the sale the shop reports 8: that level counts the sale, but it is inside
    # the 5 s margin, so the ledger cannot know. Then the shop changes nothing and reports nothing more.
    acked = doubt.clock.now
    doubt.shop_reports(8, acked + timedelta(seconds=1))
    doubt.clock.now = acked + timedelta(seconds=30)  # the shop's clock runs on; no webhook follows

    doubt.world.runtime.drain(timeout=60)

    assert doubt.shown() == ("ACTIVE", 8)  # not 6: the sale is not taken twice
    assert doubt.world.available(SKU) == 8
    assert doubt.shop.stock[SKU] == 8
    assert doubt.world.runtime.invoker.totals["stock_rechecker"].invocations >= 1
    assert doubt.world.runtime.invoker.totals["stock_rechecker"].errors == 0
    assert doubt.world.stack.queued("stock-rechecks") == (0, 0)


def test_a_level_read_before_the_shop_applied_the_sale_never_brings_it_back(doubt_held: DoubtWorld) -> None:
    # The shop read 10 just before it applied the sale, and its webhook arrives after the acknowledgement:
    # inside the margin too. Until a read settles it, the sale stays subtracted: 8, never 10.
    acked = doubt_held.clock.now
    doubt_held.shop_reports(10, acked - timedelta(seconds=1))
    doubt_held.world.runtime.drain(timeout=60)

    assert doubt_held.shown() == ("ACTIVE", 8)
    assert recording_consumer.take("stock-rechecks") == [{"sku": SKU}]

    # The re-read (as stock_rechecker runs it) finds 8 at a later shop time: 8, the sale counted once.
    doubt_held.clock.now = acked + timedelta(seconds=30)
    verdict = doubt_held.world.stack.app("stock_rechecker").stock_recheck().recheck(SKU)
    doubt_held.world.runtime.drain(timeout=60)

    assert verdict == "queued"
    assert doubt_held.shown() == ("ACTIVE", 8)
    assert doubt_held.world.available(SKU) == 8
    assert recording_consumer.take("stock-rechecks") == []  # settled: nothing more to read
