"""A round's prices on allegro.cz, .sk and .hu, and its price changes in bulk commands (issue 16, items 1, 3).

Marketplaces: a repriced offer's price on each additional marketplace its `markets` rules name follows the
new PLN price (`domain.market_reprice`); the moves are written into the decision's steps and inputs, so the
change log and `prices why` name every marketplace and currency.

Bulk: a FIXED_PRICE command sets one price for up to 1000 offers, so a repricer round whose prices are nearly
all distinct paid a command (a PUT and ~2 task reads) per offer. `/sale/offer-bulk-modification-commands`
carries each offer's own prices, every marketplace in one element, 25 offers per command. A price shared by
`BULK_BELOW` offers or more still goes in one FIXED_PRICE command (fewer calls); the rest goes in bulk
commands when that takes fewer commands, and so does every offer with marketplace prices to move (the price
command reaches allegro.pl only, #9296).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

from allegro_sync.contracts.allegro import OfferCommandResult, OfferListing, PriceIn
from allegro_sync.contracts.allegro_errors import AllegroError
from allegro_sync.contracts.bulk import MAX_MODIFICATIONS, BulkModification, BulkResult, PriceChange
from allegro_sync.domain.market_pricing import ScopedMarketRule, rules_for
from allegro_sync.domain.market_reprice import MarketMove, market_moves
from allegro_sync.domain.repricing import AccountPlan, Action, RepriceDecision
from allegro_sync.services.repricing.fees import amount

BULK_BELOW = MAX_MODIFICATIONS  # a price shared by fewer offers costs fewer calls in bulk commands
NAMESPACE = uuid.UUID("0d7f3c52-9a1e-4e59-8a43-5d3b6f3c1a27")  # allegro-sync repricer bulk commands
BASE = "allegro-pl"


class MarketRulesSource(Protocol):
    """The seller's marketplace rules and the Allegro category paths its mappings know (leaf -> path)."""

    def market_rules(self) -> list[ScopedMarketRule]: ...

    def category_paths(self, account: str) -> dict[str, tuple[str, ...]]: ...


class BulkPrices(Protocol):
    def bulk_modify(self, command_id: str, modifications: Sequence[BulkModification]) -> list[BulkResult]: ...


Moves = dict[str, list[MarketMove]]  # offer id -> its marketplaces' moves


def plan_moves(
    plan: AccountPlan,
    listings: Sequence[OfferListing],
    rules: Sequence[ScopedMarketRule],
    paths: Mapping[str, tuple[str, ...]],
) -> tuple[AccountPlan, Moves]:
    """Every SET_PRICE decision's marketplace moves, written into its steps and inputs."""
    if not rules:
        return plan, {}
    by_id = {o.id: o for o in listings}
    moves: Moves = {}
    decisions = []
    for d in plan.decisions:
        listing = by_id.get(d.offer_id)
        if d.action is not Action.SET_PRICE or d.new_price is None or listing is None:
            decisions.append(d)
            continue
        leaf = listing.category.id if listing.category else ""
        chosen = rules_for(rules, d.account, paths.get(leaf) or ((leaf,) if leaf else ()), d.sku)
        found = market_moves(d.new_price, (d.floor, d.ceiling), chosen, shown_prices(listing))
        if not found:
            decisions.append(d)
            continue
        moves[d.offer_id] = found
        inputs = d.inputs | {m.marketplace: f"{m.old} -> {m.new} {m.currency}" for m in found}
        decisions.append(replace(d, steps=(*d.steps, *(m.note for m in found)), inputs=inputs))
    return replace(plan, decisions=decisions), moves


def shown_prices(listing: OfferListing) -> dict[str, Decimal]:
    """The offer's price per additional marketplace as `GET /sale/offers` shows it."""
    found: dict[str, Decimal] = {}
    for marketplace, block in (listing.additional_marketplaces or {}).items():
        raw = ((block or {}).get("sellingMode") or {}).get("price") if isinstance(block, dict) else None
        try:
            found[marketplace] = Decimal(str((raw or {})["amount"]))
        except (KeyError, InvalidOperation):
            continue
    return found


def split(
    by_price: Mapping[Decimal, list[RepriceDecision]], moves: Moves
) -> tuple[dict[Decimal, list[RepriceDecision]], list[list[RepriceDecision]]]:
    """(prices kept as FIXED_PRICE commands, bulk commands of up to 25 decisions each)."""
    fixed: dict[Decimal, list[RepriceDecision]] = {}
    small: dict[Decimal, list[RepriceDecision]] = {}
    bulk: list[RepriceDecision] = []
    for price, group in sorted(by_price.items()):
        plain = [d for d in group if not _moves_markets(d, moves)]
        bulk += [d for d in group if _moves_markets(d, moves)]
        if plain:
            (fixed if len(plain) >= BULK_BELOW else small)[price] = plain
    if _bulk_pays([len(g) for g in small.values()], len(bulk)):
        bulk += [d for group in small.values() for d in group]
    else:
        fixed |= small
    chunks = [bulk[i : i + MAX_MODIFICATIONS] for i in range(0, len(bulk), MAX_MODIFICATIONS)]
    return fixed, chunks


def _moves_markets(d: RepriceDecision, moves: Moves) -> bool:
    return any(m.changes for m in moves.get(d.offer_id, ()))


def _bulk_pays(small: Sequence[int], moved: int) -> bool:
    """Whether the small price groups cost fewer commands in bulk (with the moved offers) than one each."""
    extra = -(-(moved + sum(small)) // MAX_MODIFICATIONS) - -(-moved // MAX_MODIFICATIONS)
    return extra < len(small)


def price_commands(sizes: Sequence[int]) -> tuple[int, int]:
    """(FIXED_PRICE commands only, FIXED_PRICE and bulk commands as a round sends them) for price groups of
    `sizes` offers, none moving marketplace prices: bench.repricing_plan reports both."""
    before = sum(-(-k // 1000) for k in sizes)
    small = [k for k in sizes if k < BULK_BELOW]
    fixed = sum(-(-k // 1000) for k in sizes if k >= BULK_BELOW)
    in_bulk = -(-sum(small) // MAX_MODIFICATIONS) if _bulk_pays(small, 0) else len(small)
    return before, fixed + in_bulk


def apply_chunk(
    client: BulkPrices, account: str, now: datetime, chunk: Sequence[RepriceDecision], moves: Moves
) -> tuple[list[OfferCommandResult], str | None]:
    """One bulk command: each offer's PLN price and its marketplaces' prices; (results, error)."""
    modifications = [_modification(d, moves.get(d.offer_id, ())) for d in chunk]
    what = sorted(f"{m.offer_id}|{m.prices}" for m in modifications)
    command_id = str(uuid.uuid5(NAMESPACE, f"{account}|{now.isoformat()}|" + "\n".join(what)))
    try:
        return list(client.bulk_modify(command_id, modifications)), None
    except AllegroError as error:  # the offers are retried next round
        failed = [
            OfferCommandResult(offer_id=d.offer_id, status="FAIL", message=str(error), command_id=command_id)
            for d in chunk
        ]
        return failed, str(error)


def _modification(d: RepriceDecision, moves: Sequence[MarketMove]) -> BulkModification:
    assert d.new_price is not None, "only SET_PRICE decisions are applied"
    prices = {BASE: PriceChange(value=PriceIn(amount=amount(d.new_price)))}
    for m in moves:
        if m.changes and m.new is not None:
            prices[m.marketplace] = PriceChange(value=PriceIn(amount=amount(m.new), currency=m.currency))
    return BulkModification(offer_id=d.offer_id, prices=prices)
