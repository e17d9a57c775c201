"""PriceSet: a new shop price becomes the offer's Allegro price, by the account's pricing rule.

When a repricing rule owns the offer's price, the shop price only moves the link's list price (the
repricer's ceiling) and the next repricing round decides what Allegro shows.
"""

from __future__ import annotations

from dataclasses import replace

from allegro_sync.contracts.allegro import PriceIn, PriceModification
from allegro_sync.contracts.catalog import LinkStatus, OfferLink, StoredMapping, StoredProduct
from allegro_sync.contracts.messages import PriceSet
from allegro_sync.domain.product_checks import price_problem
from allegro_sync.services.publishing.context import Context
from allegro_sync.services.publishing.market_prices import follow_on_marketplaces
from allegro_sync.services.publishing.outcomes import Waiting


class Prices:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def apply(
        self, account: str, link: OfferLink, stored: StoredProduct, event: PriceSet, key: str
    ) -> OfferLink:
        assert link.offer_id is not None
        ctx = self._ctx
        refused = price_problem(event.price)
        if refused is not None:  # the offer keeps its price, and says why the shop's was not taken
            return replace(
                link, reasons=(f"refused, price: {refused}",), applied_key=key, updated_at=ctx.timestamp()
            )
        mapping: StoredMapping | None = None
        if stored.upsert is not None:
            try:
                mapping = ctx.mapping_for(account, stored.upsert)
            except Waiting:
                mapping = None
        decision = ctx.price_decision(account, mapping, event.price)
        if decision.allegro_amount == link.price:
            return replace(link, applied_key=key)
        category = mapping.mapping.allegro_category_id if mapping else None
        if ctx.repriced(account, link.sku, category):  # list price only: the next repricing round decides
            return _priced(link, decision.allegro_amount, key, ctx.timestamp())
        modification = PriceModification(
            type="FIXED_PRICE", price=PriceIn(amount=decision.allegro_amount, currency=decision.currency)
        )
        results = ctx.client(account).change_price([link.offer_id], modification)
        result = next((r for r in results if r.offer_id == link.offer_id), None)
        if result is not None and result.status == "FAIL":
            return replace(
                link,
                status=LinkStatus.FAILED,
                reasons=(
                    f"Allegro refused the price {decision.allegro_amount}: {result.message or 'no reason'}",
                ),
                applied_key=key,
                updated_at=ctx.timestamp(),
            )
        ctx.record(
            account,
            event,
            link.offer_id,
            "price",
            {"price": {"old": link.price, "new": decision.allegro_amount}},
            reason=f"shop price changed; {decision.explanation}",
            rule=decision.rule,
        )
        link = follow_on_marketplaces(ctx, account, link, mapping=mapping, event=event, decision=decision)
        return _priced(link, decision.allegro_amount, key, ctx.timestamp())


def _priced(link: OfferLink, amount: str, key: str, at: str) -> OfferLink:
    """The link once Allegro has (or the repricer owns) the price `amount`."""
    return replace(
        link, price=amount, synced={**link.synced, "price": amount}, applied_key=key, updated_at=at
    )
