"""The foreign-marketplace price rule (issue 16): conversion, markup, whole units, bounds, scope choice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from allegro_sync.domain.market_pricing import MarketRule, ScopedMarketRule, market_price, rules_for
from allegro_sync.domain.pricing import PricingRule


def _cz(**pricing: object) -> MarketRule:
    return MarketRule(
        marketplace="allegro-cz", rate=Decimal("5.8"), pricing=PricingRule(currency="CZK", **pricing)
    )


def test_a_czk_price_is_the_converted_price_in_whole_korunas() -> None:
    decision = market_price(Decimal("1428.99"), _cz())

    assert (decision.allegro_amount, decision.currency) == ("8288.00", "CZK")  # 8288.142
    assert "1428.99 PLN x 5.8" in decision.explanation


def test_markup_then_rounding_then_bounds() -> None:
    marked = market_price(Decimal("100.00"), _cz(markup_percent=Decimal(10)))
    assert marked.allegro_amount == "638.00"  # 580.00 + 10% = 638.00

    capped = market_price(Decimal("100.00"), _cz(max_price=Decimal(500)))
    assert capped.allegro_amount == "500.00"

    floored = market_price(Decimal("1.00"), _cz(min_price=Decimal(50)))
    assert floored.allegro_amount == "50.00"


def test_a_euro_price_keeps_its_cents_and_takes_the_sellers_ending() -> None:
    rule = MarketRule(
        marketplace="allegro-sk",
        rate=Decimal("0.2345"),
        pricing=PricingRule(currency="EUR", endings=(Decimal("0.99"),)),
    )

    assert market_price(Decimal("100.00"), rule).allegro_amount == "23.99"  # 23.45 -> .99 up


@pytest.mark.parametrize(
    "fields",
    [
        {"marketplace": "allegro-cz", "rate": Decimal(5), "pricing": PricingRule(currency="EUR")},
        {"marketplace": "allegro-cz", "pricing": PricingRule(currency="CZK")},  # no rate
        {
            "marketplace": "allegro-hu",
            "rate": Decimal(90),
            "pricing": PricingRule(currency="HUF", min_price=Decimal("10.50")),
        },
        {
            "marketplace": "allegro-cz",
            "rate": Decimal(5),
            "pricing": PricingRule(currency="CZK", endings=(Decimal("0.99"),)),
        },
    ],
)
def test_a_rule_that_cannot_give_a_valid_price_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MarketRule.model_validate(fields)


def test_allegros_rate_needs_no_rate_of_the_seller() -> None:
    rule = MarketRule(marketplace="allegro-cz", exchange="allegro", pricing=PricingRule(currency="CZK"))
    assert rule.rate is None


def test_the_most_specific_rule_wins_per_marketplace_and_off_removes_it() -> None:
    everywhere = ScopedMarketRule(rule=_cz())
    hungary = ScopedMarketRule(
        rule=MarketRule(marketplace="allegro-hu", rate=Decimal(92), pricing=PricingRule(currency="HUF"))
    )
    category_markup = ScopedMarketRule(category_id="101", rule=_cz(markup_percent=Decimal(5)))
    not_this_sku = ScopedMarketRule(
        sku="S-OFF",
        rule=MarketRule(marketplace="allegro-cz", enabled=False, pricing=PricingRule(currency="CZK")),
    )
    other_account = ScopedMarketRule(account_id="other", sku="S-1", rule=_cz(markup_percent=Decimal(50)))
    rules = [everywhere, hungary, category_markup, not_this_sku, other_account]

    chosen = rules_for(rules, "shop1", ("100", "101"), "S-1")
    assert [(r.marketplace, r.pricing.markup_percent) for r in chosen] == [
        ("allegro-cz", Decimal(5)),
        ("allegro-hu", Decimal(0)),
    ]
    assert [r.marketplace for r in rules_for(rules, "shop1", ("100", "101"), "S-OFF")] == ["allegro-hu"]
    assert rules_for([], "shop1", (), "S-1") == []
