"""Repricing inside the seller's bounds: floor and ceiling, three strategies, one guard, every step explained.

Pure: no I/O, so planning 100,000 offers is fast and property tests can hammer it. The service gathers the
inputs (offers, costs, fees, competitor prices, state) and applies what `plan_account` decides.

The order of one offer's decision is fixed and documented in docs/repricing.md:
bounds (floor, ceiling) -> strategy target -> at most `max_step_percent` away from the current price ->
price ending -> clamp to [floor, ceiling] (bounds always win) -> skip below `min_change` -> cool-down.
A circuit breaker then looks at the whole account: when an unusual share of offers would sit on the floor,
nothing is applied for that account (a price war or a cost error is likelier than a real market move).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum
from statistics import median
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from allegro_sync.domain.pricing import CENT, round_to_ending

Money = Annotated[Decimal, Field(ge=Decimal("0"), le=Decimal("9999999999.99"), decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=Decimal("0"), lt=Decimal("100"))]
FEE_ITERATIONS = 20
ALLEGRO_RULE_TYPES = (
    "FOLLOW_BY_ALLEGRO_MIN_PRICE",
    "FOLLOW_BY_MARKET_MIN_PRICE",
    "FOLLOW_BY_TOP_OFFER_PRICE",
)


class Strategy(StrEnum):
    NONE = "none"  # the shop's list price rules; the repricer does not own the price
    ALLEGRO = "allegro"  # Allegro's own price automation rule, kept inside [floor, ceiling]
    FEED = "feed"  # competitor prices from the seller's own feed
    DEMAND = "demand"  # the offer's 30-day sales and visits and its stock


class RepricingSettings(BaseModel):
    """One seller's settings for an account, a category or a SKU (the most specific one wins)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    account: str | None = None
    category_id: str | None = None
    sku: str | None = None
    strategy: Strategy = Strategy.NONE
    # bounds
    seller_min: Money | None = None
    seller_max: Money | None = None
    min_margin_amount: Money = Decimal(0)
    min_margin_percent: Percent = Decimal(0)  # of the selling price
    shipping_share: Money = Decimal(0)
    # Allegro's rule
    allegro_rule: Literal[
        "FOLLOW_BY_ALLEGRO_MIN_PRICE", "FOLLOW_BY_MARKET_MIN_PRICE", "FOLLOW_BY_TOP_OFFER_PRICE"
    ] = "FOLLOW_BY_MARKET_MIN_PRICE"
    range_tolerance_percent: Percent = Decimal(2)  # keep an assigned range this close to the bounds
    # competitor feed
    feed_mode: Literal["match", "beat", "rank"] = "beat"
    beat_amount: Money = Decimal("0.01")
    beat_percent: Percent = Decimal(0)
    rank: Annotated[int, Field(ge=1, le=50)] = 1
    hold_on_tie: bool = True
    raise_when_cheapest: bool = True
    outlier_percent: Percent = Decimal(30)  # a rival below median * (1 - X%) is ignored
    # demand
    low_stock: Annotated[int, Field(ge=0)] = 3
    min_cover_days: Annotated[int, Field(ge=0)] = 7
    demand_step_percent: Percent = Decimal(3)
    # guard
    cooldown_minutes: Annotated[int, Field(ge=0, le=100_000)] = 60
    max_step_percent: Annotated[Decimal, Field(gt=Decimal(0), le=Decimal(100))] = Decimal(10)
    min_change: Money = Decimal("0.50")
    endings: tuple[Decimal, ...] = ()
    # circuit breaker (per account, per run)
    breaker_floor_share: Annotated[Decimal, Field(gt=Decimal(0), le=Decimal(1))] = Decimal("0.5")
    breaker_min_offers: Annotated[int, Field(ge=1)] = 5

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.seller_min is not None and self.seller_max is not None and self.seller_min > self.seller_max:
            raise ValueError(f"seller_min {self.seller_min} is above seller_max {self.seller_max}")
        if self.min_margin_percent + Decimal(0) >= 100:
            raise ValueError("min_margin_percent must be below 100")
        for ending in self.endings:
            if not (Decimal(0) <= ending < 1) or ending != ending.quantize(CENT):
                raise ValueError(f"ending {ending} must be cents between 0.00 and 0.99")
        return self

    @property
    def scope(self) -> str:
        return f"{self.account or '*'}#{self.category_id or '*'}#{self.sku or '*'}"


