"""One repricing round per seller account: gather inputs, plan (pure domain), apply, record every change.

The round reads the account's active offers with their 30-day stats (GET /sale/offers), costs and list
prices from the catalogue, competitor prices from the seller's feed and Allegro's fees (`fees.FeeBook`). It
applies price changes as FIXED_PRICE batch commands (one command per new price shared by 25 offers or more,
1000 offers each: a command sets one value), the other prices and every offer's allegro.cz/.sk/.hu prices as
bulk commands (each offer its own prices, 25 a command: `market_prices`), and rule assignments as
price-automation commands with the [floor, ceiling] range.
Every applied change goes to the one change log (`changes` table) with its reasons; `prices why` reads it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

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
from allegro_sync.domain.market_pricing import ScopedMarketRule
from allegro_sync.domain.repricing import (
    AccountPlan,
    Action,
    CompetitorPrice,
    RepriceDecision,
    RepricingSettings,
    SettingsIndex,
    Strategy,
    plan_account,
    settings_for,
)
from allegro_sync.domain.repricing_feed import FeedFormatError
from allegro_sync.services.repricing import market_prices
from allegro_sync.services.repricing.fees import FeeBook, amount
from allegro_sync.services.repricing.market_fees import MarketFees
from allegro_sync.services.repricing.plans import campaign_holds, change_entry, hold_all, offer_input
from allegro_sync.services.repricing.ports import (
    ChangeLog,
    FeedSource,
    ProductFactsSource,
    RepricingAllegro,
    RepricingStore,
)
from allegro_sync.services.sweep_clock import SweepClock

PAUSE_MINUTES = 60
PAGE_SIZE = 1000  # offers per GET /sale/offers page, the most Allegro gives
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
    pages: int = 0
    planned: int = 0  # offers planned (their decisions are kept unless the caller only wants counts)
    continues_at: int | None = None  # the offset the next run goes on from; None: the account is done
    # feed rows skipped on every page so far (a SKU unknown on one page may be on the next)
    feed_skipped_by_page: set[str] | None = None


@dataclass
class _Round:
    """One account's round, read once and shared by its pages."""

    account: str
    client: RepricingAllegro
    apply: bool
    now: datetime
    all_settings: list[RepricingSettings]
    index: SettingsIndex
    own: frozenset[str]
    states: dict[str, OfferState]
    fees: FeeBook
    campaigns: dict[str, str] | None
    paused: tuple[datetime, str] | None
    keep_decisions: bool = True
    market_rules: list[ScopedMarketRule] = field(default_factory=list)  # issue 16: allegro.cz, .sk, .hu
    category_paths: dict[str, tuple[str, ...]] = field(default_factory=dict)


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
        markets: market_prices.MarketRulesSource | None = None,
    ) -> None:
        if max_commands < 1:
            raise ValueError("max_commands must be at least 1")
        self._max_commands = max_commands
        self._store = store
        self._products = products
        self._changes = changes
        self._feed = feed
        self._clock = clock
        self._markets = markets

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

    def one_run(self) -> AbstractContextManager[object]:
        """A sweep's scope: a facts source that can keep a SKU's account-independent facts for the run's
        other accounts does so inside it (`CatalogFacts.one_run`); any other source reads as before."""
        scope = getattr(self._products, "one_run", None)
        return scope() if callable(scope) else nullcontext()

    def run_account(
        self,
        account: str,
        client: RepricingAllegro,
        *,
        apply: bool = True,
        start: int = 0,
        clock: SweepClock | None = None,
        keep_decisions: bool = True,
    ) -> RoundReport:
        """The account's active offers page by page (1,000 a page) from offset `start`. With a `clock`, the
        round stops while another page still fits before the timeout and says where (`continues_at`).
        Without `keep_decisions` only their count is kept (`planned`): a run's memory holds a page, not
        the catalogue.

        Only offers a rule reprices have their catalogue facts read (issue 21: an offer without a rule is
        skipped by the plan anyway, and reading every offer's product, link and stock each round was the
        system's largest DynamoDB bill). The circuit breaker judges each page on its own: a page where too
        many offers would hit the floor pauses the account, and later pages hold."""
        now = self._clock()
        report = RoundReport(account)
        all_settings = self._store.settings()
        me = client.me()
        self._store.record_seller(account, me.id, me.login)
        context = _Round(
            account, client, apply, now, all_settings, SettingsIndex(all_settings),
            own=self._store.own_sellers() | {me.id, me.login or me.id},
            states=self._store.offer_states(account),
            fees=FeeBook(self._store, client, now),
            campaigns=self._campaigns(client, report),
            paused=self._store.paused_until(account),
            keep_decisions=keep_decisions,
        )  # fmt: skip
        if self._markets is not None and (rules := self._markets.market_rules()):
            context.market_rules, context.category_paths = rules, self._markets.category_paths(account)
        clock = clock or SweepClock(None, PAGE_SIZE)
        offset = start
        while True:
            if clock.short():
                report.continues_at = offset
                break
            with clock.page():
                page = client.list_offers(statuses=["ACTIVE"], offset=offset, limit=clock.page_size)
                self._page(context, [o for o in page.offers if o.external and o.external.id], report)
            report.pages += 1
            offset += len(page.offers)
            if len(page.offers) < clock.page_size or offset >= page.total_count:
                break
        report.feed_skipped = sorted(report.feed_skipped_by_page or (), key=_row_number)
        return report

    def _page(self, r: _Round, listings: list[OfferListing], report: RoundReport) -> None:
        ruled = [o for o in listings if r.index.for_offer(r.account, _category(o), _sku(o)).strategy
                 is not Strategy.NONE]  # fmt: skip
        known = self._facts(r, ruled)
        facts = {o.id: known.get(_sku(o)) for o in ruled}
        needs_feed = ruled and self._needs_feed(r.all_settings)
        competitors = self._competitors(listings, facts, report) if needs_feed else {}
        states = r.states
        offers = [offer_input(r.account, o, facts.get(o.id), states.get(o.id), competitors) for o in listings]
        markets = MarketFees(self._store, r.client, r.now, listings)  # issue 16: fees on allegro.cz, .sk, .hu
        plan = plan_account(
            r.account, offers, all_settings=r.all_settings, fees=r.fees.for_category, now=r.now,
            own_sellers=r.own, offer_fees=markets.for_offer,
        )  # fmt: skip
        plan = campaign_holds(plan, r.campaigns)
        if plan.breaker_tripped:
            until = r.now + timedelta(minutes=PAUSE_MINUTES)
            r.paused = (until, plan.breaker_reason)
            report.breaker_tripped, report.breaker_reason = True, plan.breaker_reason
            report.paused_until = until
            if r.apply:
                self._store.pause(r.account, until, plan.breaker_reason)
        elif r.paused is not None and r.paused[0] > r.now:
            report.paused_until = r.paused[0]
            plan = hold_all(
                plan, f"repricing paused until {r.paused[0].isoformat(timespec='minutes')}: {r.paused[1]}"
            )
        plan, moves = market_prices.plan_moves(plan, listings, r.market_rules, r.category_paths)
        report.planned += len(plan.decisions)
        decisions = (
            self._apply(r.account, r.client, plan, r.states, r.now, report, moves)
            if r.apply
            else plan.decisions
        )
        if r.keep_decisions:
            report.decisions.extend(decisions)
        if r.apply and r.campaigns is not None:
            self._note_campaigns(r.account, listings, r.campaigns, r.states, r.now)

    def _facts(self, r: _Round, ruled: list[OfferListing]) -> dict[str, ProductFacts]:
        """The ruled offers' facts; the ledger's stock only for the demand strategy, the one that uses it."""
        demand: list[str] = []
        other: list[str] = []
        for o in ruled:
            strategy = r.index.for_offer(r.account, _category(o), _sku(o)).strategy
            (demand if strategy is Strategy.DEMAND else other).append(_sku(o))
        known = self._products.facts_many(demand, r.account) if demand else {}
        return known | (self._products.facts_many(other, r.account, stock=False) if other else {})

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
        skipped = {f"row {s.row}: {s.reason}" for s in result.skipped}
        before = report.feed_skipped_by_page
        report.feed_skipped_by_page = skipped if before is None else before & skipped
        return {sku: tuple(prices) for sku, prices in result.prices.items()}

    def _apply(  # noqa: PLR0917 - the round's context
        self,
        account: str,
        client: RepricingAllegro,
        plan: AccountPlan,
        states: dict[str, OfferState],
        now: datetime,
        report: RoundReport,
        moves: market_prices.Moves,
    ) -> list[RepriceDecision]:
        """The page's plan applied within what is left of the round's command budget; its decisions with
        what Allegro answered."""
        self._record_waiting(account, plan, states, now)
        outcome: dict[str, str] = {}
        by_price: dict[Decimal, list[RepriceDecision]] = defaultdict(list)
        by_rule: dict[tuple[str, Decimal, Decimal], list[RepriceDecision]] = defaultdict(list)
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
        budget = self._max_commands - report.price_commands - report.rule_commands
        by_price, chunks = market_prices.split(by_price, moves)  # issue 16: distinct prices in bulk
        groups = sorted(
            [("price", key, g) for key, g in by_price.items()]
            + [("bulk", i, g) for i, g in enumerate(chunks)]
            + [("rule", key, g) for key, g in by_rule.items()],
            key=lambda item: -len(item[2]),  # the most offers per command first
        )
        kept = self._within_budget(groups, budget, report, outcome)
        by_price = {k: g for k, g in by_price.items() if ("price", k) in kept}
        by_rule = {k: g for k, g in by_rule.items() if ("rule", k) in kept}
        for i, chunk in enumerate(chunks):
            if ("bulk", i) in kept:
                results, error = market_prices.apply_chunk(client, account, now, chunk, moves)
                report.error = error or report.error
                report.price_commands += 1
                self._settle(account, chunk, results, states, now, report, outcome)
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
        return [
            replace(d, steps=(*d.steps, f"Allegro: {outcome[d.offer_id]}")) if d.offer_id in outcome else d
            for d in plan.decisions
        ]

    def _within_budget(
        self,
        groups: Sequence[tuple[str, object, list[RepriceDecision]]],
        budget: int,
        report: RoundReport,
        outcome: dict[str, str],
    ) -> set[object]:
        """The (kind, key) of the groups the budget sends this round; the others' offers are DEFERRED."""
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
        return kept

    def _record_waiting(
        self, account: str, plan: AccountPlan, states: dict[str, OfferState], now: datetime
    ) -> None:
        """A demand offer without sales history is held; said once in the change log (an offer the
        repricer has no state for yet), so `prices why` explains why nothing happens."""
        for d in plan.decisions:
            if d.waiting_for_history and d.offer_id not in states:
                self._store.save_offer_state(account, d.offer_id, OfferState(sku=d.sku))
                self._changes.record(change_entry(d, "HELD", now))

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
            self._changes.record(change_entry(d, status, now))


def run_round(
    repricer: Repricer, clients: Mapping[str, RepricingAllegro], *, apply: bool = True
) -> list[RepriceDecision]:
    """One round over every account; the decisions with `.explain()` (the demo prints them)."""
    return [
        d for account, c in clients.items() for d in repricer.run_account(account, c, apply=apply).decisions
    ]


def _sku(listing: OfferListing) -> str:
    return str(listing.external.id) if listing.external else ""


def _category(listing: OfferListing) -> str | None:
    return listing.category.id if listing.category else None


def _row_number(skipped: str) -> int:
    """`row 12: reason` -> 12, so the skipped rows keep the feed's order."""
    return int(skipped.split(":", 1)[0].removeprefix("row "))
