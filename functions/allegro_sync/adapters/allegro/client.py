"""The Allegro REST API client: one class, `AllegroClient`, for one seller account.

Its operations are grouped by resource, one module each: `offers` (product offers, own offers, offer
events), `commands` (quantity, price and publication batch commands), `orders` (order events, checkout
forms, fulfillment, shipments), `catalogue` (categories, parameters, products, images), `pricing`
(price automation, fee preview), `gpsr` (responsible producers and persons), `attachments` (offer
attachments: GPSR safety manuals), `bulk` (each offer's own stock or price, 25 per command),
`marketplaces` (foreign marketplaces) and `after_sale` (customer returns, refunds, commission claims).
Headers, token renewal, retries and rate limits are in `core`; its docstring gives the retry policy.
"""

from __future__ import annotations

from allegro_sync.adapters.allegro.after_sale import AfterSaleApi
from allegro_sync.adapters.allegro.attachments import AttachmentsApi
from allegro_sync.adapters.allegro.bulk import BulkApi
from allegro_sync.adapters.allegro.catalogue import CatalogueApi
from allegro_sync.adapters.allegro.commands import COMMAND_CHUNK, CommandKind
from allegro_sync.adapters.allegro.core import MEDIA_TYPE, PAGE_LIMIT, USER_AGENT, logger
from allegro_sync.adapters.allegro.gpsr import GpsrApi
from allegro_sync.adapters.allegro.invoices import InvoicesApi
from allegro_sync.adapters.allegro.marketplaces import MarketplacesApi
from allegro_sync.adapters.allegro.messaging import MessagingApi
from allegro_sync.adapters.allegro.offers import MAX_EXTERNAL_IDS, OffersApi
from allegro_sync.adapters.allegro.orders import CHECKOUT_FORMS_LIMIT, OrdersApi
from allegro_sync.adapters.allegro.pricing import PricingApi
from allegro_sync.adapters.allegro.shipments import ShipmentsApi
from allegro_sync.contracts.allegro import Me

__all__ = [
    "CHECKOUT_FORMS_LIMIT",
    "COMMAND_CHUNK",
    "MAX_EXTERNAL_IDS",
    "MEDIA_TYPE",
    "PAGE_LIMIT",
    "USER_AGENT",
    "AllegroClient",
    "CommandKind",
    "logger",
]


class AllegroClient(
    OffersApi,
    PricingApi,
    OrdersApi,
    CatalogueApi,
    GpsrApi,
    AttachmentsApi,
    BulkApi,
    MarketplacesApi,
    AfterSaleApi,
    ShipmentsApi,
    InvoicesApi,
    MessagingApi,  # issue 15, item 4
):
    """Typed access to the Allegro operations the project uses, for one seller account."""

    def me(self) -> Me:
        return self._get("/me", Me)
