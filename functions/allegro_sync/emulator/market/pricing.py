"""`POST /pricing/offer-fee-preview`: a simple commission table per leaf category.

Real Allegro fees depend on many things (category, price band, promotions, Smart!); the emulator
keeps one rate and one fixed fee per category (fixtures/catalog.json), enough for a client to show
"what selling this costs" and for tests to check the arithmetic.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from allegro_sync.emulator.market import marketplaces
from allegro_sync.emulator.market.common import (
    BASE_MARKETPLACE,
    CENT,
    CURRENCY,
    Reject,
    body_object,
    obj,
    ok,
    parse_decimal,
    price,
)
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

LISTING_CYCLE = "PT720H"


def commission(rate: Decimal, fixed: Decimal, amount: Decimal) -> Decimal:
    return (amount * rate + fixed).quantize(CENT, rounding=ROUND_HALF_UP)


def fee_preview(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    offer = body_object(request).get("offer")
    if not isinstance(offer, dict):
        raise Reject.one(422, "VALIDATION_ERROR", "offer is required", path="offer")
    category_id = obj(offer.get("category")).get("id")
    category = st.catalogue.categories.get(category_id) if isinstance(category_id, str) else None
    if category is None or not category.leaf:
        raise Reject.one(
            422, "VALIDATION_ERROR", f"Unknown leaf category {category_id}", path="offer.category.id"
        )
    selling = obj(offer.get("sellingMode"))
    raw = obj(selling.get("price"))
    amount = parse_decimal(raw.get("amount"))
    if amount is None or amount <= 0:
        raise Reject.one(
            422, "VALIDATION_ERROR", "sellingMode.price.amount must be positive", path="offer.sellingMode"
        )
    marketplace = body_object(request).get("marketplaceId") or BASE_MARKETPLACE
    money = marketplaces.currency(marketplace) if marketplace in marketplaces.MARKETPLACES else CURRENCY
    if raw.get("currency", CURRENCY) != money:  # #7346: a marketplace's fees are in its own currency
        raise Reject.one(
            422,
            "ERROR",
            f"Provided marketplace {marketplace} must have all monetary values in currency {money}",
            path="offer.sellingMode.price",
        )
    # A marketplace's fees are in its currency: the fixed part is the PLN fee at the emulator's rate.
    fixed = category.fee_fixed if money == CURRENCY else marketplaces.converted(category.fee_fixed, money)
    fee = commission(category.fee_rate, fixed, amount)
    return ok(
        {
            "commissions": [
                {"name": "Prowizja od sprzedaży", "type": "commissionFee", "fee": price(fee, money)}
            ],
            "quotes": [
                {
                    "name": "Opłata za wystawienie",
                    "type": "listingFee",
                    "fee": price(Decimal(0), money),
                    "cycleDuration": LISTING_CYCLE,
                }
            ],
        }
    )
