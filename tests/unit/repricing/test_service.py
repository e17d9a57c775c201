"""The round's bookkeeping with fakes: a refused offer is not recorded and not cooled down, unknown fees stop
an offer with the reason, a paused account changes nothing, the fee book measures a line per band once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from allegro_sync.contracts import allegro as api
from allegro_sync.contracts.allegro_errors import AllegroError
from allegro_sync.contracts.bulk import BulkModification, BulkResult
from allegro_sync.contracts.repricing import OfferState, ProductFacts
from allegro_sync.domain.repricing import Action, LinearFee, RepricingSettings, Strategy
from allegro_sync.services.repricing import Repricer
from tests.fixtures.changes import FakeChangeLog

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class FakeAllegro:
    def __init__(self, offers: list[dict[str, Any]], refuse: frozenset[str] = frozenset()) -> None:
        self.offers = [api.OfferListing.model_validate(o) for o in offers]
        self.refuse = refuse
        self.previews: list[str] = []
        self.fee_error = False
        self.price_calls: list[tuple[list[str], str]] = []
        self.badges: list[api.Badge] = []  # issue 14: offers in Allegro campaigns
        self.pages_listed = 0
        self.bulk_calls: list[list[tuple[str, dict[str, str]]]] = []

    def campaign_badges(self) -> list[api.Badge]:
        return list(self.badges)

    def me(self) -> api.Me:
        return api.Me(id="me-1")

    def iter_offers(self, *, statuses: Sequence[str] = ()) -> Iterator[api.OfferListing]:
        yield from self.offers

    def list_offers(
        self, *, statuses: Sequence[str] = (), offset: int = 0, limit: int = 1000
    ) -> api.OffersPage:
        self.pages_listed += 1
        page = self.offers[offset : offset + limit]
        return api.OffersPage(offers=page, count=len(page), total_count=len(self.offers))

    def change_price(
        self, offer_ids: Iterable[str], modification: api.PriceModification
    ) -> list[api.OfferCommandResult]:
        ids = list(offer_ids)
        assert modification.price is not None
        self.price_calls.append((ids, modification.price.amount))
        return [
            api.OfferCommandResult(
                offer_id=i, status="FAIL" if i in self.refuse else "SUCCESS", command_id="c"
            )
            for i in ids
        ]

    def bulk_modify(self, command_id: str, modifications: Sequence[BulkModification]) -> list[BulkResult]:
        """Issue 16: each offer's own prices, every marketplace in one element."""
        self.bulk_calls.append(
            [(m.offer_id, {k: f"{v.value.amount} {v.value.currency}" for k, v in (m.prices or {}).items()})
             for m in modifications]
        )  # fmt: skip
        return [
            BulkResult(
                offer_id=m.offer_id,
                field="prices",
                status="FAIL" if m.offer_id in self.refuse else "SUCCESS",
                command_id=command_id,
            )
            for m in modifications
        ]

    def price_automation_rules(self) -> list[api.PriceAutomationRule]:
        return []

    def assign_price_automation(
        self, offer_ids: Iterable[str], rule_id: str, price_range: api.PriceRange
    ) -> list[api.OfferCommandResult]:
        raise AssertionError("not used")

    def offer_fee_preview(self, body: Mapping[str, Any]) -> api.FeePreview:
        if self.fee_error:
            raise AllegroError("fee preview unavailable")
        amount = Decimal(body["offer"]["sellingMode"]["price"]["amount"])
        self.previews.append(str(amount))
        fee = (amount * Decimal("0.1") + 1).quantize(Decimal("0.01"))
        return api.FeePreview(commissions=[{"fee": {"amount": str(fee), "currency": "PLN"}}])


