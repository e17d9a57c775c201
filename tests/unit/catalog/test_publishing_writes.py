"""A new product's first stock level is written with its first offer link: one ledger write per imported
offer instead of two (issue 21, goal 7), and the level is never lost when no offer comes of the event."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync.domain.ledger import OfferAction
from allegro_sync.services.publishing import RetryLater
from tests.fixtures.ledger import SimulatedCrash
from tests.unit.catalog.test_publishing import upsert
from tests.unit.catalog.test_publishing_ledger import LedgerWorld


def test_a_new_product_writes_its_level_and_its_first_offer_link_in_one_ledger_write() -> None:
    world = LedgerWorld(accounts=("shop1",))

    world.publisher.handle(upsert(stock=5))

    offer = str(world.link().offer_id)
    assert world.shown() == {offer: ("shop1", OfferAction.SET, 5)}
    assert world.ledger.view("SONY").available == 5
    assert world.repo.commits == 1  # the level and the link together, not one write each
    assert world.emitted.sent == []


def test_a_second_account_adds_only_its_own_link_write() -> None:
    world = LedgerWorld()

    world.publisher.handle(upsert(stock=5))

    assert {target.quantity for target in world.ledger.view("SONY").offers} == {5}
    assert world.repo.commits == 2


def test_a_new_product_waiting_for_a_mapping_still_has_its_level_in_the_ledger() -> None:
    world = LedgerWorld(accounts=("shop1",))

    world.publisher.handle(upsert(stock=5, category_path=["Ogród", "Grille"]))

    assert world.link().offer_id is None
    view = world.ledger.view("SONY")
    assert (view.available, view.offers) == (5, ())
    assert world.repo.commits == 1


def test_a_new_product_whose_create_failed_keeps_its_level_and_its_retry_links_the_offer() -> None:
    world = LedgerWorld(accounts=("shop1",))
    world.api.crash_after_create = True
    with pytest.raises(RetryLater):
        world.publisher.handle(upsert(stock=5), delivery=1)
    assert world.ledger.view("SONY").available == 5  # written although no offer was linked

    world.publisher.handle(upsert(stock=5), delivery=2)

    offer = str(world.link().offer_id)
    assert world.shown() == {offer: ("shop1", OfferAction.SET, 5)}
    assert world.repo.commits == 2


def test_a_ledger_change_between_the_create_and_the_link_is_kept_and_pushed() -> None:
    world = LedgerWorld(accounts=("shop1",))
    create = world.api.create_product_offer

    def create_while_the_seller_sets_a_buffer(body: Any, *, wait: bool = True) -> Any:
        world.ledger.set_buffer("SONY", 2)  # e.g. `stock buffer` from the CLI, meanwhile
        return create(body, wait=wait)

    world.api.create_product_offer = create_while_the_seller_sets_a_buffer  # type: ignore[method-assign]
    world.publisher.handle(upsert(stock=5))

    offer = str(world.link().offer_id)
    assert world.api.offers[offer]["stock"]["available"] == 5  # created from the level alone
    assert world.shown() == {offer: ("shop1", OfferAction.SET, 3)}  # the level, the buffer and the link
    assert [view.available for view, _ in world.emitted.sent] == [3]  # so the offer is corrected


def test_a_crash_on_the_joint_write_still_leaves_the_level_and_the_retry_links_the_offer() -> None:
    world = LedgerWorld(accounts=("shop1",))
    world.repo.next_crash = "before"  # the write of the level with the link dies
    with pytest.raises(SimulatedCrash):
        world.publisher.handle(upsert(stock=5), delivery=1)
    assert world.ledger.view("SONY").available == 5  # written on its own at the event's end

    world.publisher.handle(upsert(stock=5), delivery=2)

    offer = str(world.link().offer_id)
    assert world.shown() == {offer: ("shop1", OfferAction.SET, 5)}
    assert world.api.names().count("create_product_offer") == 1
