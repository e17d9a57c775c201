"""Issue 16: a repriced offer's allegro.cz price follows its new PLN price through the seller's marketplace
rule, allegro.sk under Allegro's exchange-rate rule is left to Allegro, and both are said in the change log;
distinct new prices travel 25 offers to a bulk command instead of a price command each."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from allegro_sync.domain.market_pricing import MarketRule, ScopedMarketRule
from allegro_sync.domain.market_reprice import market_moves
from allegro_sync.domain.pricing import PricingRule
from allegro_sync.domain.repricing import RepricingSettings, Strategy
from allegro_sync.services.repricing import Repricer
from allegro_sync.services.repricing.market_prices import price_commands
from tests.fixtures.changes import FakeChangeLog
from tests.unit.repricing.test_service import DEMAND, T0, Facts, FakeAllegro, MemoryStore, listing

CZ = MarketRule(marketplace="allegro-cz", rate=Decimal("5.8"), pricing=PricingRule(currency="CZK"))
SK = MarketRule(marketplace="allegro-sk", exchange="allegro", pricing=PricingRule(currency="EUR"))


class Markets:
    """The seller's rules: allegro.cz for the parent category 10 of leaf 101, allegro.sk at Allegro's rate."""

    def __init__(self, *rules: ScopedMarketRule) -> None:
        self.rules = list(rules)

    def market_rules(self) -> list[ScopedMarketRule]:
        return self.rules

    def category_paths(self, account: str) -> dict[str, tuple[str, ...]]:
        return {"101": ("10", "101")}


def _on_cz(offer_id: str, czk: str) -> dict[str, Any]:
    return listing(offer_id, f"SKU-{offer_id}", 40, 0) | {
        "additionalMarketplaces": {
            "allegro-cz": {
                "publication": {"state": "APPROVED"},
                "sellingMode": {"price": {"amount": czk, "currency": "CZK"}},
            }
        }
    }


def test_the_czk_price_follows_the_new_pln_price_within_the_converted_bounds() -> None:
    [cz, sk] = market_moves(Decimal("97.00"), (Decimal("60.00"), Decimal("200.00")), [CZ, SK], {})

    assert (cz.marketplace, cz.currency, cz.new) == (
        "allegro-cz",
        "CZK",
        Decimal("563.00"),
    )  # 97 x 5.8 = 562.6
    assert "allegro-cz (CZK): None -> 563.00 CZK" in cz.note
    assert "60.00..200.00 PLN = 348.00..1160.00 CZK" in cz.note
    assert sk.new is None
    assert "allegro-sk (EUR): left to Allegro's exchange-rate rule" in sk.note


def test_a_round_moves_pln_and_czk_in_one_bulk_element_and_says_why() -> None:
    api = FakeAllegro([_on_cz("1", "580.00")])
    log = FakeChangeLog()
    markets = Markets(
        ScopedMarketRule(category_id="10", rule=CZ), ScopedMarketRule(account_id="acc", rule=SK)
    )

    report = Repricer(MemoryStore(DEMAND), Facts(), log, clock=lambda: T0, markets=markets).run_account(
        "acc", api
    )

    assert api.price_calls == []  # the price command would not reach allegro.cz (#9296)
    assert api.bulk_calls == [[("1", {"allegro-pl": "97.00 PLN", "allegro-cz": "563.00 CZK"})]]
    assert (report.applied, report.price_commands) == (1, 1)
    [change] = log.changes
    assert "allegro-cz (CZK): 580.00 -> 563.00 CZK" in change.reason
    assert "allegro-sk (EUR): left to Allegro's exchange-rate rule" in change.reason
    assert change.changes["repricing"]["new"]["inputs"]["allegro-cz"] == "580.00 -> 563.00 CZK"


def test_without_a_marketplace_rule_the_offer_moves_on_allegro_pl_only() -> None:
    api = FakeAllegro([_on_cz("1", "580.00")])
    Repricer(MemoryStore(DEMAND), Facts(), FakeChangeLog(), clock=lambda: T0, markets=Markets()).run_account(
        "acc", api
    )
    assert api.price_calls == [(["1"], "97.00")]
    assert api.bulk_calls == []


def test_distinct_prices_share_bulk_commands_within_the_round_budget_and_the_rest_waits() -> None:
    offers = [
        listing(str(i), f"S{i}", 40, 0)
        | {"sellingMode": {"price": {"amount": f"{100 + i}.00", "currency": "PLN"}}}
        for i in range(27)
    ]
    api = FakeAllegro(offers)
    settings = [RepricingSettings(strategy=Strategy.DEMAND, min_change=Decimal("0.01"))]

    report = Repricer(
        MemoryStore(settings), Facts(), FakeChangeLog(), clock=lambda: T0, max_commands=1
    ).run_account("acc", api)

    assert [len(call) for call in api.bulk_calls] == [25]  # 27 distinct prices: 25 in the one command allowed
    assert api.price_calls == []
    assert (report.applied, report.deferred, report.price_commands) == (25, 2, 1)
    waiting = [d for d in report.decisions if "DEFERRED" in d.explain()]
    assert len(waiting) == 2


def test_a_price_many_offers_share_keeps_its_one_price_command() -> None:
    # 30 offers at one price, three at their own: 4 price commands before, 1 + 1 bulk command now
    assert price_commands([30, 1, 1, 1]) == (4, 2)
    assert price_commands([1]) == (1, 1)  # one offer alone: a price command, no gain in bulk
