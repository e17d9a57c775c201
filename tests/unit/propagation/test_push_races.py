"""Two pushers of one SKU (the stock propagator and the reconciler's repair) interleaved at the request
boundary between one's ledger read and its call to Allegro: the offer must end showing the ledger's newest
stock, whichever call reaches Allegro last."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from allegro_sync.contracts.allegro import OfferCommandResult, ProductOffer
from allegro_sync.contracts.bulk import BulkModification, BulkResult
from allegro_sync.services.reconcile import Reconciler
from tests.unit.propagation.fakes import FakeClients, FakeStockAllegro, World


class _RivalBeforeTheNextWrite(FakeStockAllegro):
    """Runs `rival` (another worker) just before the next stock write reaches the offer."""

    rival: Callable[[], object] | None = None

    def _rival_first(self) -> None:
        rival, self.rival = self.rival, None
        if rival is not None:
            rival()

    def patch_product_offer(
        self, offer_id: str, body: Mapping[str, Any], *, wait: bool = True
    ) -> ProductOffer:
        self._rival_first()
        return super().patch_product_offer(offer_id, body, wait=wait)

    def change_quantity(
        self, offer_ids: Sequence[str], change_type: Literal["FIXED", "GAIN"], value: int
    ) -> list[OfferCommandResult]:
        self._rival_first()
        return super().change_quantity(offer_ids, change_type, value)

    def bulk_modify(self, command_id: str, modifications: Sequence[BulkModification]) -> list[BulkResult]:
        self._rival_first()
        return super().bulk_modify(command_id, modifications)


def test_a_repair_landing_after_a_newer_push_is_pushed_again_with_the_newest_stock() -> None:
    """The reconciler decides to repair a hand edit (9 -> 5) from the ledger's view; before its call lands,
    the shop reports 3 and the propagator pushes 3. The repair's 5 must not stay on Allegro (oversold)."""
    allegro = _RivalBeforeTheNextWrite()
    world = World(main=allegro)
    world.offer("A", "OA", stock=5)
    world.run(world.level("A", 5))
    allegro.offers["OA"].stock = 9  # the seller typed 9 in Allegro's panel
    reconciler = Reconciler(
        ledger=world.ledger,
        clients=FakeClients(main=allegro, second=world.second),
        propagator=world.propagator,
        accounts=lambda: ["main"],
    )

    allegro.rival = lambda: world.run(world.level("A", 3))
    reconciler.run()

    assert world.ledger.view("A").offers[0].quantity == 3
    assert allegro.offers["OA"].stock == 3
