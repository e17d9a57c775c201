"""Repricing domain: bounds with fees, the strategies, the guard, the circuit breaker, the feed."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allegro_sync.domain.repricing import (
    Action,
    CompetitorPrice,
    LinearFee,
    OfferInput,
    RepricingSettings,
    Strategy,
    bounds_for,
    cost_floor,
    decide,
    plan_account,
    settings_for,
)
from allegro_sync.domain.repricing_feed import FeedFormatError, parse_feed

D = Decimal
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FEE = LinearFee(fixed=D("1.00"), rate=D("0.10"))


def offer(price: str = "100.00", **kw: object) -> OfferInput:
    base: dict[str, object] = {
        "account": "acc",
        "offer_id": "o1",
        "sku": "SKU-1",
        "category_id": "101",
        "price": D(price),
        "cost": D("50.00"),
        "list_price": D("120.00"),
        "listed_since": NOW - timedelta(days=60),  # a full 30-day sales window
    }
    base.update(kw)
    return OfferInput(**base)  # type: ignore[arg-type]


def rivals(*prices: str) -> tuple[CompetitorPrice, ...]:
    return tuple(CompetitorPrice("SKU-1", f"rival{i}", D(p)) for i, p in enumerate(prices))


FEED = RepricingSettings(strategy=Strategy.FEED, min_change=D("0.01"), max_step_percent=D(50))


def test_floor_is_a_fixed_point_over_the_price_dependent_fee() -> None:
    s = RepricingSettings(min_margin_amount=D("5.00"), shipping_share=D("4.00"))
    floor, note, iterations = cost_floor(D("50.00"), s, FEE.at)
    assert floor is not None
    # p = 50 + 4 + (1 + 0.1 p) + 5  ->  p = 66.67 (rounded up to the cent)
    assert floor == D("66.67")
    assert floor - FEE.at(floor) - D("54.00") >= D("5.00")
    assert 1 < iterations <= 20
    assert "fees" in note


def test_margin_percent_counts_on_the_price_and_too_much_never_converges() -> None:
    s = RepricingSettings(min_margin_percent=D(20))
    floor, _, _ = cost_floor(D("70.00"), s, FEE.at)
    assert floor is not None
    assert floor - FEE.at(floor) - D(70) >= floor * D("0.2") - D("0.01")
    greedy = RepricingSettings(min_margin_percent=D(95))
    assert cost_floor(D("70.00"), greedy, FEE.at)[0] is None


def test_missing_cost_means_no_repricing_and_says_so() -> None:
    decision = decide(offer(cost=None, competitors=rivals("80.00")), FEED, FEE.at, NOW)
    assert decision.action is Action.SKIP
    assert "no cost price" in decision.explain()


def test_seller_minimum_wins_when_higher_and_floor_above_ceiling_is_a_problem() -> None:
    s = RepricingSettings(strategy=Strategy.FEED, seller_min=D("90.00"))
    b = bounds_for(cost=D("50.00"), list_price=D("120.00"), settings=s, fee_at=FEE.at)
    assert (b.floor, b.floor_reason, b.ceiling, b.ceiling_reason) == (
        D(90),
        "seller minimum",
        D(120),
        "list price",
    )
    bad = bounds_for(cost=D("200.00"), list_price=D("120.00"), settings=s, fee_at=FEE.at)
    assert bad.problem is not None
    assert "above the ceiling" in bad.problem


def test_beat_the_lowest_rival_ignoring_our_own_account_and_outliers() -> None:
    o = offer(
        competitors=(*rivals("95.00", "97.00", "99.00", "20.00"), CompetitorPrice("SKU-1", "me", D("60")))
    )
    d = decide(o, FEED, FEE.at, NOW, own_sellers=frozenset({"me"}))
    assert d.action is Action.SET_PRICE
    assert d.new_price == D("94.99")
    assert "outliers 20.00" in d.explain()
    assert "our own account" in d.explain()


def test_feed_modes_match_rank_tie_and_raise() -> None:
    match = FEED.model_copy(update={"feed_mode": "match"})
    assert decide(offer(competitors=rivals("95.00", "97.00")), match, FEE.at, NOW).new_price == D("95.00")
    rank2 = FEED.model_copy(update={"feed_mode": "rank", "rank": 2})
    assert decide(offer(competitors=rivals("95.00", "97.00")), rank2, FEE.at, NOW).new_price == D("96.99")
    tie = decide(offer("95.00", competitors=rivals("95.00", "97.00")), FEED, FEE.at, NOW)
    assert tie.action is Action.HOLD
    assert "tie" in tie.explain()
    cheapest = decide(offer("80.00", competitors=rivals("95.00")), FEED, FEE.at, NOW)
    assert cheapest.new_price == D("94.99")
    stay = FEED.model_copy(update={"raise_when_cheapest": False})
    assert decide(offer("80.00", competitors=rivals("95.00")), stay, FEE.at, NOW).action is Action.HOLD


def test_guard_clamps_to_floor_limits_step_rounds_and_skips_small_changes() -> None:
    s = RepricingSettings(
        strategy=Strategy.FEED, max_step_percent=D(5), endings=(D("0.99"),), min_change=D("1.00")
    )
    d = decide(offer(competitors=rivals("60.00")), s, FEE.at, NOW)
    assert d.new_price == D("94.99")  # 100 - 5 % = 95.00, then the ending x.99 inside the bounds
    s2 = s.model_copy(update={"max_step_percent": D(100)})
    low = decide(offer(cost=D("58.00"), competitors=rivals("60.00", "61.00")), s2, FEE.at, NOW)
    assert low.floor == D("65.56")  # 58 + 1 + 10 % of the price
    assert low.new_price == D("65.99")  # the first x.99 at or above the floor
    assert low.bound.startswith("floor")
    small = decide(
        offer("95.50", competitors=rivals("95.10")), s2.model_copy(update={"endings": ()}), FEE.at, NOW
    )
    assert small.action is Action.HOLD
    assert "threshold" in small.explain()


def test_cool_down_holds_a_recent_change() -> None:
    recent = offer(competitors=rivals("90.00"), last_changed_at=NOW - timedelta(minutes=10))
    d = decide(recent, FEED, FEE.at, NOW)
    assert d.action is Action.HOLD
    assert "cool-down" in d.explain()
    later = offer(competitors=rivals("90.00"), last_changed_at=NOW - timedelta(minutes=61))
    assert decide(later, FEED, FEE.at, NOW).action is Action.SET_PRICE


def test_demand_steps_up_on_low_stock_and_down_when_nothing_sells() -> None:
    s = RepricingSettings(strategy=Strategy.DEMAND, min_change=D("0.01"))
    up = decide(offer(stock=2, sold_30d=10), s, FEE.at, NOW)
    assert up.new_price == D("103.00")
    down = decide(offer(stock=40, sold_30d=0), s, FEE.at, NOW)
    assert down.new_price == D("97.00")
    steady = decide(offer(stock=40, sold_30d=20), s, FEE.at, NOW)
    assert steady.action is Action.HOLD
    at_floor = decide(offer("67.00", stock=40, sold_30d=0), s, FEE.at, NOW)
    assert at_floor.new_price is None or at_floor.new_price >= (at_floor.floor or 0)


def test_demand_does_nothing_until_the_offer_has_a_full_sales_window() -> None:
    s = RepricingSettings(strategy=Strategy.DEMAND, min_change=D("0.01"))
    fresh = decide(offer(stock=40, sold_30d=0, listed_since=NOW - timedelta(minutes=20)), s, FEE.at, NOW)
    assert (fresh.action, fresh.new_price, fresh.waiting_for_history) == (Action.HOLD, None, True)
    assert (
        "no sales history yet: listed 0 day(s) ago (since 2026-11-27T11:40+00:00); the demand strategy acts "
        "once the offer has a full 30-day sales window, from 2026-12-27T11:40+00:00: hold"
    ) in fresh.steps
    undated = decide(offer(stock=40, sold_30d=0, listed_since=None), s, FEE.at, NOW)
    assert (undated.action, undated.waiting_for_history) == (Action.HOLD, True)
    full = decide(offer(stock=40, sold_30d=0, listed_since=NOW - timedelta(days=30)), s, FEE.at, NOW)
    assert (full.new_price, full.waiting_for_history) == (D("97.00"), False)


def test_allegro_rule_is_assigned_once_per_range() -> None:
    s = RepricingSettings(strategy=Strategy.ALLEGRO, allegro_rule="FOLLOW_BY_TOP_OFFER_PRICE")
    d = decide(offer(), s, FEE.at, NOW)
    assert d.action is Action.ASSIGN_RULE
    assert (d.rule_type, d.ceiling) == ("FOLLOW_BY_TOP_OFFER_PRICE", D("120.00"))
    assert d.floor is not None
    again = decide(offer(assigned_range=("FOLLOW_BY_TOP_OFFER_PRICE", d.floor, D("120.00"))), s, FEE.at, NOW)
    assert again.action is Action.HOLD
    rule = "FOLLOW_BY_TOP_OFFER_PRICE"
    close = decide(offer(assigned_range=(rule, d.floor + 1, D("119.00"))), s, FEE.at, NOW)
    assert close.action is Action.HOLD  # still inside the bounds and within 2 %: no command spent
    unsafe = decide(offer(assigned_range=(rule, d.floor - D("0.01"), D("120.00"))), s, FEE.at, NOW)
    assert unsafe.action is Action.ASSIGN_RULE  # a min below the floor is never kept
    other = decide(offer(assigned_range=("FOLLOW_BY_MARKET_MIN_PRICE", d.floor, D("120.00"))), s, FEE.at, NOW)
    assert other.action is Action.ASSIGN_RULE


def test_most_specific_settings_win() -> None:
    rules = [
        RepricingSettings(account="acc", strategy=Strategy.DEMAND),
        RepricingSettings(category_id="101", strategy=Strategy.ALLEGRO),
        RepricingSettings(sku="SKU-1", strategy=Strategy.FEED),
    ]
    assert settings_for(rules, "acc", "101", "SKU-1").strategy is Strategy.FEED
    assert settings_for(rules, "acc", "101", "SKU-2").strategy is Strategy.ALLEGRO
    assert settings_for(rules, "acc", "999", "SKU-2").strategy is Strategy.DEMAND
    assert settings_for(rules, "other", "999", "SKU-2").strategy is Strategy.NONE


def test_bad_settings_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="seller_min"):
        RepricingSettings(seller_min=D(10), seller_max=D(5))
    with pytest.raises(ValueError, match="ending"):
        RepricingSettings(endings=(D("1.50"),))


def test_circuit_breaker_pauses_the_account_when_most_offers_would_hit_the_floor() -> None:
    s = [RepricingSettings(strategy=Strategy.FEED, max_step_percent=D(100), min_change=D("0.01"))]
    offers = [offer(offer_id=f"o{i}", competitors=rivals("10.00", "11.00", "12.00")) for i in range(6)]
    plan = plan_account("acc", offers, all_settings=s, fees=lambda _: FEE.at, now=NOW)
    assert plan.breaker_tripped
    assert all(d.action is not Action.SET_PRICE for d in plan.decisions)
    assert "circuit breaker" in plan.decisions[0].explain()
    healthy = [offer(offer_id=f"o{i}", competitors=rivals("95.00")) for i in range(6)]
    ok = plan_account("acc", healthy, all_settings=s, fees=lambda _: FEE.at, now=NOW)
    assert not ok.breaker_tripped
    assert len(ok.changes) == 6


# --- properties -------------------------------------------------------------------------------------------

money = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)


@settings(max_examples=150, deadline=None)
@given(
    price=money,
    cost=money,
    list_price=money,
    rival_prices=st.lists(money, max_size=6),
    mode=st.sampled_from(["match", "beat", "rank"]),
    step=st.decimals(min_value=D("0.5"), max_value=D(100), places=1),
    endings=st.sampled_from([(), (D("0.99"),), (D("0.00"), D("0.49"))]),
    strategy=st.sampled_from([Strategy.FEED, Strategy.DEMAND]),
    stock=st.integers(0, 100),
    sold=st.integers(0, 100),
    seller_min=st.none() | money,
)
def test_an_applied_price_never_leaves_the_bounds(  # noqa: PLR0917 - hypothesis inputs
    price: Decimal,
    cost: Decimal,
    list_price: Decimal,
    rival_prices: list[Decimal],
    mode: Literal["match", "beat", "rank"],
    step: Decimal,
    endings: tuple[Decimal, ...],
    strategy: Strategy,
    stock: int,
    sold: int,
    seller_min: Decimal | None,
) -> None:
    s = RepricingSettings(
        strategy=strategy,
        feed_mode=mode,
        max_step_percent=step,
        endings=endings,
        seller_min=seller_min,
        rank=2,
    )
    o = offer(
        str(price),
        cost=cost,
        list_price=list_price,
        stock=stock,
        sold_30d=sold,
        competitors=tuple(CompetitorPrice("SKU-1", f"r{i}", p) for i, p in enumerate(rival_prices)),
    )
    d = decide(o, s, FEE.at, NOW)
    if d.action is Action.SET_PRICE:
        assert d.floor is not None
        assert d.ceiling is not None
        assert d.new_price is not None
        assert d.floor <= d.new_price <= d.ceiling
        assert d.new_price == d.new_price.quantize(D("0.01"))


@settings(max_examples=100, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 240), min_size=1, max_size=12),
    cooldown=st.integers(1, 120),
    rival=money,
)
def test_no_offer_changes_twice_within_a_cool_down(gaps: list[int], cooldown: int, rival: Decimal) -> None:
    s = RepricingSettings(strategy=Strategy.FEED, cooldown_minutes=cooldown, min_change=D("0.01"))
    now, last, price, applied = NOW, None, D("100.00"), []
    for i, gap in enumerate(gaps):
        now = now + timedelta(minutes=gap)
        # the rival moves every round so there is always a reason to change
        competitors = (CompetitorPrice("SKU-1", "r", rival + i),)
        d = decide(offer(str(price), last_changed_at=last, competitors=competitors), s, FEE.at, now)
        if d.action is Action.SET_PRICE and d.new_price is not None:
            applied.append(now)
            last, price = now, d.new_price
    for a, b in itertools.pairwise(applied):
        assert b - a >= timedelta(minutes=cooldown)


garbage = st.sampled_from(["abc", "-5", "0", "", "NaN", "1e400", "12,3x", "inf"])


@settings(max_examples=100, deadline=None)
@given(
    bad=st.lists(
        st.tuples(st.sampled_from(["SKU-1", "NOPE"]), garbage, st.sampled_from(["PLN", "EUR"])), max_size=8
    )
)
def test_garbage_feed_rows_change_nothing(bad: list[tuple[str, str, str]]) -> None:
    good = "SKU-1,rival,95.00,PLN\n"
    rows = "".join(f"{sku},x,{price},{cur}\n" for sku, price, cur in bad)
    clean = parse_feed("sku,competitor,price,currency\n" + good, known_skus=frozenset({"SKU-1"}))
    dirty = parse_feed("sku,competitor,price,currency\n" + good + rows, known_skus=frozenset({"SKU-1"}))
    assert len(dirty.skipped) == len(bad)
    assert all(r.reason for r in dirty.skipped)
    assert dirty.prices == clean.prices
    a = decide(offer(competitors=tuple(clean.prices["SKU-1"])), FEED, FEE.at, NOW)
    b = decide(offer(competitors=tuple(dirty.prices["SKU-1"])), FEED, FEE.at, NOW)
    assert (a.action, a.new_price) == (b.action, b.new_price)


def test_feed_json_by_ean_and_unreadable_feeds() -> None:
    feed = (
        '{"prices": [{"ean": "5901234123457", "competitor": "x", "price": "9.99"},'
        ' {"ean": "1", "competitor": "y", "price": 5}]}'
    )
    result = parse_feed(feed, known_skus=frozenset({"SKU-1"}), ean_to_sku={"5901234123457": "SKU-1"})
    assert [p.price for p in result.prices["SKU-1"]] == [D("9.99")]
    assert result.skipped[0].reason == "unknown EAN '1'"
    with pytest.raises(FeedFormatError):
        parse_feed("name,value\na,1\n", known_skus=frozenset())
    with pytest.raises(FeedFormatError):
        parse_feed("{not json", known_skus=frozenset())
