"""What stock propagation needs from the rest of the system (`services/propagation.py`): the ports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

from allegro_sync.contracts.allegro import OfferCommandResult, OffersPage, ProductOffer
from allegro_sync.contracts.bulk import BulkModification, BulkResult
from allegro_sync.contracts.catalog import Change
from allegro_sync.contracts.stock import PushRecord
from allegro_sync.domain.ledger import StockView


class PushLog(Protocol):
    """Pushed revision per offer link; `record` is a conditional write (only a newer revision wins).

    `changes`: what the push changed on Allegro and why, kept with the record in the same write (the change
    log of routine stock pushes; `ChangeLog.history` shows them). False: a newer revision was recorded,
    and `changes` were not kept (the caller records them in the change log).
    """

    def pushed(self, sku: str) -> Mapping[str, PushRecord]: ...

    def record(self, sku: str, offer_id: str, record: PushRecord, changes: Sequence[Change] = ()) -> bool: ...


class StockViews(Protocol):
    """What every offer of a SKU should show now (`StockLedger.view`)."""

    def view(self, sku: str) -> StockView: ...


class OfferStockClient(Protocol):
    """The Allegro calls propagation makes (implemented by `AllegroClient`)."""

    def patch_product_offer(
        self, offer_id: str, body: Mapping[str, Any], *, wait: bool = True
    ) -> ProductOffer: ...

    def get_product_offer(self, offer_id: str) -> ProductOffer: ...

    def list_offers(self, *, offer_ids: Sequence[str] = (), limit: int = 1000) -> OffersPage:
        """GET /sale/offers: its own resource, not held back with the seller's product-offer reads."""
        ...

    def change_quantity(
        self, offer_ids: Iterable[str], change_type: Literal["FIXED", "GAIN"], value: int
    ) -> list[OfferCommandResult]: ...

    def change_publication(
        self, offer_ids: Iterable[str], action: Literal["ACTIVATE", "END"]
    ) -> list[OfferCommandResult]: ...

    def bulk_modify(self, command_id: str, modifications: Sequence[BulkModification]) -> list[BulkResult]: ...


class StockClients(Protocol):
    def client(self, account: str) -> OfferStockClient: ...


class ArchivedOffers(Protocol):
    """The catalogue's answer to an archived offer: create it again (or mark the link for it).

    Returns the new offer id when one exists now, None when the link only waits for re-publication.
    """

    def recreate(self, sku: str, account: str, offer_id: str) -> str | None: ...
