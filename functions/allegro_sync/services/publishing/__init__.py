"""Shop events -> Allegro offers, for every connected seller account (the catalog_worker's use case).

Rules that shape this package:
- The catalogue accepts an event only if it is not older than what it has (`CatalogRepository.accept`); a
  stale event is acknowledged and ignored. A redelivery has the same order key: it is accepted, and each
  offer link remembers the key it last applied, so a delete is not done twice; an upsert, stock or price
  with an equal key (a WooCommerce edit saved in the same second) is applied again and sends only what
  differs from what Allegro has.
- Nothing is guessed: an EAN matching several catalogue products, a shop category without an approved
  mapping, a required parameter without a value all leave the product WAITING with a reason a seller can act
  on, and nothing is sent to Allegro.
- Allegro rejecting content (400/403/422) is stored on the link in plain words and the event is done:
  retrying the same body cannot help. Rate limits, 5xx, timeouts and 409s raise, so SQS retries the event.
- Every change made on Allegro goes to the change log with its reason (event, rule, old -> new).
- Only what changed is sent: the link keeps a fingerprint per field of what Allegro has.
- Stock goes through the stock ledger: the stock propagator, not this package, pushes live stock to offers.

One module per event: `upsert` (ProductUpsert), `stock` (StockSet and shop levels), `price` (PriceSet),
`end` (ProductDelete), `recreate` (republish, link a product, recreate an archived offer); `publisher`
is the entry point that orders events and applies them to every account. Request bodies are the Allegro
client's (`AllegroClient.create_offer`, `update_offer`).
"""

from allegro_sync.services.publishing.context import Context
from allegro_sync.services.publishing.outcomes import EventReport, RetryLater
from allegro_sync.services.publishing.ports import Accounts, AllegroPort, StockChanges, StockLedgerPort
from allegro_sync.services.publishing.publisher import Publisher
from allegro_sync.services.publishing.settings import OfferSettings
from allegro_sync.services.publishing.stock import SOLD_OUT, stock_patch

__all__ = [
    "SOLD_OUT",
    "Accounts",
    "AllegroPort",
    "Context",
    "EventReport",
    "OfferSettings",
    "Publisher",
    "RetryLater",
    "StockChanges",
    "StockLedgerPort",
    "stock_patch",
]
