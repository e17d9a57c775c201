"""What publishing needs from the outside world: Allegro, the stock ledger and its queue, the accounts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal, Protocol

from allegro_sync.contracts.allegro import (
    CategoryParameter,
    OfferCommandResult,
    OffersPage,
    PriceModification,
    ProductOffer,
    ProductsPage,
    UploadedImage,
)
from allegro_sync.contracts.allegro_requests import NewOffer, OfferChanges
from allegro_sync.domain.ledger import ShopLevel, SkuLedger, StockView
from allegro_sync.services.stock import StockResult


class AllegroPort(Protocol):
    """The Allegro operations publishing needs (`AllegroClient` implements them)."""

    def search_products(
        self, phrase: str, *, mode: Literal["GTIN", "MPN"] | None = "GTIN"
    ) -> ProductsPage: ...

    def get_category_parameters(self, category_id: str) -> list[CategoryParameter]: ...

    def upload_image(
        self, *, url: str | None = None, data: bytes | None = None, content_type: str = "image/jpeg"
    ) -> UploadedImage: ...

    def create_offer(self, offer: NewOffer, *, wait: bool = True) -> ProductOffer: ...

    def update_offer(self, offer_id: str, changes: OfferChanges, *, wait: bool = True) -> ProductOffer: ...

    def marketplace_currencies(self) -> dict[str, str]: ...  # issue 16: GET /marketplaces

    def change_price(
        self, offer_ids: Iterable[str], modification: PriceModification
    ) -> list[OfferCommandResult]: ...

    def list_offers(
        self, *, external_ids: Sequence[str] = (), statuses: Sequence[str] = (), limit: int = 1000
    ) -> OffersPage: ...


Known = SkuLedger | None  # a state the caller expects, tried before a read


class StockLedgerPort(Protocol):
    """The stock ledger as the catalogue uses it (`services.stock.StockLedger` implements it).

    The ledger, not the shop's raw number, decides what an offer shows: open Allegro sales the shop has not
    counted yet are subtracted, and an older shop report never overwrites a newer one.
    """

    def apply_shop_level(
        self, sku: str, quantity: int | None, at: datetime, version: int | None = None, *, known: Known = None
    ) -> StockResult: ...

    def preview_shop_level(
        self, sku: str, quantity: int | None, at: datetime, version: int | None = None
    ) -> StockResult: ...

    def link_offer(
        self,
        sku: str,
        offer_id: str,
        account: str,
        cap: int | None = None,
        *,
        known: Known = None,
        level: ShopLevel | None = None,
    ) -> StockResult: ...

    def unlink_offer(self, sku: str, offer_id: str) -> StockResult: ...

    def view(self, sku: str) -> StockView: ...

    def shop_level(self, sku: str) -> int | None:
        """The shop's last level (not in the product item: a stock change writes only the ledger)."""
        ...


class StockChanges(Protocol):
    """The `stock-changes` hook: the stock propagator pushes the ledger's view to every linked offer."""

    def stock_changed(self, view: StockView, cause: str) -> None: ...


class Accounts(Protocol):
    """Connected seller accounts and an Allegro client for each."""

    def connected(self) -> list[str]: ...

    def client(self, account: str) -> AllegroPort: ...
