"""Allegro's foreign marketplaces: allegro.cz, .sk and .hu sell the same offers as allegro.pl.

`GET /marketplaces` lists them (spec AllegroMarketplaces: languages, base currency, shipping countries). An
offer carries a price per additional marketplace in that marketplace's currency
(`additionalMarketplaces.{id}.sellingMode.price`, spec AdditionalMarketplacesRequest); its stock is one number
for every marketplace. The response shows every additional marketplace (AdditionalMarketplacesResponse) with
its `publication.state`, and `publication.marketplaces.additional` lists the ones the offer is visible on.

Beyond the spec, as real Allegro does:
- a marketplace without a price in its currency is REFUSED with VQR001_CURRENCY_NOT_AVAILABLE (#9084);
- CZK prices take whole korunas only: 422 InvalidPricePrecision otherwise (#7323, #8661, #13367; fault
  `whole_czk`);
- with the EXCHANGE_RATE price-automation rule on a marketplace, Allegro itself prices the offer there from
  the base price and the ECB rate of the previous working day (#7513); the emulator uses fixed rates;
- `POST /pricing/offer-fee-preview` with `marketplaceId` wants that marketplace's currency (#7346).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.common import (
    BASE_MARKETPLACE,
    error_item,
    obj,
    ok,
    parse_decimal,
    price,
)
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState, Offer

# id -> (base currency, offer display language, shipping country)
MARKETPLACES: dict[str, tuple[str, str, str]] = {
    "allegro-pl": ("PLN", "pl-PL", "PL"),
    "allegro-cz": ("CZK", "cs-CZ", "CZ"),
    "allegro-sk": ("EUR", "sk-SK", "SK"),
    "allegro-hu": ("HUF", "hu-HU", "HU"),
}
ADDITIONAL = tuple(m for m in MARKETPLACES if m != BASE_MARKETPLACE)
# The emulator's stand-in for the ECB rates Allegro's EXCHANGE_RATE rule uses (#7513): 1 PLN = rate.
ECB_RATES = {"PLN": Decimal(1), "CZK": Decimal("5.80"), "EUR": Decimal("0.23"), "HUF": Decimal("92.00")}
WHOLE_UNITS = ("CZK",)  # #7323, #8661, #13367: "you can provide prices only in full CZK values"


def currency(marketplace: str) -> str:
    return MARKETPLACES.get(marketplace, MARKETPLACES[BASE_MARKETPLACE])[0]


def list_marketplaces(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    return ok(
        {
            "marketplaces": [
                {
                    "id": ident,
                    "languages": {
                        "offerCreation": [{"code": "pl-PL"}],
                        "offerDisplay": [{"code": language}],
                    },
                    "currencies": {"base": {"code": money}, "additional": []},
                    "shippingCountries": [{"code": country}],
                }
                for ident, (money, language, country) in MARKETPLACES.items()
            ]
        }
    )


def accepted(st: MarketState, doc: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Decimal]:
    """The body's `additionalMarketplaces` as marketplace -> price, with Allegro's errors for the rest."""
    found: dict[str, Decimal] = {}
    for ident, raw in obj(doc.get("additionalMarketplaces")).items():
        path = f"additionalMarketplaces.{ident}"
        if ident == BASE_MARKETPLACE:
            errors.append(
                error_item(
                    "BaseMarketplaceInAdditionalMarketplacesException",
                    "The base marketplace can't be an additional marketplace",
                    path=path,
                    metadata={"baseMarketplace": ident},
                )
            )
            continue
        if ident not in MARKETPLACES:
            errors.append(
                error_item(
                    "UnsupportedAdditionalMarketplaceException",
                    f"Marketplace {ident} is not supported",
                    path=path,
                    metadata={"supportedAdditionalMarketplaces": ident},
                )
            )
            continue
        given = obj(obj(obj(raw).get("sellingMode")).get("price"))
        if not given:
            continue
        amount, money = parse_decimal(given.get("amount")), currency(ident)
        if amount is None or amount <= 0 or given.get("currency") != money:
            errors.append(
                error_item(
                    "VALIDATION_ERROR",
                    f"Provided marketplace {ident} must have a positive price in currency {money}",
                    path=f"{path}.sellingMode.price",
                )
            )
        elif st.faults.whole_czk and money in WHOLE_UNITS and amount != amount.to_integral_value():
            errors.append(
                error_item(
                    "InvalidPricePrecision",
                    "prices.price.amount.invalidPrecision",
                    path="prices[0].price.amount",
                    user_message="Liczba miejsc po przecinku jest niepoprawna dla podanego rynku.",
                )
            )
        else:
            found[ident] = amount
    return found


def price_on(offer: Offer, marketplace: str) -> Decimal | None:
    """What a buyer on `marketplace` pays, in its currency (None: the offer is not sold there)."""
    if marketplace == BASE_MARKETPLACE:
        return offer.price
    if "EXCHANGE_RATE" in str(offer.rules.get(marketplace, {}).get("rule", {}).get("type", "")):
        rate = ECB_RATES[currency(marketplace)]
        step = Decimal(1) if currency(marketplace) in WHOLE_UNITS else Decimal("0.01")
        return (offer.price * rate).quantize(step, rounding=ROUND_HALF_UP)
    return offer.markets.get(marketplace)


def _state(offer: Offer, marketplace: str) -> tuple[str, list[dict[str, Any]]]:
    if price_on(offer, marketplace) is None:
        refusal = {
            "code": "VQR001_CURRENCY_NOT_AVAILABLE",
            "userMessage": "missing price in the market's currency",
            "parameters": {},
        }
        return ("REFUSED", [refusal]) if offer.status == "ACTIVE" else ("NOT_REQUESTED", [])
    return ("APPROVED" if offer.status == "ACTIVE" else "PENDING"), []


def shown(offer: Offer) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """`publication.marketplaces.additional` and `additionalMarketplaces` of the offer's views."""
    visible: list[dict[str, str]] = []
    blocks: dict[str, dict[str, Any]] = {}
    for ident in ADDITIONAL:
        state, reasons = _state(offer, ident)
        amount = price_on(offer, ident)
        # No price: the spec says `sellingMode` is nullable (#9084 shows null), but its allOf makes a null
        # invalid for a schema validator, so the emulator leaves the key out.
        blocks[ident] = {"publication": {"state": state, "refusalReasons": reasons}}
        if amount is not None:
            blocks[ident]["sellingMode"] = {"format": "BUY_NOW", "price": price(amount, currency(ident))}
        if state == "APPROVED":
            visible.append({"id": ident})
    return visible, blocks


def as_request(offer: Offer) -> dict[str, Any]:
    """The offer's own additional prices as a request body (the base a PATCH is merged onto)."""
    return {
        ident: {"sellingMode": {"price": price(amount, currency(ident))}}
        for ident, amount in offer.markets.items()
    }


def sold_at(offer: Offer, marketplace: str) -> tuple[Decimal, str]:
    """The unit price and currency a buyer on `marketplace` pays (ValueError: not sold there)."""
    if marketplace == BASE_MARKETPLACE:
        return offer.price, currency(marketplace)
    amount = price_on(offer, marketplace) if marketplace in MARKETPLACES else None
    if amount is None or _state(offer, marketplace)[0] != "APPROVED":
        raise ValueError(f"offer {offer.id} is not sold on {marketplace}")
    return amount, currency(marketplace)


def converted(amount: Decimal, money: str) -> Decimal:
    """A PLN amount (e.g. delivery) in another currency, at the emulator's rate."""
    step = Decimal(1) if money in WHOLE_UNITS else Decimal("0.01")
    return (amount * ECB_RATES[money]).quantize(step, rounding=ROUND_HALF_UP)
