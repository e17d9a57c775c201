"""Foreign marketplaces (issue 16, item 1): the offer's price on allegro.cz, .sk and .hu.

The seller's `markets` rules (`domain.market_pricing`, stored in `mappings`, set with `allegro-sync markets
set`) say per account and per category or SKU which additional marketplaces an offer is sold on and how its
price there follows the Allegro base price. Each price goes in `additionalMarketplaces` of the same create or
edit as the base price, so the marketplaces never show prices of two different moments; stock stays one
number for every marketplace (Allegro's `stock.available` applies to all of them).

`GET /marketplaces` is asked once per process: a rule whose currency is not the one Allegro names for the
marketplace, or a marketplace Allegro does not list, keeps the product waiting with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from allegro_sync.contracts.allegro import PriceIn
from allegro_sync.domain.market_pricing import ScopedMarketRule, market_price, rules_for
from allegro_sync.domain.pricing import PriceDecision, PricingError
from allegro_sync.services.publishing.outcomes import Waiting


class MarketRules(Protocol):
    def market_rules(self) -> list[ScopedMarketRule]: ...


class CurrencySource(Protocol):
    def marketplace_currencies(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class MarketPrices:
    """The offer's price on each additional marketplace it is sold on (empty: allegro.pl only)."""

    prices: Mapping[str, PriceDecision] = field(default_factory=dict)

    def to_request(self) -> dict[str, PriceIn]:
        return {m: PriceIn(amount=d.allegro_amount, currency=d.currency) for m, d in self.prices.items()}

    def fingerprint(self) -> str:
        """What Allegro was sent, e.g. "allegro-cz=233.00 CZK" (a change resends every marketplace)."""
        return ";".join(f"{m}={d.allegro_amount} {d.currency}" for m, d in sorted(self.prices.items()))

    def explanation(self) -> str:
        return "; ".join(f"{m}: {d.explanation}" for m, d in sorted(self.prices.items()))


NONE = MarketPrices()


def market_prices(
    rules: Sequence[ScopedMarketRule],
    currencies: Callable[[], Mapping[str, str]],
    *,
    account: str,
    category_path: Sequence[str],
    sku: str,
    base: PriceDecision,
) -> MarketPrices:
    """The prices the seller's rules give `sku` on `account` (raises Waiting when one cannot be made)."""
    chosen = rules_for(rules, account, category_path, sku)
    if not chosen:
        return NONE
    known = currencies()
    prices: dict[str, PriceDecision] = {}
    for rule in chosen:
        money = known.get(rule.marketplace)
        if money is None:
            raise Waiting([f"Allegro does not list marketplace {rule.marketplace} (GET /marketplaces)"])
        if money != rule.pricing.currency:
            raise Waiting(
                [
                    f"the {rule.marketplace} rule prices in {rule.pricing.currency}, but Allegro sells "
                    f"there in {money}; fix it with `allegro-sync markets set`"
                ]
            )
        if rule.exchange == "allegro":
            continue  # Allegro's EXCHANGE_RATE rule prices it; nothing to send (docs/marketplaces.md)
        try:
            prices[rule.marketplace] = market_price(base.amount, rule)
        except PricingError as error:
            raise Waiting(
                [f"no valid {rule.marketplace} price: {error}; fix the marketplace rule"]
            ) from error
    return MarketPrices(prices)