class MemoryStore:
    def __init__(self, settings: list[RepricingSettings]) -> None:
        self._settings = settings
        self.states: dict[tuple[str, str], OfferState] = {}
        self.pauses: dict[str, tuple[datetime, str]] = {}
        self.fees: dict[tuple[str, int], LinearFee] = {}

    def settings(self) -> list[RepricingSettings]:
        return self._settings

    def offer_states(self, account: str) -> dict[str, OfferState]:
        return {o: s for (a, o), s in self.states.items() if a == account}

    def save_offer_state(self, account: str, offer_id: str, state: OfferState) -> None:
        self.states[(account, offer_id)] = state

    def paused_until(self, account: str) -> tuple[datetime, str] | None:
        return self.pauses.get(account)

    def pause(self, account: str, until: datetime, reason: str) -> None:
        self.pauses[account] = (until, reason)

    def fee(self, category_id: str, band: int, now: datetime) -> LinearFee | None:
        return self.fees.get((category_id, band))

    def save_fee(self, category_id: str, band: int, fee: LinearFee, expires: datetime) -> None:
        self.fees[(category_id, band)] = fee

    def own_sellers(self) -> frozenset[str]:
        return frozenset()

    def record_seller(self, account: str, seller_id: str, login: str | None = None) -> None:
        pass

    def offer_sku(self, offer_id: str) -> str | None:
        return next((s.sku for (_, o), s in self.states.items() if o == offer_id), None)


class Facts:
    def facts(self, sku: str, account: str) -> ProductFacts | None:
        return ProductFacts(cost=Decimal("50.00"), list_price=Decimal("200.00"))

    def facts_many(self, skus: Sequence[str], account: str, *, stock: bool = True) -> dict[str, ProductFacts]:
        return {sku: ProductFacts(cost=Decimal("50.00"), list_price=Decimal("200.00")) for sku in skus}


def listing(offer_id: str, sku: str, stock: int, sold: int) -> dict[str, Any]:
    return {
        "id": offer_id,
        "external": {"id": sku},
        "category": {"id": "101"},
        "sellingMode": {"price": {"amount": "100.00", "currency": "PLN"}},
        "stock": {"available": stock, "sold": sold},
        "stats": {"visitsCount": 10},
        "publication": {"status": "ACTIVE", "startedAt": "2026-09-01T08:00:00Z"},  # 87 days before T0
    }


DEMAND = [RepricingSettings(strategy=Strategy.DEMAND, min_change=Decimal("0.01"))]


def test_a_refused_offer_is_not_recorded_and_can_try_again_next_round() -> None:
    api = FakeAllegro([listing("1", "A", 40, 0), listing("2", "B", 40, 0)], refuse=frozenset({"2"}))
    store, log = MemoryStore(DEMAND), FakeChangeLog()
    report = Repricer(store, Facts(), log, clock=lambda: T0).run_account("acc", api)
    assert api.price_calls == [(["1", "2"], "97.00")]  # one command: both want the same price
    assert (report.applied, report.failed) == (1, 1)
    assert [c.offer_id for c in log.changes] == ["1"]
    assert set(store.states) == {("acc", "1")}  # only the applied offer is cooling down
    assert "FAIL" in {d.offer_id: d for d in report.decisions}["2"].explain()


def test_fees_are_measured_once_per_category_and_band_and_a_failed_preview_stops_the_offer() -> None:
    api = FakeAllegro([listing("1", "A", 40, 0), listing("2", "B", 40, 0)])
    store = MemoryStore(DEMAND)
    Repricer(store, Facts(), FakeChangeLog(), clock=lambda: T0).run_account("acc", api, apply=False)
    assert api.previews == ["50.00", "99.99"]  # the 50-100 band, both ends, once for both offers
    assert store.fees[("101", 2)].at(Decimal("60.00")) == Decimal("7.00")

    broken = FakeAllegro([listing("1", "A", 40, 0)])
    broken.fee_error = True
    report = Repricer(MemoryStore(DEMAND), Facts(), FakeChangeLog(), clock=lambda: T0).run_account(
        "acc", broken
    )
    (decision,) = report.decisions
    assert decision.action is Action.SKIP
    assert "fees unknown" in decision.explain()


