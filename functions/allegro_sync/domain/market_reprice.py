"""A repriced offer's price on allegro.cz, .sk and .hu (issue 16, item 1): each follows the new PLN price.

The repricer decides the base (PLN) price inside the seller's [floor, ceiling]. An offer sold on additional
marketplaces must move there too, or its CZK/EUR/HUF price stays at the old PLN price's level (Allegro's price
command reaches allegro.pl only, #9296). Each marketplace's price is the new PLN price through the seller's
marketplace rule (rate, markup, rounding, the rule's own bounds: `market_pricing.market_price`), and the
seller's PLN bounds go through the same rule, so the price stays inside them in that currency. A marketplace
whose rule is Allegro's exchange rate (EXCHANGE_RATE, #7513) is left to Allegro: it converts the new PLN
price itself. Every move names its marketplace and currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from allegro_sync.domain.market_pricing import CURRENCY_OF, MarketRule, market_price
from allegro_sync.domain.pricing import PricingError


@dataclass(frozen=True)
class MarketMove:
    """One marketplace of a repriced offer: its new price (None: nothing to send) and why."""

    marketplace: str
    currency: str
    old: Decimal | None
    new: Decimal | None
    note: str

    @property
    def changes(self) -> bool:
        return self.new is not None and self.new != self.old


def market_moves(
    new_base: Decimal,
    bounds: tuple[Decimal | None, Decimal | None],
    rules: Sequence[MarketRule],
    shown: Mapping[str, Decimal],
) -> list[MarketMove]:
    """Per marketplace rule of the offer, where its price goes when the PLN price becomes `new_base`.

    `bounds`: the seller's PLN (floor, ceiling) of the decision; `shown`: the offer's current price per
    marketplace (`GET /sale/offers`)."""
    moves = []
    for rule in rules:
        money = CURRENCY_OF[rule.marketplace]
        old = shown.get(rule.marketplace)
        head = f"{rule.marketplace} ({money})"
        if rule.exchange == "allegro":
            note = (
                f"{head}: left to Allegro's exchange-rate rule (EXCHANGE_RATE), which converts the new "
                f"{new_base} PLN itself"
            )
            moves.append(MarketMove(rule.marketplace, money, old, None, note))
            continue
        try:
            decision = market_price(new_base, rule)
            low, high = (market_price(b, rule).amount if b is not None else None for b in bounds)
        except PricingError as error:
            note = f"{head}: kept at {old or 'no price'}: {error}"
            moves.append(MarketMove(rule.marketplace, money, old, None, note))
            continue
        new = min(max(decision.amount, low or decision.amount), high or decision.amount)
        span = f"{bounds[0]}..{bounds[1]} PLN = {low}..{high} {money}"
        if new != decision.amount:  # only if the seller's rule rounds differently at the bounds
            span += f", so {new} {money}"
        change = f"{old} -> {new} {money}" if old != new else f"stays {new} {money}"
        note = f"{head}: {change} ({decision.explanation}; the seller's bounds {span})"
        moves.append(MarketMove(rule.marketplace, money, old, new, note))
    return moves