class SettingsIndex:
    """The seller's settings by scope, so choosing one for an offer is at most 8 lookups, not a scan."""

    def __init__(self, all_settings: Iterable[RepricingSettings]) -> None:
        self._by_scope = {(s.account, s.category_id, s.sku): s for s in all_settings}
        self._default = RepricingSettings()

    def for_offer(self, account: str, category_id: str | None, sku: str) -> RepricingSettings:
        """The most specific match: SKU, then category, then account; defaults (strategy none) otherwise."""
        for s in (sku, None):
            for c in (category_id, None):
                for a in (account, None):
                    found = self._by_scope.get((a, c, s))
                    if found is not None:
                        return found
        return self._default


def settings_for(
    all_settings: Iterable[RepricingSettings], account: str, category_id: str | None, sku: str
) -> RepricingSettings:
    return SettingsIndex(all_settings).for_offer(account, category_id, sku)


# --- fees and bounds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearFee:
    """Allegro's fee for one category and price band as `fixed + rate * price`, measured by two previews."""

    fixed: Decimal
    rate: Decimal

    def at(self, price: Decimal) -> Decimal:
        return (self.fixed + self.rate * price).quantize(CENT, rounding=ROUND_HALF_UP)


FeeAt = Callable[[Decimal], Decimal]


class FeesUnknown(RuntimeError):
    """A fee function could not tell the fee (Allegro's preview failed): the offer is not repriced."""


@dataclass(frozen=True)
class Bounds:
    floor: Decimal | None
    ceiling: Decimal | None
    floor_reason: str
    ceiling_reason: str
    problem: str | None = None  # why this offer cannot be repriced automatically


def cost_floor(cost: Decimal, settings: RepricingSettings, fee_at: FeeAt) -> tuple[Decimal | None, str, int]:
    """The lowest price that still covers cost, fees, shipping share and the minimum margin.

    Fees depend on the price, so this is a fixed point p = cost + shipping + fee(p) + margin(p), found by
    iterating from p0 = cost + shipping (each step only raises p when fee and margin grow with the price).
    Bounded to FEE_ITERATIONS; no convergence (fees plus margin eat the whole price) gives None.
    Returns (floor, how it was made up, iterations used).
    """

    def required(p: Decimal) -> Decimal:
        margin = max(settings.min_margin_amount, p * settings.min_margin_percent / 100)
        return cost + settings.shipping_share + fee_at(p) + margin

    price = (cost + settings.shipping_share).quantize(CENT, rounding=ROUND_CEILING)
    for iteration in range(1, FEE_ITERATIONS + 1):
        needed = required(price).quantize(CENT, rounding=ROUND_CEILING)
        if needed <= price:
            fee = fee_at(price)
            margin = price - cost - settings.shipping_share - fee
            note = f"cost {cost} + fees {fee} + shipping {settings.shipping_share} + margin {margin:.2f}"
            return price, note, iteration
        price = needed
    return None, "fees and margin do not converge below the price", FEE_ITERATIONS


def bounds_for(  # noqa: PLR0911 - one return per named problem
    *, cost: Decimal | None, list_price: Decimal | None, settings: RepricingSettings, fee_at: FeeAt | None
) -> Bounds:
    """Floor = max(seller's minimum, cost floor); ceiling = seller's maximum, else the list price.

    A missing cost price means no automatic repricing: the floor would be a guess.
    """
    ceiling = settings.seller_max if settings.seller_max is not None else list_price
    ceiling_reason = "seller maximum" if settings.seller_max is not None else "list price"
    if cost is None:
        return Bounds(None, ceiling, "", ceiling_reason, problem="no cost price: not repriced automatically")
    if fee_at is None:
        return Bounds(None, ceiling, "", ceiling_reason, problem="Allegro fees unknown for the category")
    try:
        floor, floor_reason, _ = cost_floor(cost, settings, fee_at)
    except FeesUnknown as error:
        return Bounds(None, ceiling, "", ceiling_reason, problem=f"Allegro fees unknown: {error}")
    if floor is None:
        return Bounds(None, ceiling, floor_reason, ceiling_reason, problem=floor_reason)
    if settings.seller_min is not None and settings.seller_min > floor:
        floor, floor_reason = settings.seller_min, "seller minimum"
    if ceiling is None:
        return Bounds(floor, None, floor_reason, "", problem="no ceiling: no seller maximum or list price")
    if floor > ceiling:
        problem = f"floor {floor} ({floor_reason}) is above the ceiling {ceiling} ({ceiling_reason})"
        return Bounds(floor, ceiling, floor_reason, ceiling_reason, problem=problem)
    return Bounds(floor, ceiling, floor_reason, ceiling_reason)


