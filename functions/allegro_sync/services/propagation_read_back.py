"""Reading an offer back after a stock command, also while the seller's product-offer reads are limited."""

from __future__ import annotations

from allegro_sync.contracts.allegro import ProductOffer
from allegro_sync.contracts.allegro_errors import AllegroUserRateLimited
from allegro_sync.services.propagation_ports import OfferStockClient


def read_back(client: OfferStockClient, offer_id: str) -> ProductOffer:
    """The offer after a command. While the seller's product-offer reads are held back too (their own
    per-user limit), the offers listing, another resource, says whether it still sells: only an ended offer
    needs the full read (who ended it) and waits for the limit; a selling one is done now."""
    try:
        return client.get_product_offer(offer_id)
    except AllegroUserRateLimited:
        listed = next(
            (o for o in client.list_offers(offer_ids=[offer_id], limit=1).offers if o.id == offer_id), None
        )
        publication = listed.publication if listed is not None else None
        if publication is None or publication.status not in ("ACTIVE", "ACTIVATING"):
            raise
        return ProductOffer(id=offer_id, publication=publication)