def test_a_paused_account_plans_but_applies_nothing_until_the_pause_ends() -> None:
    api = FakeAllegro([listing("1", "A", 40, 0)])
    store = MemoryStore(DEMAND)
    store.pause("acc", T0 + timedelta(minutes=30), "circuit breaker: test")
    report = Repricer(store, Facts(), FakeChangeLog(), clock=lambda: T0).run_account("acc", api)
    assert api.price_calls == []
    assert "paused until" in report.decisions[0].explain()
    Repricer(store, Facts(), FakeChangeLog(), clock=lambda: T0 + timedelta(minutes=31)).run_account(
        "acc", api
    )
    assert api.price_calls == [(["1"], "97.00")]


def test_a_new_offer_waits_for_sales_history_and_prices_why_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listed minutes ago, "sold 0 in 30 days" means nothing: the demand strategy holds, says so once."""
    from typer.testing import CliRunner

    from allegro_sync.bootstrap import Application
    from allegro_sync.cli.main import app
    from allegro_sync.topology import TOPOLOGY, secret_env, table_env

    fresh = listing("7702", "NEW-1", 40, 0) | {
        "publication": {"status": "ACTIVE", "startedAt": "2026-11-27T11:40:00Z"}
    }
    api = FakeAllegro([fresh])
    store, log = MemoryStore(DEMAND), FakeChangeLog()
    repricer = Repricer(store, Facts(), log, clock=lambda: T0)

    repricer.run_account("acc", api)
    repricer.run_account("acc", api)

    assert api.price_calls == []
    (said,) = log.changes  # once, not every round
    assert (said.action, said.offer_id, said.summary) == ("price_wait", "7702", "")
    assert "no sales history yet: listed 0 day(s) ago" in said.reason

    spec = TOPOLOGY.function("repricer")
    for name in [table_env(t) for t in spec.tables] + [secret_env(s) for s in spec.secrets]:
        monkeypatch.setenv(name, "unused")
    monkeypatch.setattr(Application, "repricer", lambda self: repricer)
    result = CliRunner().invoke(app, ["prices", "why", "NEW-1", "--json"])
    assert result.exit_code == 0, result.output
    assert '"what": "held, waiting for sales history"' in result.output
    assert "the demand strategy acts once the offer has a full 30-day sales window" in result.output


# --- issue 14, item 7 (allegro-misc): campaign prices ---------------------------------------------------


def _in_campaign(offer_id: str, price: str) -> api.Badge:
    return api.Badge.model_validate(
        {
            "offer": {"id": offer_id},
            "campaign": {"id": "SUBSIDY", "name": "Allegro Ceny"},
            "prices": {"subsidy": {"targetPrice": {"amount": price, "currency": "PLN"}}},
            "process": {"status": "ACTIVE"},
        }
    )


def test_an_offer_in_a_campaign_is_neither_repriced_nor_logged_as_changed_and_why_says_so() -> None:
    api = FakeAllegro([listing("1", "A", 40, 0), listing("2", "B", 40, 0)])
    api.badges = [_in_campaign("2", "89.00")]
    store, log = MemoryStore(DEMAND), FakeChangeLog()
    repricer = Repricer(store, Facts(), log, clock=lambda: T0)

    report = repricer.run_account("acc", api)

    assert api.price_calls == [(["1"], "97.00")]  # offer 2's campaign price is left alone
    held = {d.offer_id: d for d in report.decisions}["2"]
    assert held.action is Action.HOLD
    assert "Allegro Ceny at 89.00" in held.explain()
    assert [(c.offer_id, c.action) for c in log.changes] == [("1", "price"), ("2", "price_campaign")]
    assert "campaign" in log.changes[1].reason

    api.badges = []  # the campaign ends: the next round prices the offer again and says why
    later = Repricer(store, Facts(), log, clock=lambda: T0 + timedelta(hours=2)).run_account("acc", api)
    assert {d.offer_id: d for d in later.decisions}["2"].action is Action.SET_PRICE
    assert "ended" in log.changes[-1].reason or "ended" in log.changes[-2].reason
