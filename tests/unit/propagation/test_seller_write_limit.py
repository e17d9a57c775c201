"""While one seller's product-offer writes are held back by its own limit (a per-user 429, #12700), an offer
that must show less does not wait for the seller's write slots: an offer showing too much oversells.

The stock goes out as a quantity command, a sell-out as an END publication command (other resources), and
an offer our END command ended comes back when stock returns, as one our stock 0 ended does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from allegro_sync.contracts.allegro_errors import AllegroUserRateLimited
from tests.unit.propagation.fakes import World


@pytest.fixture
def world() -> World:
    return World()


@contextmanager
def writes_held_back(world: World) -> Iterator[None]:
    """The seller of `main` used its product-offer write slots: every PATCH raises before it is sent."""
    original = world.main.patch_product_offer

    def held(offer_id: str, body: Any, *, wait: bool = True) -> Any:
        raise AllegroUserRateLimited(0.0, account="main", resource="product-offers writes")

    world.main.patch_product_offer = held  # type: ignore[method-assign]
    try:
        yield
    finally:
        world.main.patch_product_offer = original  # type: ignore[method-assign]


@contextmanager
def reads_held_back(world: World, *, until: float) -> Iterator[None]:
    """The seller of `main` used its product-offer read slots too (the soak's window: 10 a minute)."""
    original = world.main.get_product_offer

    def held(offer_id: str) -> Any:
        raise AllegroUserRateLimited(until, account="main", resource="product-offers read")

    world.main.get_product_offer = held  # type: ignore[method-assign]
    try:
        yield
    finally:
        world.main.get_product_offer = original  # type: ignore[method-assign]


def test_a_lower_stock_goes_out_as_a_quantity_command_while_the_sellers_writes_are_held_back(
    world: World,
) -> None:
    world.offer("SKU-1", "O1", stock=5)
    world.run(world.level("SKU-1", 5))
    world.main.calls.clear()

    with writes_held_back(world):
        report = world.run(world.level("SKU-1", 2))

    assert report.failed == {}
    assert world.main.calls == [("quantity", (("O1",), 2))]
    assert world.main.offers["O1"].stock == 2
    assert world.pushes.records[("SKU-1", "O1")].quantity == 2
    assert "held back" in world.changes.changes[-1].reason


def test_a_sell_out_ends_the_offer_by_command_and_stock_coming_back_reactivates_it(world: World) -> None:
    world.offer("SKU-1", "O1", stock=5)
    world.run(world.level("SKU-1", 5))
    world.main.calls.clear()

    with writes_held_back(world):
        ended = world.run(world.level("SKU-1", 0))
        assert world.main.calls == [("publication", (("O1",), "END"))]
        assert (world.main.offers["O1"].status, world.main.offers["O1"].ended_by) == ("ENDED", "USER")
        world.main.calls.clear()

        back = world.run(world.level("SKU-1", 4))

    assert (ended.failed, back.failed) == ({}, {})
    # stock first, read back, then ACTIVATE (#10251): an offer our END command ended is ours to bring back
    assert world.main.names() == ["quantity", "get", "publication"]
    assert (world.main.offers["O1"].status, world.main.offers["O1"].stock) == ("ACTIVE", 4)


def test_a_first_push_that_lowers_the_stock_does_not_wait_either(world: World) -> None:
    world.offer("SKU-1", "O1", stock=5)  # listed by the seller: nothing pushed by us yet

    with writes_held_back(world):
        report = world.run(world.level("SKU-1", 1))

    assert report.failed == {}
    assert world.main.names() == ["quantity", "get"]  # still ACTIVE: nothing to activate
    assert world.main.offers["O1"].stock == 1


def test_while_reads_are_held_back_too_the_listing_confirms_a_selling_offer_and_the_push_is_done(
    world: World,
) -> None:
    """The soak's per-seller window limits reads as well (10 a minute): a first push by command then failed
    on its read-back and was sent again and again; the offers listing is another resource."""
    world.offer("SKU-1", "O1", stock=5)
    with writes_held_back(world), reads_held_back(world, until=0.0):
        report = world.run(world.level("SKU-1", 1))

    assert report.failed == {}
    assert world.main.names() == ["quantity", "list"]
    assert world.main.offers["O1"].stock == 1
    assert world.pushes.records[("SKU-1", "O1")].quantity == 1


def test_an_ended_offer_still_waits_for_the_full_read_to_know_who_ended_it(world: World) -> None:
    world.offer("SKU-1", "O1", stock=0, status="ENDED", ended_by="USER")
    with writes_held_back(world), reads_held_back(world, until=1_700_000_000.0):
        report = world.run(world.level("SKU-1", 3))

    assert set(report.failed) == {"SKU-1"}
    assert report.blocked_until == {"SKU-1": 1_700_000_000.0}
    assert world.main.offers["O1"].status == "ENDED"  # not re-activated behind the seller's back
