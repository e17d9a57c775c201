"""`GET /marketplaces`: allegro.pl and the foreign marketplaces an offer may also be sold on (issue 16)."""

from __future__ import annotations

from allegro_sync.adapters.allegro.core import AllegroCore
from allegro_sync.contracts.marketplaces import AllegroMarketplaces


class MarketplacesApi(AllegroCore):
    def marketplace_currencies(self) -> dict[str, str]:
        """Marketplace id -> the currency its prices must be in (public data: read once per process)."""
        response = self.request("GET", "/marketplaces", language="en-US")  # the spec allows only en-US here
        found = AllegroMarketplaces.model_validate(response.json()).marketplaces
        return {m.id: m.currency for m in found if m.currency}
