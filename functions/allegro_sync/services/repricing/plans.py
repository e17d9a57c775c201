"""A round's per-offer helpers: the domain's input from a listing, holds (campaigns, pauses), log entries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from allegro_sync.contracts.allegro import OfferListing
from allegro_sync.contracts.catalog import Change
from allegro_sync.contracts.repricing import OfferState, ProductFacts
from allegro_sync.domain.repricing import (
    AccountPlan,
    Action,
    CompetitorPrice,
    OfferInput,
    RepriceDecision,
)


def offer_input(
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


def campaign_holds(plan: AccountPlan, campaigns: Mapping[str, str] | None) -> AccountPlan:
    """Offers a campaign owns change nothing (price or rule); unknown campaigns hold every price."""
    if campaigns is None:
        return hold_all(plan, "Allegro did not say which offers are in campaigns (GET /sale/badges)")
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


def hold_all(plan: AccountPlan, reason: str) -> AccountPlan:
    held = [
        replace(d, action=Action.HOLD, new_price=None, steps=(*d.steps, f"would be {d.new_price}; {reason}"))
        if d.action is Action.SET_PRICE
        else d
        for d in plan.decisions
    ]
    return AccountPlan(plan.account, held)


def change_entry(d: RepriceDecision, status: str, now: datetime) -> Change:
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
