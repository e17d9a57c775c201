"""One repricing round per seller account: gather inputs, plan (pure domain), apply, record every change.

The round reads the account's active offers with their 30-day stats (GET /sale/offers), costs and list
prices from the catalogue, competitor prices from the seller's feed and Allegro's fees (`fees.FeeBook`). It
applies price changes as FIXED_PRICE batch commands (one command per distinct new price, 1000 offers each: a
command sets one value) and rule assignments as price-automation commands with the [floor, ceiling] range.
Every applied change goes to the one change log (`changes` table) with its reasons; `prices why` reads it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from allegro_sync.contracts.allegro import (
    OfferCommandResult,
    OfferListing,
    PriceIn,
    PriceModification,
    PriceRange,
)
from allegro_sync.contracts.allegro_errors import AllegroError
from allegro_sync.contracts.catalog import Change
from allegro_sync.contracts.repricing import FeedUnavailable, OfferState, ProductFacts
from allegro_sync.domain.repricing import (
    AccountPlan,
    Action,
    CompetitorPrice,
    OfferInput,
    RepriceDecision,
    RepricingSettings,
    Strategy,
    plan_account,
    settings_for,
)
from allegro_sync.domain.repricing_feed import FeedFormatError
from allegro_sync.services.repricing.fees import FeeBook, amount
from allegro_sync.services.repricing.market_fees import MarketFees
from allegro_sync.services.repricing.ports import (
    ChangeLog,
    FeedSource,
    ProductFactsSource,
    RepricingAllegro,
    RepricingStore,
)

PAUSE_MINUTES = 60
# A command is a PUT/POST plus ~2 task polls; 600 commands ~ 1,800 calls ~ 6 min of the repricer's 300 rpm,
# inside its 10-minute timeout with room for listing pages and fee previews. The rest waits for next round.
MAX_COMMANDS_PER_ROUND = 600


@dataclass
class RoundReport:
    account: str
    decisions: list[RepriceDecision] = field(default_factory=list)
    breaker_tripped: bool = False
    breaker_reason: str = ""
    paused_until: datetime | None = None
    applied: int = 0
    failed: int = 0
    price_commands: int = 0
    rule_commands: int = 0
    deferred: int = 0  # changes left for the next round (command budget)
    feed_skipped: list[str] = field(default_factory=list)
    error: str | None = None


class Repricer:
    """Runs rounds for accounts; `apply=False` plans only (dry run)."""

    def __init__(
        self,
        store: RepricingStore,
        products: ProductFactsSource,
        changes: ChangeLog,
        *,
        feed: FeedSource | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_commands: int = MAX_COMMANDS_PER_ROUND,
    ) -> None:
        if max_commands < 1:
            raise ValueError("max_commands must be at least 1")
        self._max_commands = max_commands
        self._store = store
        self._products = products
        self._changes = changes
        self._feed = feed
        self._clock = clock

    # ---- ownership (for the catalogue worker) -----------------------------------------------------------

    def owns_price(self, account: str, sku: str, category_id: str | None = None) -> bool:
        """True when a repricing rule sets this offer's price: shop price webhooks then only move the list
        price and the bounds, and the next round decides the Allegro price."""
        return settings_for(self._store.settings(), account, category_id, sku).strategy is not Strategy.NONE

    def owns_offer_price(self, account: str, offer_id: str) -> bool:
        state = self._store.offer_states(account).get(offer_id)
        return state is not None and self.owns_price(account, state.sku)

    # ---- history --------------------------------------------------------------------------------------

    def why(self, key: str, *, limit: int = 50) -> list[Change]:
        """Price changes of a SKU, or of the offer with this id on any account we know."""
        history = [c for c in self._changes.history(key, limit=limit) if c.action.startswith("price")]
        if history:
            return history
        return [c for c in self._history_of_offer(key, limit) if c.offer_id == key]

    def _history_of_offer(self, offer_id: str, limit: int) -> list[Change]:
        sku = self._store.offer_sku(offer_id)
        if sku is None:
            return []
        return [c for c in self._changes.history(sku, limit=limit) if c.action.startswith("price")]

    # ---- a round ------------------------------------------------------------------------------------------

    def run_account(self, account: str, client: RepricingAllegro, *, apply: bool = True) -> RoundReport:
        now = self._clock()
        report = RoundReport(account)
        all_settings = self._store.settings()
        me = client.me()
        self._store.record_seller(account, me.id, me.login)
        own = self._store.own_sellers() | {me.id, me.login or me.id}
        states = self._store.offer_states(account)
        listings = [o for o in client.iter_offers(statuses=["ACTIVE"]) if o.external and o.external.id]
        known = self._products.facts_many([str(o.external.id) for o in listings if o.external], account)
        facts = {o.id: known.get(str(o.external.id)) for o in listings if o.external}
        competitors = self._competitors(listings, facts, report) if self._needs_feed(all_settings) else {}
        offers = [_offer_input(account, o, facts.get(o.id), states.get(o.id), competitors) for o in listings]
        fees = FeeBook(self._store, client, now)
        markets = MarketFees(self._store, client, now, listings)  # issue 16: fees on allegro.cz, .sk, .hu
        plan = plan_account(
            account,
            offers,
            all_settings=all_settings,
            fees=fees.for_category,
            now=now,
            own_sellers=own,
            offer_fees=markets.for_offer,
        )
        campaigns = self._campaigns(client, report)
        plan = _campaign_holds(plan, campaigns)
        paused = self._store.paused_until(account)
        if plan.breaker_tripped:
            until = now + timedelta(minutes=PAUSE_MINUTES)
            report.breaker_tripped, report.breaker_reason, report.paused_until = (
                True,
                plan.breaker_reason,
                until,
            )
            if apply:
                self._store.pause(account, until, plan.breaker_reason)
        elif paused is not None and paused[0] > now:
            report.paused_until = paused[0]
            plan = _hold_all(
                plan, f"repricing paused until {paused[0].isoformat(timespec='minutes')}: {paused[1]}"
            )
        report.decisions = plan.decisions
        if apply:
            self._apply(account, client, plan, states, now, report)
            if campaigns is not None:
                self._note_campaigns(account, listings, campaigns, states, now)
        return report

    # ---- campaigns (issue 14, item 7) ---------------------------------------------------------------------
    # An offer in an Allegro campaign (Allegro Ceny, AlleObniżka, ...) sells at the campaign's price while its
    # own `sellingMode.price` stays the seller's (#4345, #13617) and its price rules pause (#9578). Its
    # data in the spec has no field for it; `GET /sale/badges` shows it. The round neither fights that price
    # nor records price changes no buyer would see; `prices why` shows when a campaign took the price over.

    def _campaigns(self, client: RepricingAllegro, report: RoundReport) -> dict[str, str] | None:
        """Offer id -> "campaign (price)" for offers whose campaign is ACTIVE; None: Allegro did not say."""
        try:
            badges = client.campaign_badges()
        except AllegroError as error:
            report.error = f"campaigns unknown (GET /sale/badges): {error}"
            return None
        return {
            b.offer.id: f"{b.campaign.name or b.campaign.id} at {b.campaign_price() or '?'}"
            for b in badges
            if b.process is not None and b.process.status == "ACTIVE"
        }

    def _note_campaigns(
        self,
        account: str,
        listings: list[OfferListing],
        campaigns: Mapping[str, str],
        states: dict[str, OfferState],
        now: datetime,
    ) -> None:
        """One entry in the change log when a campaign takes an offer's price over, and one when it ends."""
        for listing in listings:
            sku = str(listing.external.id) if listing.external else ""
            old = states.get(listing.id, OfferState(sku=sku))
            new = campaigns.get(listing.id)
            if old.campaign == new:
                continue
            self._store.save_offer_state(account, listing.id, replace(old, sku=sku, campaign=new))
            reason = (
                f"Allegro campaign {new} owns the buyer's price: repricing holds until it ends (#9578)"
                if new
                else f"the Allegro campaign ({old.campaign}) ended: repricing decides this price again"
            )
            self._changes.record(
                Change(
                    sku=sku,
                    account=account,
                    offer_id=listing.id,
                    action="price_campaign",
                    changes={"campaign": {"old": old.campaign, "new": new}},
                    reason=reason,
                    rule="allegro:campaign",
                    at=now.isoformat(timespec="seconds"),
                )
            )

    def _needs_feed(self, all_settings: Sequence[RepricingSettings]) -> bool:
        return self._feed is not None and any(s.strategy is Strategy.FEED for s in all_settings)

    def _competitors(
        self, listings: list[OfferListing], facts: dict[str, ProductFacts | None], report: RoundReport
    ) -> dict[str, tuple[CompetitorPrice, ...]]:
        assert self._feed is not None
        skus = frozenset(str(o.external.id) for o in listings if o.external and o.external.id)
        eans = {
            f.ean: str(o.external.id) for o in listings if o.external and (f := facts.get(o.id)) and f.ean
        }
        try:
            result = self._feed.load(known_skus=skus, ean_to_sku=eans)
        except (FeedUnavailable, FeedFormatError) as error:
            report.error = f"competitor feed: {error}"  # feed offers hold this round
            return {}
        report.feed_skipped = [f"row {s.row}: {s.reason}" for s in result.skipped]
        return {sku: tuple(prices) for sku, prices in result.prices.items()}

    def _apply(  # noqa: PLR0917 - the round's context
        self,
        account: str,
        client: RepricingAllegro,
        plan: AccountPlan,
        states: dict[str, OfferState],
        now: datetime,
        report: RoundReport,
    ) -> None:
        self._record_waiting(account, plan, states, now)
        outcome: dict[str, str] = {}
        by_price: dict[Decimal, list[RepriceDecision]] = defaultdict(list)
        by_rule: dict[tuple[str, Decimal, Decimal], list[RepriceDecision]] = defaultdict(list)
        report.deferred = 0
        for d in plan.decisions:
            if d.action is Action.SET_PRICE and d.new_price is not None:
                by_price[d.new_price].append(d)
            elif (
                d.action is Action.ASSIGN_RULE
                and d.rule_type
                and d.floor is not None
                and d.ceiling is not None
            ):
                by_rule[(d.rule_type, d.floor, d.ceiling)].append(d)
        budget = self._max_commands
        groups = sorted(
            [("price", key, g) for key, g in by_price.items()]
            + [("rule", key, g) for key, g in by_rule.items()],
            key=lambda item: -len(item[2]),  # the most offers per command first
        )
        kept: set[object] = set()
        for kind, key, group in groups:
            cost = -(-len(group) // 1000)
            if cost <= budget:
                budget -= cost
                kept.add((kind, key))
            else:
                report.deferred += len(group)
                for d in group:
                    outcome[d.offer_id] = f"DEFERRED (this round's {self._max_commands} commands are used)"
        by_price = {k: g for k, g in by_price.items() if ("price", k) in kept}
        by_rule = {k: g for k, g in by_rule.items() if ("rule", k) in kept}
        for price, group in sorted(by_price.items()):
            modification = PriceModification(type="FIXED_PRICE", price=PriceIn(amount=amount(price)))
            try:
                results = client.change_price([d.offer_id for d in group], modification)
            except AllegroError as error:  # record what did change, retry the rest next round
                results, report.error = list(error.completed), str(error)
                results += [
                    OfferCommandResult(offer_id=d.offer_id, status="FAIL", message=str(error), command_id="")
                    for d in group[len(results) :]
                ]
            report.price_commands += -(-len(group) // 1000)
            self._settle(account, group, results, states, now, report, outcome)
        if by_rule:
            rule_ids = {r.type: r.id for r in client.price_automation_rules() if r.default}
            for (rule_type, low, high), group in by_rule.items():
                try:
                    results = client.assign_price_automation(
                        [d.offer_id for d in group],
                        rule_ids[rule_type],
                        PriceRange(
                            min_price=PriceIn(amount=amount(low)), max_price=PriceIn(amount=amount(high))
                        ),
                    )
                except AllegroError as error:
                    results, report.error = list(error.completed), str(error)
                    results += [
                        OfferCommandResult(
                            offer_id=d.offer_id, status="FAIL", message=str(error), command_id=""
                        )
                        for d in group[len(results) :]
                    ]
                report.rule_commands += -(-len(group) // 1000)
                self._settle(account, group, results, states, now, report, outcome)
        report.decisions = [
            replace(d, steps=(*d.steps, f"Allegro: {outcome[d.offer_id]}")) if d.offer_id in outcome else d
            for d in report.decisions
        ]

    def _record_waiting(
        self, account: str, plan: AccountPlan, states: dict[str, OfferState], now: datetime
    ) -> None:
        """A demand offer without sales history is held; said once in the change log (an offer the
        repricer has no state for yet), so `prices why` explains why nothing happens."""
        for d in plan.decisions:
            if d.waiting_for_history and d.offer_id not in states:
                self._store.save_offer_state(account, d.offer_id, OfferState(sku=d.sku))
                self._changes.record(_change(d, "HELD", now))

    def _settle(  # noqa: PLR0917 - the round's context, kept in one place
        self,
        account: str,
        group: list[RepriceDecision],
        results: list[OfferCommandResult],
        states: dict[str, OfferState],
        now: datetime,
        report: RoundReport,
        outcome: dict[str, str],
    ) -> None:
        by_offer = {r.offer_id: r for r in results}
        for d in group:
            result = by_offer.get(d.offer_id)
            status = result.status if result else "PENDING"
            outcome[d.offer_id] = status + (f" ({result.message})" if result and result.message else "")
            if status == "FAIL":
                report.failed += 1
                continue
            report.applied += 1
            old = states.get(d.offer_id, OfferState(sku=d.sku))
            if (
                d.action is Action.ASSIGN_RULE
                and d.rule_type
                and d.floor is not None
                and d.ceiling is not None
            ):
                state = replace(old, sku=d.sku, assigned_range=(d.rule_type, d.floor, d.ceiling))
            else:
                state = replace(old, sku=d.sku, last_changed_at=now, assigned_range=None)
            self._store.save_offer_state(account, d.offer_id, state)
            self._changes.record(_change(d, status, now))


def run_round(
    repricer: Repricer, clients: Mapping[str, RepricingAllegro], *, apply: bool = True
) -> list[RepriceDecision]:
    """One round over every account; the decisions with `.explain()` (the demo prints them)."""
    decisions: list[RepriceDecision] = []
    for account, client in clients.items():
        decisions.extend(repricer.run_account(account, client, apply=apply).decisions)
    return decisions


# --- helpers ----------------------------------------------------------------------------------------------


def _offer_input(
    account: str,
    listing: OfferListing,
    facts: ProductFacts | None,
    state: OfferState | None,
    competitors: Mapping[str, tuple[CompetitorPrice, ...]],
) -> OfferInput:
    sku = str(listing.external.id) if listing.external else ""
    price = listing.selling_mode.price if listing.selling_mode else None
    return OfferInput(
        account=account,
        offer_id=listing.id,
        sku=sku,
        category_id=listing.category.id if listing.category else None,
        price=Decimal(price.amount) if price else Decimal(0),
        cost=facts.cost if facts else None,
        list_price=facts.list_price if facts else None,
        stock=facts.stock
        if facts and facts.stock is not None
        else (listing.stock.available if listing.stock else None),
        sold_30d=listing.stock.sold if listing.stock else None,
        visits_30d=listing.stats.visits_count if listing.stats else None,
        last_changed_at=state.last_changed_at if state else None,
        listed_since=_listed_since(listing),
        assigned_range=state.assigned_range if state else None,
        competitors=competitors.get(sku, ()),
    )


def _listed_since(listing: OfferListing) -> datetime | None:
    """`publication.startedAt`; None when missing or unreadable (the demand strategy then waits)."""
    raw = listing.publication.started_at if listing.publication else None
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _campaign_holds(plan: AccountPlan, campaigns: Mapping[str, str] | None) -> AccountPlan:
    """Offers a campaign owns change nothing (price or rule); unknown campaigns hold every price."""
    if campaigns is None:
        return _hold_all(plan, "Allegro did not say which offers are in campaigns (GET /sale/badges)")
    held = [
        replace(
            d,
            action=Action.HOLD,
            new_price=None,
            steps=(*d.steps, f"held: Allegro campaign {campaigns[d.offer_id]} sets the buyer's price"),
        )
        if d.offer_id in campaigns and d.action in (Action.SET_PRICE, Action.ASSIGN_RULE)
        else d
        for d in plan.decisions
    ]
    return replace(plan, decisions=held)


def _hold_all(plan: AccountPlan, reason: str) -> AccountPlan:
    held = [
        replace(d, action=Action.HOLD, new_price=None, steps=(*d.steps, f"would be {d.new_price}; {reason}"))
        if d.action is Action.SET_PRICE
        else d
        for d in plan.decisions
    ]
    return AccountPlan(plan.account, held)


def _change(d: RepriceDecision, status: str, now: datetime) -> Change:
    changes: dict[str, dict[str, Any]]
    if d.waiting_for_history:
        action, changes = "price_wait", {}
        rule = f"repricing:{d.strategy}"
    elif d.action is Action.ASSIGN_RULE:
        action, changes = "price_rule", {"price_range": {"old": None, "new": [str(d.floor), str(d.ceiling)]}}
        rule = f"repricing:{d.strategy}:{d.rule_type}"
    else:
        action, changes = "price", {"price": {"old": str(d.old_price), "new": str(d.new_price)}}
        rule = f"repricing:{d.strategy}"
    details = {
        "bound": d.bound,
        "floor": str(d.floor),
        "ceiling": str(d.ceiling),
        "inputs": d.inputs,
        "allegro": status,
    }
    return Change(
        sku=d.sku,
        account=d.account,
        offer_id=d.offer_id,
        action=action,
        changes={**changes, "repricing": {"old": None, "new": json.loads(json.dumps(details))}},
        reason="; ".join(d.steps),
        rule=rule,
        at=now.isoformat(timespec="seconds"),
    )
