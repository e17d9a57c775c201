"""Two pushers of one SKU (the stock propagator and the reconciler) both find its offer archived (404) and
ask the catalogue to recreate it at the same time: the seller must get ONE new offer, not two listings."""

from __future__ import annotations

from collections.abc import Callable

from allegro_sync.contracts.catalog import OfferLink
from tests.unit.catalog.test_publishing import World, upsert


def test_an_archived_offer_recreated_by_two_pushers_at_once_becomes_one_new_offer() -> None:
    world = World()
    world.publisher.handle(upsert())
    old = world.link().offer_id
    assert old is not None
    read = world.catalog.link
    rival: list[Callable[[], object]] = []

    def link_then_rival(sku: str, account: str) -> OfferLink | None:
        found = read(sku, account)
        while rival:  # the other pusher's whole recreate, right after this one read the link
            rival.pop()()
        return found

    world.catalog.link = link_then_rival  # type: ignore[method-assign]
    answers: list[str | None] = []
    rival.append(lambda: answers.append(world.publisher.recreate("SONY", "shop1", old)))
    answers.append(world.publisher.recreate("SONY", "shop1", old))

    new = world.link().offer_id
    assert new not in (None, old)
    assert set(world.api.offers) == {old, new}  # the archived one and one replacement
    assert answers[0] == new  # the first recreate made it; the second found it being made, or made
