"""Shop price -> Allegro price, by the seller's rules per account and category, every step explained.

Invariant 5 of the design: every change the system makes on Allegro is recorded with its reason. So a price
is never just a number: `price_for_allegro` returns the amount together with the ordered steps that produced
it (which rule, markup, rounding, clamp), ready to be stored next to the change.

Money is `Decimal`, never float; Allegro takes amounts as strings with two decimals ("123.99", spec: Price).
Order of steps: percentage markup, then fixed amount, then rounding to a price ending, then the min/max clamp
(re-rounded inwards when an ending fits inside the bounds). The clamp always wins: a price never leaves
[min_price, max_price].
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from allegro_sync.domain.frozen import FrozenModel

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")

Amount = Annotated[Decimal, Field(ge=Decimal("0"), le=MAX_AMOUNT, max_digits=12, decimal_places=2)]


class PricingError(ValueError):
    """The rule cannot produce a sellable price for this input (the caller must not publish a price)."""


class PricingRule(BaseModel):
    """How one account (optionally one category) turns a shop price into an Allegro price.

    `endings` are the allowed cents, e.g. ["0.99"] (x.99), ["0.49", "0.99"], ["0.00"] (whole amounts);
    empty means no rounding. `rounding` says which neighbouring ending to take.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)] = "default"
    markup_percent: Annotated[Decimal, Field(gt=Decimal("-100"), le=Decimal("1000"), decimal_places=4)] = (
        Decimal(0)
    )
    markup_amount: Annotated[Decimal, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, decimal_places=2)] = Decimal(0)
    endings: tuple[Decimal, ...] = ()
    rounding: Literal["up", "down", "nearest"] = "up"
    min_price: Amount | None = None
    # Never sell below cost plus this margin (needs the product's cost price; 0 = never below cost).
    min_margin_percent: Annotated[Decimal, Field(ge=Decimal("-100"), le=Decimal("1000"))] | None = None
    max_price: Amount | None = None
    currency: Literal["PLN", "CZK", "EUR", "HUF"] = "PLN"

    @field_validator("endings")
    @classmethod
    def _check_endings(cls, endings: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        for ending in endings:
            if not (Decimal(0) <= ending < 1) or ending != ending.quantize(CENT):
                raise ValueError(f"ending {ending} must be cents between 0.00 and 0.99")
        return tuple(sorted(set(endings)))

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError(f"min_price {self.min_price} is above max_price {self.max_price}")
        if self.min_price is not None and self.min_price < CENT:
            raise ValueError("min_price must be at least 0.01")
        return self


class PriceStep(FrozenModel):
    step: Literal[
        "shop_price",
        "rule",
        "markup_percent",
        "markup_amount",
        "ending",
        "min_price",
        "min_margin",
        "max_price",
    ]
    amount: Decimal
    note: str


class PriceDecision(FrozenModel):
    """The price to set and why; `explanation` is what the seller sees in the change history."""

    amount: Decimal
    currency: str
    rule: str
    steps: tuple[PriceStep, ...]

    @property
    def allegro_amount(self) -> str:
        return format(self.amount.quantize(CENT), "f")

    def to_allegro(self) -> dict[str, str]:
        """Allegro's Price object: {"amount": "123.99", "currency": "PLN"}."""
        return {"amount": self.allegro_amount, "currency": self.currency}

    @property
    def explanation(self) -> str:
        return "; ".join(f"{s.note} -> {s.amount:.2f}" for s in self.steps)


def round_to_ending(amount: Decimal, endings: Sequence[Decimal], rounding: str) -> Decimal:
    """The nearest price at or above ("up"), at or below ("down") or closest to ("nearest") `amount` whose
    cents are one of `endings` (ties of "nearest" go up). With no endings, cents are kept."""
    if not endings:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    whole = amount.to_integral_value(rounding=ROUND_FLOOR)
    candidates = [base + e for base in (whole - 1, whole, whole + 1) for e in endings]
    above = min(c for c in candidates if c >= amount)
    below = max(c for c in candidates if c <= amount)
    if rounding == "up":
        return above
    if rounding == "down":
        return below
    return above if above - amount <= amount - below else below


def _has_ending(amount: Decimal, endings: Sequence[Decimal]) -> bool:
    return not endings or (amount - amount.to_integral_value(rounding=ROUND_FLOOR)) in endings


def price_for_allegro(
    shop_price: Decimal, rule: PricingRule, *, cost_price: Decimal | None = None
) -> PriceDecision:
    """Apply `rule` to the shop price; raises PricingError when no positive price can come out, or when the
    margin floor (from `cost_price` and `rule.min_margin_percent`) is above the rule's max_price."""
    if not isinstance(shop_price, Decimal) or not shop_price.is_finite():
        raise PricingError(f"shop price must be a finite Decimal, got {shop_price!r}")
    if shop_price < 0:
        raise PricingError(f"shop price {shop_price} is negative")
    steps: list[PriceStep] = [
        PriceStep(step="shop_price", amount=shop_price, note="shop price"),
        PriceStep(step="rule", amount=shop_price, note=f"rule {rule.name!r}"),
    ]
    price = shop_price
    if rule.markup_percent:
        price = (price * (1 + rule.markup_percent / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
        steps.append(PriceStep(step="markup_percent", amount=price, note=f"{rule.markup_percent:+}%"))
    if rule.markup_amount:
        price = price + rule.markup_amount
        steps.append(
            PriceStep(step="markup_amount", amount=price, note=f"{rule.markup_amount:+} {rule.currency}")
        )
    if rule.endings:
        rounded = round_to_ending(price, rule.endings, rule.rounding)
        if rounded != price:
            endings = "/".join(f"x{str(e)[1:]}" for e in rule.endings)
            price = rounded
            steps.append(PriceStep(step="ending", amount=price, note=f"rounded {rule.rounding} to {endings}"))
    price = price.quantize(CENT, rounding=ROUND_HALF_UP)
    high = rule.max_price
    low, low_step, low_note = _lower_bound(rule, cost_price)
    if low is not None and price < low:
        price = _inside(low, low, high, rule.endings, "up")
        note = low_note + (", then its next allowed ending" if price != low else "")
        steps.append(PriceStep(step=low_step, amount=price, note=note))
    elif high is not None and price > high:
        price = _inside(high, low, high, rule.endings, "down")
        note = f"lowered to the maximum {high}" + (
            ", then its previous allowed ending" if price != high else ""
        )
        steps.append(PriceStep(step="max_price", amount=price, note=note))
    if price < CENT:
        raise PricingError(f"rule {rule.name!r} gives {price} for shop price {shop_price}; Allegro needs > 0")
    return PriceDecision(amount=price, currency=rule.currency, rule=rule.name, steps=tuple(steps))


def _lower_bound(
    rule: PricingRule, cost_price: Decimal | None
) -> tuple[Decimal | None, Literal["min_price", "min_margin"], str]:
    """The effective minimum: the rule's min_price or, when higher, cost plus the minimum margin."""
    low, note = rule.min_price, f"raised to the minimum {rule.min_price}"
    if rule.min_margin_percent is None or cost_price is None:
        return low, "min_price", note
    if not isinstance(cost_price, Decimal) or not cost_price.is_finite() or cost_price < 0:
        raise PricingError(f"cost price must be a non-negative Decimal, got {cost_price!r}")
    floor = (cost_price * (1 + rule.min_margin_percent / 100)).quantize(CENT, rounding=ROUND_CEILING)
    if rule.max_price is not None and floor > rule.max_price:
        raise PricingError(
            f"rule {rule.name!r}: cost {cost_price} plus {rule.min_margin_percent}% margin is {floor}, "
            f"above the maximum price {rule.max_price}"
        )
    if low is None or floor > low:
        return floor, "min_margin", f"raised to cost {cost_price} {rule.min_margin_percent:+}% = {floor}"
    return low, "min_price", note


def _inside(
    bound: Decimal, low: Decimal | None, high: Decimal | None, endings: Sequence[Decimal], direction: str
) -> Decimal:
    """The bound itself, or the first price with an allowed ending from the bound inwards if it stays in."""
    if _has_ending(bound, endings):
        return bound
    candidate = round_to_ending(bound, endings, direction)
    inside = (low if low is not None else CENT) <= candidate <= (high if high is not None else MAX_AMOUNT)
    return candidate if inside else bound


class ScopedRule(BaseModel):
    """A rule and where it applies: an account (None = all) and an Allegro category (None = all)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    account_id: str | None = None
    category_id: str | None = None
    rule: PricingRule


class PricingPolicy(BaseModel):
    """All of a seller's pricing rules; the most specific one wins for an offer.

    Specificity: account+category, then category (any account), then account, then the default. A
    category rule also covers the category's subcategories when the caller passes the category path.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    rules: tuple[ScopedRule, ...] = ()

    @model_validator(mode="after")
    def _unique_scopes(self) -> Self:
        scopes = [(r.account_id, r.category_id) for r in self.rules]
        duplicates = {s for s in scopes if scopes.count(s) > 1}
        if duplicates:
            raise ValueError(
                f"more than one rule for the same account/category: {sorted(map(str, duplicates))}"
            )
        return self

    def rule_for(self, account_id: str, category_path: Sequence[str]) -> PricingRule:
        """`category_path`: Allegro category ids from the root to the offer's leaf category."""
        depth_of = {cat: depth for depth, cat in enumerate(category_path)}
        best: tuple[int, int, int] | None = None
        chosen: PricingRule | None = None
        for scoped in self.rules:
            if scoped.account_id not in (None, account_id):
                continue
            if scoped.category_id is not None and scoped.category_id not in depth_of:
                continue
            has_cat = scoped.category_id is not None
            rank = (
                int(has_cat),
                depth_of.get(scoped.category_id or "", -1),
                int(scoped.account_id is not None),
            )
            if best is None or rank > best:
                best, chosen = rank, scoped.rule
        if chosen is None:
            raise PricingError(f"no pricing rule covers account {account_id!r}; add a default rule")
        return chosen
