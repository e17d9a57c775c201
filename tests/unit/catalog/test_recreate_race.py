"""Two pushers of one SKU (the stock propagator and the reconciler) both find its offer archived (404) and
ask the catalogue to recreate it at the same time: the seller must get ONE new offer, not two listings."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from allegro_sync.contracts.allegro_errors import AllegroErrorDetail, AllegroNotFound
from allegro_sync.contracts.catalog import OfferLink
from allegro_sync.services.publishing import RetryLater
from tests.unit.catalog.test_publishing import World, upsert


def _published() -> tuple[World, str, list[Callable[[], object]]]:
    """A published product, its offer id, and a list whose callables (another worker) run right after the
    catalogue's next read of a link."""
    world = World()
    world.publisher.handle(upsert())
    old = world.link().offer_id
    assert old is not None
    read = world.catalog.link
    rival: list[Callable[[], object]] = []

    def link_then_rival(sku: str, account: str) -> OfferLink | None:
        found = read(sku, account)
        while rival:
            rival.pop()()
        return found

    world.catalog.link = link_then_rival  # type: ignore[method-assign]
    return world, old, rival


def test_an_archived_offer_recreated_by_two_pushers_at_once_becomes_one_new_offer() -> None:
    world, old, rival = _published()
    answers: list[str | None] = []
    rival.append(lambda: answers.append(world.publisher.recreate("SONY", "shop1", old)))
    answers.append(world.publisher.recreate("SONY", "shop1", old))

    new = world.link().offer_id
    assert new not in (None, old)
    assert set(world.api.offers) == {old, new}  # the archived one and one replacement
    assert answers[0] == new  # the first recreate made it; the second found it being made, or made


def test_a_product_edit_finding_its_offer_archived_while_a_pusher_recreates_it_makes_no_third_offer() -> None:
    """The catalogue worker reads the link of an edited product; the stock propagator's re-creation of the
    archived offer lands right after; the worker's edit then meets the archived offer (404). It must not
    create another offer: the edit is retried and goes to the pusher's new offer."""
    world, old, rival = _published()

    def pusher_recreates() -> None:
        world.publisher.recreate("SONY", "shop1", old)
        world.api.fail["patch_product_offer"] = AllegroNotFound(404, [AllegroErrorDetail(code="NOT_FOUND")])

    rival.append(pusher_recreates)
    edit = upsert(minutes=1, name="Słuchawki Sony WH-1000XM5 czarne nowe")
    with pytest.raises(RetryLater):
        world.publisher.handle(edit)
    world.publisher.handle(edit)  # SQS delivers it again

    new = world.link().offer_id
    assert set(world.api.offers) == {old, new}  # the archived one and ONE replacement
    assert world.api.offers[str(new)]["name"] == "Słuchawki Sony WH-1000XM5 czarne nowe"
