"""Stock changes through the local runtime's `stock-changes` queue and the real stock_propagator to the
Allegro emulator (spec-checked)."""

from __future__ import annotations

import pytest

from tests.integration.catalog.conftest import AS_IN_THE_SHOP, upsert
from tests.integration.propagation.conftest import StockWorld

pytestmark = pytest.mark.integration


def test_a_stock_change_reaches_the_offers_on_both_accounts(world: StockWorld) -> None:
    one = world.seller_offer("shop1", "SONY-XM5", stock=10)
    two = world.seller_offer("shop2", "SONY-XM5", stock=10)

    world.propagate(world.level("SONY-XM5", 4))

    assert world.shown(one) == ("ACTIVE", 4)
    assert world.shown(two) == ("ACTIVE", 4)
    changes = world.history("SONY-XM5")
    assert sorted((c.account, c.action) for c in changes) == [("shop1", "stock"), ("shop2", "stock")]
    assert all("ledger revision" in c.reason for c in changes)


def test_a_burst_for_one_sku_is_one_push_of_the_newest_value(world: StockWorld) -> None:
    offer = world.seller_offer("shop1", "SONY-XM5", stock=10)
    world.propagate(world.level("SONY-XM5", 10))  # the first push reads the offer back once
    burst = [world.level("SONY-XM5", q) for q in (9, 8, 7, 5, 3)]

    world.propagate(*burst)

    assert world.shown(offer) == ("ACTIVE", 3)
    stock_changes = [c for c in world.history("SONY-XM5") if c.action == "stock"]
    assert [c.changes["stock"]["new"] for c in stock_changes] == [3, 10]  # newest first: one push of 3


def test_zero_ends_the_offer_and_a_restock_activates_it_after_the_stock_is_confirmed(
    world: StockWorld,
) -> None:
    # Allegro may run an activation before a stock change sent just before it (#10251).
    world.emulator.set_faults(activation_overtakes_rate=1.0)
    offer = world.seller_offer("shop1", "SONY-XM5", stock=5)
    world.propagate(world.level("SONY-XM5", 5))

    world.propagate(world.level("SONY-XM5", 0))
    ended = world.emulator.marketplace.offer(offer)
    assert ended["publication"]["status"] == "ENDED"
    assert ended["publication"]["endedBy"] == "EMPTY_STOCK"

    world.propagate(world.level("SONY-XM5", 6))

    assert world.shown(offer) == ("ACTIVE", 6)
    actions = [c.action for c in reversed(world.history("SONY-XM5"))]
    assert actions[-3:] == ["end", "stock", "activate"]


def test_an_unknown_shop_level_changes_nothing_on_allegro(world: StockWorld) -> None:
    offer = world.seller_offer("shop1", "SONY-XM5", stock=5)
    world.propagate(world.level("SONY-XM5", 5))

    world.propagate(world.level("SONY-XM5", None))

    assert world.shown(offer) == ("ACTIVE", 5)
    assert [c.action for c in world.history("SONY-XM5")] == ["stock"]


def test_a_sale_on_one_account_lowers_the_offer_on_the_other_within_one_drain(world: StockWorld) -> None:
    """The whole chain: Allegro order -> order_poller -> order_worker (ledger) -> stock-changes -> here."""
    sold_on = world.seller_offer("shop1", "SONY-XM5", stock=10)
    other = world.seller_offer("shop2", "SONY-XM5", stock=10)
    world.propagate(world.level("SONY-XM5", 10))
    world.runtime.fire("order_poller")  # a first run starts each account's cursor at the latest event

    world.emulator.marketplace.buy(sold_on, 3)
    world.runtime.fire("order_poller")
    world.runtime.drain(timeout=30)

    assert world.ledger().view("SONY-XM5").available == 7
    assert world.shown(other) == ("ACTIVE", 7)
    assert world.shown(sold_on) == ("ACTIVE", 7)
    [pushed] = [
        c for c in world.history("SONY-XM5") if c.offer_id == other and c.changes["stock"]["new"] == 7
    ]
    assert "after a sale (Allegro order " in pushed.reason


def test_stock_back_on_an_archived_offer_creates_a_new_one_through_the_catalogue(world: StockWorld) -> None:
    """Sold out, ended, 61 days pass (archived: 404, #10743), stock returns: the catalogue creates a new
    offer from the stored product and the ledger sells the SKU through it."""
    world.map_categories(AS_IN_THE_SHOP)
    world.publish(upsert("SONY-XM5", stock=5))
    catalog = world.catalog
    old: dict[str, str] = {}
    for account in ("shop1", "shop2"):
        link = catalog.link("SONY-XM5", account)
        assert link is not None
        assert link.offer_id is not None, link.reasons
        old[account] = link.offer_id
        world.ledger().link_offer("SONY-XM5", link.offer_id, account)
    world.propagate(world.level("SONY-XM5", 0))
    assert world.shown(old["shop1"])[0] == "ENDED"

    world.emulator.advance(61 * 24 * 3600)
    world.propagate(world.level("SONY-XM5", 3))

    new = {a: catalog.link("SONY-XM5", a).offer_id for a in ("shop1", "shop2")}  # type: ignore[union-attr]
    assert new["shop1"] not in (None, old["shop1"])
    linked = {t.offer_id for t in world.ledger().view("SONY-XM5").offers}
    assert linked == set(new.values())
    assert all(world.shown(offer_id) == ("ACTIVE", 3) for offer_id in new.values() if offer_id)
    assert "recreate" in [c.action for c in world.history("SONY-XM5")]
