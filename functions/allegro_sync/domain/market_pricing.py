"""Which foreign marketplaces (allegro.cz, .sk, .hu) an offer goes to, and its price in each currency.

Allegro sells one offer on several marketplaces: the base price is in PLN, each additional marketplace
needs a price in its own currency (`additionalMarketplaces`) or Allegro's EXCHANGE_RATE price rule, which
converts the base price at the ECB rate of the previous working day (allegro-api #7513). A seller's
`MarketRule` says, per account and per category or SKU, which marketplace to use and how to price it:
- `exchange="own"`: the Allegro base price x the seller's `rate`, then the seller's pricing rule in the
  target currency (markup, rounding to an ending, min/max bounds: `domain.pricing`);
- `exchange="allegro"`: no price is sent; Allegro's own EXCHANGE_RATE rule prices the offer there.
CZK takes whole korunas only (422 InvalidPricePrecision otherwise, #7323, #8661, #13367), and HUF has had
no coins below 1 forint since 1999: both are rounded to whole units, and their bounds must be whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from allegro_sync.domain.pricing import CENT, PriceDecision, PriceStep, PricingRule, price_for_allegro

AdditionalMarketplace = Literal["allegro-cz", "allegro-sk", "allegro-hu"]
# Each additional marketplace's currency (Allegro's `GET /marketplaces` says the same: `currencies.base`).
CURRENCY_OF: dict[str, str] = {"allegro-cz": "CZK", "allegro-sk": "EUR", "allegro-hu": "HUF"}
WHOLE_UNITS = frozenset({"CZK", "HUF"})
WHOLE = (Decimal("0.00"),)


class MarketRule(BaseModel):
    """One marketplace for one scope: on or off, and how its price comes from the Allegro base price."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    marketplace: AdditionalMarketplace
    enabled: bool = True  # False: this scope is not sold there, though a wider scope says so
    exchange: Literal["own", "allegro"] = "own"
    rate: Annotated[Decimal, Field(gt=Decimal(0), le=Decimal(100000), decimal_places=6)] | None = None
    pricing: PricingRule = Field(default_factory=PricingRule)  # a factory: no model built at import

    @model_validator(mode="after")
    def _check(self) -> Self:
        money = CURRENCY_OF[self.marketplace]
        if self.pricing.currency != money:
            raise ValueError(f"{self.marketplace} sells in {money}, not {self.pricing.currency}")
        if self.enabled and self.exchange == "own" and self.rate is None:
            raise ValueError(f"give the rate: how many {money} one PLN is worth (or use Allegro's rate)")
        if money in WHOLE_UNITS:
            for bound in (self.pricing.min_price, self.pricing.max_price):
                if bound is not None and bound != bound.to_integral_value():
                    raise ValueError(f"{money} prices are whole units: bound {bound} is not")
            if self.pricing.endings not in ((), WHOLE):
                raise ValueError(f"{money} prices are whole units: no ending but 0.00 applies")
        return self


class ScopedMarketRule(BaseModel):
    """Where a marketplace rule applies: an account (None = all), a category (None = all) or one SKU."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    account_id: str | None = None
    category_id: str | None = None
    sku: str | None = None
    rule: MarketRule

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.account_id or "*", self.category_id or "*", self.sku or "*", self.rule.marketplace)


def rules_for(
    rules: Sequence[ScopedMarketRule], account: str, category_path: Sequence[str], sku: str
) -> list[MarketRule]:
    """Per marketplace, the most specific rule (SKU, then deepest category, then own account over every
    account); marketplaces whose winning rule is disabled are left out."""
    depth_of = {cat: depth for depth, cat in enumerate(category_path)}
    best: dict[str, tuple[tuple[int, int, int], MarketRule]] = {}
    for scoped in rules:
        if scoped.account_id not in (None, account) or scoped.sku not in (None, sku):
            continue
        if scoped.category_id is not None and scoped.category_id not in depth_of:
            continue
        rank = (
            int(scoped.sku is not None),
            depth_of.get(scoped.category_id or "", -1),
            int(scoped.account_id is not None),
        )
        marketplace = scoped.rule.marketplace
        if marketplace not in best or rank > best[marketplace][0]:
            best[marketplace] = (rank, scoped.rule)
    return [rule for _, rule in (best[m] for m in sorted(best)) if rule.enabled]


def market_price(base: Decimal, rule: MarketRule) -> PriceDecision:
    """The price on `rule.marketplace` for an Allegro base price (PLN), every step explained.

    Conversion first, then the seller's pricing rule in the target currency; whole-unit currencies round
    to the nearest whole unit unless the rule rounds itself. Raises PricingError as `price_for_allegro`."""
    assert rule.rate is not None, "an own-rate rule has a rate (MarketRule checks it)"
    converted = (base * rule.rate).quantize(CENT, rounding=ROUND_HALF_UP)
    pricing = rule.pricing
    if pricing.currency in WHOLE_UNITS and not pricing.endings:
        pricing = pricing.model_copy(update={"endings": WHOLE, "rounding": "nearest"})
    decision = price_for_allegro(converted, pricing)
    conversion = PriceStep(
        step="shop_price", amount=converted, note=f"Allegro price {base} PLN x {rule.rate} {pricing.currency}"
    )
    return decision.model_copy(update={"steps": (conversion, *decision.steps[1:])})


def widest_fee(
    base_fee: Callable[[Decimal], Decimal], markets: Sequence[MarketFee]
) -> Callable[[Decimal], Decimal]:
    """The fee a sale costs at base price `p`, in PLN, on the marketplace where it costs the most.

    On a marketplace whose price is `ratio x p` (the seller's rate and markup, as the offer shows now), a sale
    brings `ratio x p - fee(ratio x p)` of its currency, worth `p - fee(ratio x p) / ratio` in PLN: so its fee
    in PLN is `fee(ratio x p) / ratio`. A floor that covers the widest fee covers every marketplace."""

    def fee_at(price: Decimal) -> Decimal:
        fees = [base_fee(price)]
        fees += [(m.fee(price * m.ratio) / m.ratio).quantize(CENT, rounding=ROUND_HALF_UP) for m in markets]
        return max(fees)

    return fee_at


@dataclass(frozen=True)
class MarketFee:
    """One additional marketplace of an offer: its price / the base price, and its fee function."""

    marketplace: str
    ratio: Decimal
    fee: Callable[[Decimal], Decimal]
