"""Allegro campaigns (Allegro Ceny, AlleObniżka, Strefa Okazji): Allegro sells an offer at a campaign price.

What integrators met, and the spec does not say: the offer's own data (`GET /sale/product-offers/{id}`,
`GET /sale/offers`) keeps the seller's price in `sellingMode.price` while buyers pay the campaign price
(#4345, #4112, #11193); changing that base price does not end the campaign price (#13617); and price rules
assigned to the offer pause while it takes part (#9578). The only place the API shows the campaign is
`GET /sale/badges` (`process.status` ACTIVE, `prices.bargain` or `prices.subsidy.targetPrice`). Tests and the
demo put an offer into a campaign through the admin API (`POST /__emulator/campaigns`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.common import BASE_MARKETPLACE, Reject, int_arg, iso, ok, price
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState, Offer

SUBSIDY = "SUBSIDY"  # Allegro Ceny: Allegro pays the difference (prices.subsidy.targetPrice)


def active_campaign(offer: Offer) -> bool:
    return offer.campaign is not None and offer.campaign["status"] == "ACTIVE"


def start(st: MarketState, offer: Offer, amount: Decimal, campaign_id: str, name: str) -> None:
    if amount <= 0 or amount >= offer.price:
        raise ValueError(f"a campaign price must be above 0 and below the offer's price {offer.price}")
    offer.campaign = {
        "id": campaign_id,
        "name": name,
        "price": str(amount),
        "status": "ACTIVE",
        "from": iso(st.now()),
        "to": None,
    }


def finish(st: MarketState, offer: Offer) -> None:
    if not active_campaign(offer):
        raise ValueError(f"offer {offer.id} is in no campaign")
    assert offer.campaign is not None
    offer.campaign.update(status="FINISHED", to=iso(st.now()))


def _badge(offer: Offer) -> dict[str, Any]:
    campaign = offer.campaign
    assert campaign is not None
    amount = price(Decimal(campaign["price"]))
    prices = {"subsidy": {"targetPrice": amount}} if campaign["id"] == SUBSIDY else {"bargain": amount}
    return {
        "offer": {"id": offer.id},
        "campaign": {"id": campaign["id"], "name": campaign["name"]},
        "publication": {"type": "WITHIN", "from": campaign["from"], "to": campaign["to"]}
        if campaign["to"]
        else {"type": "SINCE", "from": campaign["from"], "to": None},
        "prices": prices,
        "process": {"status": campaign["status"], "rejectionReasons": []},
    }


def list_badges(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """`GET /sale/badges?marketplace.id=allegro-pl[&offer.id=]`: the seller's offers in campaigns."""
    assert request.seller_id is not None
    marketplace = request.arg("marketplace.id")
    if marketplace is None:
        raise Reject.one(400, "VALIDATION_ERROR", "marketplace.id is required", path="marketplace.id")
    limit = int_arg(request, "limit", 50, 1, 1000)
    offset = int_arg(request, "offset", 0, 0, 100_000)
    wanted = request.arg("offer.id")
    found = [
        o
        for o in st.offers.values()
        if o.seller_id == request.seller_id
        and o.campaign is not None
        and marketplace == BASE_MARKETPLACE
        and (wanted is None or o.id == wanted)
    ]
    return ok({"badges": [_badge(o) for o in found[offset : offset + limit]]})
