"""Allegro's marketplaces (`GET /marketplaces`, spec AllegroMarketplaces) as the client reads them."""

from __future__ import annotations

from pydantic import Field

from allegro_sync.contracts.allegro import AllegroResponse


class CurrencyCode(AllegroResponse):
    code: str


class MarketplaceCurrencies(AllegroResponse):
    base: CurrencyCode | None = None
    additional: list[CurrencyCode] = Field(default_factory=list)


class MarketplaceItem(AllegroResponse):
    id: str
    currencies: MarketplaceCurrencies | None = None

    @property
    def currency(self) -> str | None:
        """The currency an offer's price on this marketplace must be in."""
        return self.currencies.base.code if self.currencies and self.currencies.base else None


class AllegroMarketplaces(AllegroResponse):
    marketplaces: list[MarketplaceItem] = Field(default_factory=list)