# --- inputs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetitorPrice:
    sku: str
    competitor: str  # the rival's seller id or name
    price: Decimal


@dataclass(frozen=True)
class OfferInput:
    """Everything planning needs about one offer; gathered by the service."""

    account: str
    offer_id: str
    sku: str
    category_id: str | None
    price: Decimal  # current price on Allegro
    cost: Decimal | None
    list_price: Decimal | None
    stock: int | None = None
    sold_30d: int | None = None
    visits_30d: int | None = None
    last_changed_at: datetime | None = None
    listed_since: datetime | None = None  # Allegro's `publication.startedAt` (the last activation)
    competitors: tuple[CompetitorPrice, ...] = ()
    assigned_range: tuple[str, Decimal, Decimal] | None = None  # (rule type, min, max) last assigned


class Action(StrEnum):
    SET_PRICE = "set_price"
    ASSIGN_RULE = "assign_rule"
    HOLD = "hold"
    SKIP = "skip"  # cannot be repriced (a problem a seller must fix)


@dataclass(frozen=True)
class RepriceDecision:
    """One offer's decision with its reasons, ready for the change log and for `prices why`."""

    account: str
    offer_id: str
    sku: str
    strategy: Strategy
    action: Action
    old_price: Decimal
    new_price: Decimal | None = None
    floor: Decimal | None = None
    ceiling: Decimal | None = None
    bound: str = ""  # the bound that applied ("floor: cost...", "ceiling: list price") or ""
    rule_type: str | None = None
    steps: tuple[str, ...] = ()
    inputs: dict[str, str] = field(default_factory=dict)
    at_floor: bool = False  # the strategy wanted the floor or lower (circuit breaker input)
    waiting_for_history: bool = False  # the demand strategy held: the offer has no full sales window yet

    @property
    def changes_price(self) -> bool:
        return self.action is Action.SET_PRICE

    def explain(self) -> str:
        head = f"{self.account}/{self.offer_id} ({self.sku}) [{self.strategy}] "
        if self.action is Action.SET_PRICE:
            head += f"{self.old_price} -> {self.new_price}"
        elif self.action is Action.ASSIGN_RULE:
            head += f"rule {self.rule_type} in [{self.floor}, {self.ceiling}]"
        else:
            head += f"{self.action.value} at {self.old_price}"
        return head + ": " + "; ".join(self.steps)


# --- strategies -------------------------------------------------------------------------------------------


def clean_competitors(
    prices: Iterable[CompetitorPrice], own_sellers: frozenset[str], outlier_percent: Decimal
) -> tuple[list[Decimal], list[str]]:
    """Rival prices without our own accounts and without outliers (below median * (1 - X%)), sorted."""
    notes: list[str] = []
    kept = []
    for p in prices:
        if p.competitor in own_sellers:
            notes.append(f"ignored {p.competitor} (our own account)")
        else:
            kept.append(p)
    values = sorted(p.price for p in kept)
    if len(values) >= 3:
        limit = Decimal(median(values)) * (1 - outlier_percent / 100)
        outliers = [v for v in values if v < limit]
        if outliers:
            notes.append(f"ignored outliers {', '.join(map(str, outliers))} (below {limit:.2f})")
            values = [v for v in values if v >= limit]
    return values, notes


