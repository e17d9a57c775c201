"""The repricing floor of an offer sold on allegro.cz, .sk or .hu too (issue 16, item 1).

`GET /sale/offers` shows each offer's price on every additional marketplace; `POST /pricing/offer-fee-preview`
takes a `marketplaceId` and answers that marketplace's fees in its currency. An offer's floor must cover the
fees where they cost the most, so the fee function the floor is computed with is the widest of the base
marketplace's and each additional one's, at the offer's current ratio of prices (`domain.market_pricing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation

from allegro_sync.contracts.allegro import OfferListing
from allegro_sync.domain.market_pricing import MarketFee, widest_fee
from allegro_sync.domain.repricing import FeeAt, OfferInput
from allegro_sync.services.repricing.fees import FeeBook
from allegro_sync.services.repricing.ports import RepricingAllegro, RepricingStore


class MarketFees:
    """Per offer, the fee function widened by the marketplaces it is APPROVED on (with a price there)."""

    def __init__(
        self, store: RepricingStore, client: RepricingAllegro, now: datetime, listings: Sequence[OfferListing]
    ) -> None:
        self._store, self._client, self._now = store, client, now
        self._books: dict[tuple[str, str], FeeBook] = {}
        self._prices = {o.id: _prices(o) for o in listings}

    def for_offer(self, offer: OfferInput, base_fee: FeeAt | None) -> FeeAt | None:
        sold_on = self._prices.get(offer.offer_id) or {}
        if base_fee is None or not sold_on or offer.price <= 0 or offer.category_id is None:
            return base_fee
        markets = []
        for marketplace, (amount, currency) in sorted(sold_on.items()):
            book = self._books.setdefault(
                (marketplace, currency),
                FeeBook(self._store, self._client, self._now, marketplace=(marketplace, currency)),
            )
            fee = book.for_category(offer.category_id)
            if fee is not None:
                markets.append(MarketFee(marketplace, amount / offer.price, fee))
        return widest_fee(base_fee, markets)

    @property
    def previews(self) -> int:
        return sum(book.previews for book in self._books.values())


def _prices(listing: OfferListing) -> dict[str, tuple[Decimal, str]]:
    """Marketplace -> (price, currency) where the offer is sold (APPROVED, with a price)."""
    found: dict[str, tuple[Decimal, str]] = {}
    for marketplace, block in (listing.additional_marketplaces or {}).items():
        if not isinstance(block, dict) or (block.get("publication") or {}).get("state") != "APPROVED":
            continue
        price = (block.get("sellingMode") or {}).get("price") or {}
        try:
            amount = Decimal(str(price.get("amount")))
        except InvalidOperation:
            continue
        if amount > 0 and price.get("currency"):
            found[marketplace] = (amount, str(price["currency"]))
    return found
