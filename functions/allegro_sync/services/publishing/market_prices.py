"""A new shop price moves the offer's prices on the additional marketplaces too (issue 16, item 1).

The base price goes through a price command (`price.py`); the additional marketplaces' prices have no
command of their own (the old change-price command ignores them, allegro-api #9296), so they follow in one
PATCH of `additionalMarketplaces`, recorded with their reason like every change.
"""

from __future__ import annotations

from dataclasses import replace

from allegro_sync.contracts.allegro_requests import OfferChanges
from allegro_sync.contracts.catalog import OfferLink, StoredMapping
from allegro_sync.contracts.messages import PriceSet
from allegro_sync.domain.pricing import PriceDecision
from allegro_sync.services.publishing.context import Context
from allegro_sync.services.publishing.outcomes import Waiting


def follow_on_marketplaces(
    ctx: Context,
    account: str,
    link: OfferLink,
    *,
    mapping: StoredMapping | None,
    event: PriceSet,
    decision: PriceDecision,
) -> OfferLink:
    """The link once the marketplaces' prices follow `decision` (unchanged when none applies)."""
    assert link.offer_id is not None
    client = ctx.client(account)
    try:
        markets = ctx.markets(client, account, mapping, link.sku, decision)
    except Waiting as waiting:  # the base price is set; the marketplaces keep theirs, and say why
        return replace(link, reasons=tuple(waiting.reasons))
    fingerprint = markets.fingerprint()
    if not markets.prices or link.synced.get("markets") == fingerprint:
        return link
    client.update_offer(link.offer_id, OfferChanges(markets=markets.to_request()))
    ctx.record(
        account,
        event,
        link.offer_id,
        "price",
        {"markets": {"old": link.synced.get("markets"), "new": fingerprint}},
        reason=f"shop price changed; marketplaces: {markets.explanation()}",
        rule=decision.rule,
    )
    return replace(link, synced={**link.synced, "markets": fingerprint})