def feed_target(  # noqa: PLR0911 - one return per documented case
    offer: OfferInput, s: RepricingSettings, own_sellers: frozenset[str]
) -> tuple[Decimal | None, list[str]]:
    """The price the competitor strategy wants, or None to hold; with the reasons."""
    values, notes = clean_competitors(offer.competitors, own_sellers, s.outlier_percent)
    if not values:
        return None, [*notes, "no competitor prices: hold"]
    lowest = values[0]
    notes.append(f"lowest rival {lowest}" + (f", next {values[1]}" if len(values) > 1 else ""))
    if s.hold_on_tie and offer.price == lowest:
        return None, [*notes, "tie with the lowest rival: hold"]
    if not s.raise_when_cheapest and offer.price < lowest:
        return None, [*notes, "already cheapest: hold"]

    def beaten(reference: Decimal) -> Decimal:
        cut = max(s.beat_amount, (reference * s.beat_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP))
        return reference - cut

    if s.feed_mode == "match":
        return lowest, [*notes, f"match the lowest {lowest}"]
    if s.feed_mode == "rank" and s.rank > 1:
        if len(values) < s.rank:
            return values[-1], [*notes, f"rank {s.rank} wanted, {len(values)} rivals: match the highest"]
        reference = values[s.rank - 1]
        return beaten(reference), [*notes, f"stay at rank {s.rank}: just under {reference}"]
    target = beaten(lowest)
    return target, [*notes, f"beat the lowest {lowest} -> {target}"]


DEMAND_WINDOW_DAYS = 30  # Allegro's `stock.sold` counts the last 30 days


def sales_history(offer: OfferInput, now: datetime) -> str | None:
    """None when the offer's 30-day sales figure covers a full window (listed, without a break, for at
    least 30 days); else why the demand strategy must wait: "sold 0 in 30 days" means nothing for an offer
    listed minutes ago."""
    if offer.listed_since is None:
        return "Allegro gives no listing date for this offer: the demand strategy waits for one"
    listed = now - offer.listed_since
    if listed >= timedelta(days=DEMAND_WINDOW_DAYS):
        return None
    ready = offer.listed_since + timedelta(days=DEMAND_WINDOW_DAYS)
    return (
        f"no sales history yet: listed {listed.days} day(s) ago (since "
        f"{offer.listed_since.isoformat(timespec='minutes')}); the demand strategy acts once the offer has "
        f"a full {DEMAND_WINDOW_DAYS}-day sales window, from {ready.isoformat(timespec='minutes')}"
    )


