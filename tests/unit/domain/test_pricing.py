"""Pricing rules: Decimal-exact, explainable, endings respected, never outside the seller's bounds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from allegro_sync.domain.pricing import (
    PriceDecision,
    PricingError,
    PricingPolicy,
    PricingRule,
    ScopedRule,
    price_for_allegro,
    round_to_ending,
)

D = Decimal


def test_markup_fixed_amount_and_ending_with_explanation() -> None:
    rule = PricingRule(
        name="allegro +15%", markup_percent=D(15), markup_amount=D("2.50"), endings=(D("0.99"),)
    )
    decision = price_for_allegro(D("100.00"), rule)
    assert decision.amount == D("117.99")
    assert decision.to_allegro() == {"amount": "117.99", "currency": "PLN"}
    assert [s.step for s in decision.steps] == [
        "shop_price",
        "rule",
        "markup_percent",
        "markup_amount",
        "ending",
    ]
    assert decision.explanation == (
        "shop price -> 100.00; rule 'allegro +15%' -> 100.00; +15% -> 115.00; +2.50 PLN -> 117.50; "
        "rounded up to x.99 -> 117.99"
    )


@pytest.mark.parametrize(
    ("amount", "endings", "rounding", "expected"),
    [
        ("10.20", ("0.49", "0.99"), "up", "10.49"),
        ("10.50", ("0.49", "0.99"), "up", "10.99"),
        ("10.50", ("0.49", "0.99"), "down", "10.49"),
        ("10.80", ("0.99",), "nearest", "10.99"),
        ("10.40", ("0.99",), "nearest", "9.99"),
        ("10.49", ("0.00",), "nearest", "10.00"),
        ("10.50", ("0.00",), "nearest", "11.00"),
        ("10.99", ("0.99",), "down", "10.99"),
    ],
)
def test_round_to_ending(amount: str, endings: tuple[str, ...], rounding: str, expected: str) -> None:
    assert round_to_ending(D(amount), [D(e) for e in endings], rounding) == D(expected)


def test_clamps_win_and_reround_inwards_when_an_ending_fits() -> None:
    rule = PricingRule(
        markup_percent=D(50), endings=(D("0.99"),), min_price=D("20.00"), max_price=D("100.00")
    )
    low = price_for_allegro(D("5.00"), rule)
    assert low.amount == D("20.99")
    assert low.steps[-1].step == "min_price"
    assert "next allowed ending" in low.steps[-1].note
    assert price_for_allegro(D("1000"), rule).amount == D("99.99")
    # No x.99 between 10.50 and 10.60: the bound itself, explained.
    tight = PricingRule(endings=(D("0.99"),), min_price=D("10.50"), max_price=D("10.60"))
    assert price_for_allegro(D("1"), tight).amount == D("10.50")


def test_bad_input_is_refused_with_a_clear_error() -> None:
    with pytest.raises(PricingError, match="Decimal"):
        price_for_allegro(10.5, PricingRule())  # type: ignore[arg-type]
    with pytest.raises(PricingError, match="negative"):
        price_for_allegro(D("-1"), PricingRule())
    with pytest.raises(PricingError, match="needs > 0"):
        price_for_allegro(D("5"), PricingRule(markup_amount=D("-10")))
    with pytest.raises(ValidationError, match="above max_price"):
        PricingRule(min_price=D(10), max_price=D(5))
    with pytest.raises(ValidationError, match=r"between 0\.00 and 0\.99"):
        PricingRule(endings=(D("1.99"),))
    with pytest.raises(ValidationError):
        PricingRule(markup_percent=D(-100))


def test_policy_picks_the_most_specific_rule() -> None:
    default = PricingRule(name="default")
    seller_a = PricingRule(name="account A")
    electronics = PricingRule(name="electronics")
    headphones = PricingRule(name="headphones")
    headphones_a = PricingRule(name="headphones for A")
    policy = PricingPolicy(
        rules=(
            ScopedRule(rule=default),
            ScopedRule(account_id="A", rule=seller_a),
            ScopedRule(category_id="1", rule=electronics),
            ScopedRule(category_id="101", rule=headphones),
            ScopedRule(account_id="A", category_id="101", rule=headphones_a),
        )
    )
    assert policy.rule_for("A", ["1", "10", "101"]).name == "headphones for A"
    assert policy.rule_for("B", ["1", "10", "101"]).name == "headphones"
    assert policy.rule_for("B", ["1", "10", "102"]).name == "electronics"
    assert policy.rule_for("A", ["2", "20"]).name == "account A"
    assert policy.rule_for("B", ["2"]).name == "default"
    with pytest.raises(PricingError, match="no pricing rule"):
        PricingPolicy(rules=(ScopedRule(account_id="A", rule=seller_a),)).rule_for("B", ["1"])
    with pytest.raises(ValidationError, match="same account/category"):
        PricingPolicy(rules=(ScopedRule(rule=default), ScopedRule(rule=seller_a)))


_money = st.decimals(min_value=D("0"), max_value=D("100000"), places=2)
_endings = st.lists(st.sampled_from([D("0.00"), D("0.49"), D("0.90"), D("0.95"), D("0.99")]), max_size=3)


@st.composite
def _rules(draw: st.DrawFn) -> PricingRule:
    low = draw(st.none() | st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2))
    high = draw(st.none() | st.decimals(min_value=low or D("0.01"), max_value=D("200000"), places=2))
    return PricingRule(
        markup_percent=draw(st.decimals(min_value=D("-50"), max_value=D("300"), places=2)),
        markup_amount=draw(st.decimals(min_value=D("-20"), max_value=D("50"), places=2)),
        endings=tuple(draw(_endings)),
        rounding=draw(st.sampled_from(["up", "down", "nearest"])),
        min_price=low,
        max_price=high,
    )


@settings(max_examples=200, deadline=None)
@given(_money, _rules())
def test_price_is_within_bounds_has_an_ending_when_possible_and_is_exact(
    shop: Decimal, rule: PricingRule
) -> None:
    try:
        decision = price_for_allegro(shop, rule)
    except PricingError:
        assume(False)
        raise
    price = decision.amount
    assert isinstance(price, Decimal)
    assert price == price.quantize(D("0.01"))
    assert D(decision.allegro_amount) == price
    assert price > 0
    if rule.min_price is not None:
        assert price >= rule.min_price
    if rule.max_price is not None:
        assert price <= rule.max_price
    cents = price - int(price)
    if rule.endings and decision.steps[-1].step not in ("min_price", "max_price"):
        assert cents in rule.endings
    if rule.endings and decision.steps[-1].amount not in (rule.min_price, rule.max_price):
        assert cents in rule.endings
    assert decision.steps[-1].amount == price or decision.steps[-1].step in ("shop_price", "rule")
    # The explanation replays to the same number: every step says where the amount went.
    assert PriceDecision.model_validate(decision.model_dump()).explanation.endswith(f"{price:.2f}")


@settings(max_examples=200, deadline=None)
@given(_money, st.decimals(min_value=D("0"), max_value=D("100"), places=2))
def test_markup_only_never_lowers_the_price_and_is_cent_exact(shop: Decimal, percent: Decimal) -> None:
    assume(shop > 0)
    price = price_for_allegro(shop, PricingRule(markup_percent=percent)).amount
    exact = shop * (1 + percent / 100)
    assert price >= shop
    assert abs(price - exact) <= D("0.005")


def test_minimum_margin_over_cost_is_a_floor_and_explained() -> None:
    rule = PricingRule(name="margin", endings=(D("0.99"),), min_price=D("5.00"), min_margin_percent=D(20))
    decision = price_for_allegro(D("10.00"), rule, cost_price=D("9.50"))
    assert decision.amount == D("11.99")  # cost 9.50 + 20% = 11.40, then the next x.99
    assert decision.steps[-1].step == "min_margin"
    assert "cost 9.50 +20% = 11.40" in decision.explanation
    # Without a cost price the margin cannot apply; the plain minimum still does.
    assert price_for_allegro(D("1.00"), rule).amount == D("5.99")
    with pytest.raises(PricingError, match=r"is 11\.00, above the maximum price 10"):
        price_for_allegro(D("1"), PricingRule(min_margin_percent=D(10), max_price=D(10)), cost_price=D(10))


@settings(max_examples=200, deadline=None)
@given(_money, _money, _rules(), st.decimals(min_value=D("0"), max_value=D("100"), places=1))
def test_never_below_cost_plus_margin(
    shop: Decimal, cost: Decimal, base: PricingRule, margin: Decimal
) -> None:
    rule = base.model_copy(update={"min_margin_percent": margin})
    try:
        decision = price_for_allegro(shop, rule, cost_price=cost)
    except PricingError:
        assume(False)
        raise
    assert decision.amount >= cost * (1 + margin / 100)
    if rule.max_price is not None:
        assert decision.amount <= rule.max_price