def demand_target(offer: OfferInput, s: RepricingSettings, now: datetime) -> tuple[Decimal | None, list[str]]:
    """Up when stock runs low or sales outrun it, down when an offer with stock stopped selling; nothing
    until the offer has a full sales window (`sales_history`)."""
    stock, sold = offer.stock, offer.sold_30d
    if stock is None or sold is None:
        return None, ["no stock or sales figures: hold"]
    step = (offer.price * s.demand_step_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    facts = f"stock {stock}, sold {sold} in 30 days, visits {offer.visits_30d}"
    waiting = sales_history(offer, now)
    if waiting is not None:
        return None, [facts, f"{waiting}: hold"]
    if stock > 0 and sold == 0:
        return offer.price - step, [facts, f"no sales with stock: down {s.demand_step_percent}%"]
    if sold > 0:
        cover_days = Decimal(stock) * 30 / sold
        if stock <= s.low_stock or cover_days < s.min_cover_days:
            why = f"stock covers {cover_days:.1f} days" if stock > s.low_stock else "stock is low"
            return offer.price + step, [facts, f"{why}: up {s.demand_step_percent}%"]
    return None, [facts, "demand matches stock: hold"]


# --- the guard --------------------------------------------------------------------------------------------


def snap(price: Decimal, floor: Decimal, ceiling: Decimal, endings: Sequence[Decimal]) -> Decimal:
    """The nearest price with an allowed ending inside [floor, ceiling]; the bound itself if none fits."""
    price = min(max(price, floor), ceiling).quantize(CENT, rounding=ROUND_HALF_UP)
    if not endings:
        return price
    for candidate in (
        round_to_ending(price, endings, "nearest"),
        round_to_ending(price, endings, "down"),
        round_to_ending(price, endings, "up"),
    ):
        if floor <= candidate <= ceiling:
            return candidate
    return price


def guard(
    offer: OfferInput,
    s: RepricingSettings,
    bounds: Bounds,
    target: Decimal,
    *,
    now: datetime,
    steps: list[str],
) -> tuple[Action, Decimal | None, str, bool]:
    """Target -> (action, new price, bound that applied, wanted the floor or lower); stays in the bounds."""
    floor, ceiling = bounds.floor, bounds.ceiling
    if floor is None or ceiling is None:
        raise ValueError("guard needs both bounds")
    wanted_floor = target <= floor
    max_step = (offer.price * s.max_step_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    price = target
    if abs(price - offer.price) > max_step:
        price = offer.price + max_step if price > offer.price else offer.price - max_step
        steps.append(f"limited to {s.max_step_percent}% per step -> {price}")
    bound = ""
    if price < floor:
        bound = f"floor {floor} ({bounds.floor_reason})"
    elif price > ceiling:
        bound = f"ceiling {ceiling} ({bounds.ceiling_reason})"
    new = snap(price, floor, ceiling, s.endings)
    if bound:
        steps.append(f"clamped to the {bound} -> {new}")
    elif new != price:
        steps.append(f"price ending -> {new}")
    outside = not (floor <= offer.price <= ceiling)
    if new == offer.price:
        steps.append("no change")
        return Action.HOLD, None, bound, wanted_floor
    if abs(new - offer.price) < s.min_change and not outside:
        steps.append(f"change {new - offer.price:+} below the threshold {s.min_change}: hold")
        return Action.HOLD, None, bound, wanted_floor
    if offer.last_changed_at is not None and now - offer.last_changed_at < timedelta(
        minutes=s.cooldown_minutes
    ):
        until = offer.last_changed_at + timedelta(minutes=s.cooldown_minutes)
        steps.append(f"cool-down until {until.isoformat(timespec='minutes')}: hold")
        return Action.HOLD, None, bound, wanted_floor
    return Action.SET_PRICE, new, bound, wanted_floor


def decide(
    offer: OfferInput,
    s: RepricingSettings,
    fee_at: FeeAt | None,
    now: datetime,
    own_sellers: frozenset[str] = frozenset(),
) -> RepriceDecision:
    """One offer: bounds, then its strategy, then the guard."""
    inputs = {"cost": str(offer.cost), "list_price": str(offer.list_price), "settings": s.scope}

    def made(
        action: Action, steps: Iterable[str], bounds: Bounds | None = None, **more: Any
    ) -> RepriceDecision:
        return RepriceDecision(
            account=offer.account,
            offer_id=offer.offer_id,
            sku=offer.sku,
            strategy=s.strategy,
            action=action,
            old_price=offer.price,
            floor=bounds.floor if bounds else None,
            ceiling=bounds.ceiling if bounds else None,
            steps=tuple(steps),
            inputs=inputs,
            **more,
        )

    if s.strategy is Strategy.NONE:
        return made(Action.SKIP, ("no repricing rule",))
    bounds = bounds_for(cost=offer.cost, list_price=offer.list_price, settings=s, fee_at=fee_at)
    if bounds.problem or bounds.floor is None or bounds.ceiling is None:
        return made(Action.SKIP, (bounds.problem or "no bounds",), bounds)
    steps = [
        f"floor {bounds.floor} ({bounds.floor_reason}), ceiling {bounds.ceiling} ({bounds.ceiling_reason})"
    ]
    if s.strategy is Strategy.ALLEGRO:
        if _range_still_fits(offer.assigned_range, s, bounds.floor, bounds.ceiling):
            steps.append(f"{s.allegro_rule} already assigned with a range inside the bounds, close enough")
            return made(Action.HOLD, steps, bounds)
        steps.append(f"assign {s.allegro_rule} with range [{bounds.floor}, {bounds.ceiling}]")
        return made(Action.ASSIGN_RULE, steps, bounds, rule_type=s.allegro_rule)
    if s.strategy is Strategy.FEED:
        target, notes = feed_target(offer, s, own_sellers)
        inputs["competitors"] = ", ".join(f"{c.competitor}={c.price}" for c in offer.competitors)
    else:
        target, notes = demand_target(offer, s, now)
        inputs.update(stock=str(offer.stock), sold_30d=str(offer.sold_30d), visits_30d=str(offer.visits_30d))
    steps.extend(notes)
    wanted = offer.price if target is None else target  # hold, unless the price left the bounds
    action, new, bound, wanted_floor = guard(offer, s, bounds, wanted, now=now, steps=steps)
    waiting = s.strategy is Strategy.DEMAND and offer.stock is not None and offer.sold_30d is not None
    return made(
        action,
        steps,
        bounds,
        new_price=new,
        bound=bound,
        at_floor=wanted_floor and target is not None,
        waiting_for_history=waiting and sales_history(offer, now) is not None,
    )


def _range_still_fits(
    assigned: tuple[str, Decimal, Decimal] | None, s: RepricingSettings, floor: Decimal, ceiling: Decimal
) -> bool:
    """Re-assigning costs a command per distinct range, so a range that is still safe (min at or above the
    floor, max at or below the ceiling) and within `range_tolerance_percent` of them is kept."""
    if assigned is None or assigned[0] != s.allegro_rule:
        return False
    low, high = assigned[1], assigned[2]
    slack = s.range_tolerance_percent / 100
    return floor <= low <= floor * (1 + slack) and ceiling * (1 - slack) <= high <= ceiling


@dataclass(frozen=True)
class AccountPlan:
    account: str
    decisions: list[RepriceDecision]
    breaker_tripped: bool = False
    breaker_reason: str = ""

    @property
    def changes(self) -> list[RepriceDecision]:
        return [d for d in self.decisions if d.action in (Action.SET_PRICE, Action.ASSIGN_RULE)]


def plan_account(
    account: str,
    offers: Iterable[OfferInput],
    *,
    all_settings: Sequence[RepricingSettings],
    fees: Callable[[str | None], FeeAt | None],
    now: datetime,
    own_sellers: frozenset[str] = frozenset(),
    offer_fees: Callable[[OfferInput, FeeAt | None], FeeAt | None] | None = None,
) -> AccountPlan:
    """Every offer of one account, then the circuit breaker over the whole run.

    `fees(category_id)` gives the category's fee function (None: unknown); `offer_fees(offer, fee)` may widen
    it for one offer (its fees on the other marketplaces it sells on). The breaker trips when at least
    `breaker_min_offers` repriced offers and more than `breaker_floor_share` of them would hit the floor:
    then no change is applied for the account and every changing decision becomes a HOLD that says why.
    """
    index = SettingsIndex(all_settings)
    fee_by_category: dict[str | None, FeeAt | None] = {}
    decisions: list[RepriceDecision] = []
    for offer in offers:
        s = index.for_offer(account, offer.category_id, offer.sku)
        if offer.category_id not in fee_by_category:
            fee_by_category[offer.category_id] = fees(offer.category_id)
        fee_at = fee_by_category[offer.category_id]
        if offer_fees is not None:  # issue 16: an offer sold on other marketplaces too (their fees)
            fee_at = offer_fees(offer, fee_at)
        decisions.append(decide(offer, s, fee_at, now, own_sellers))
    repriced = [
        d for d in decisions if d.strategy in (Strategy.FEED, Strategy.DEMAND) and d.action is not Action.SKIP
    ]
    at_floor = sum(d.at_floor for d in repriced)
    account_settings = index.for_offer(account, None, "")
    if repriced and len(repriced) >= account_settings.breaker_min_offers:
        share = Decimal(at_floor) / len(repriced)
        if share > account_settings.breaker_floor_share:
            reason = (
                f"circuit breaker: {at_floor} of {len(repriced)} offers would hit the floor "
                f"(more than {account_settings.breaker_floor_share:.0%}); repricing paused"
            )
            paused = [_paused(d, reason) if d.action is Action.SET_PRICE else d for d in decisions]
            return AccountPlan(account, paused, breaker_tripped=True, breaker_reason=reason)
    return AccountPlan(account, decisions)


def _paused(d: RepriceDecision, reason: str) -> RepriceDecision:
    return replace(
        d, action=Action.HOLD, new_price=None, steps=(*d.steps, f"would be {d.new_price}; {reason}")
    )
