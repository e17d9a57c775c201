"""Publishing a stored product again, outside the shop's events: after a mapping was approved (`catalog
import`, `products retry`), after the seller picked one of several catalogue products (`products link`),
and when Allegro archived an offer the stock propagator wanted to restock (#10743)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from allegro_sync.contracts.catalog import LinkStatus, OfferLink, StoredProduct
from allegro_sync.contracts.messages import ProductDelete, ShopEvent
from allegro_sync.services.publishing.context import Context
from allegro_sync.services.publishing.outcomes import EventReport


class ApplyToAccounts(Protocol):
    """`Publisher`'s fan-out of one event to every (or the given) account."""

    def __call__(
        self,
        stored: StoredProduct,
        event: ShopEvent,
        key: str,
        *,
        force: bool,
        only: Sequence[str] | None = None,
    ) -> EventReport: ...


class Republishing:
    def __init__(self, ctx: Context, apply_to_accounts: ApplyToAccounts) -> None:
        self._ctx = ctx
        self._apply_to_accounts = apply_to_accounts

    def republish(self, sku: str, *, accounts: Sequence[str] | None = None) -> EventReport:
        """Publish the stored product again on every (or the given) account, whatever the links last
        applied."""
        stored = self._ctx.catalog.product(sku)
        if stored is None or stored.upsert is None:
            raise LookupError(f"no product {sku!r} in the catalogue: the shop has not sent it yet")
        event: ShopEvent = stored.upsert
        if stored.deleted:
            event = ProductDelete(
                delivery_id="republish",
                occurred_at=stored.upsert.occurred_at,
                sku=sku,
                source=stored.upsert.source,
            )
        else:
            event = stored.upsert.model_copy(
                update={
                    "stock": self._ctx.ledger.shop_level(sku),  # the product item does not keep it
                    "price": stored.price if stored.price is not None else stored.upsert.price,
                    "delivery_id": "republish",
                }
            )
        return self._apply_to_accounts(stored, event, stored.order_key, force=True, only=accounts)

    def link_product(self, sku: str, product_id: str, *, account: str | None = None) -> EventReport:
        """The seller's pick among the catalogue products one EAN matched (`products link SKU ID`)."""
        if not product_id.strip():
            raise ValueError("a catalogue product id is needed")
        catalog = self._ctx.catalog
        accounts = [account] if account else self._ctx.accounts.connected()
        for name in accounts:
            link = catalog.link(sku, name) or OfferLink(sku=sku, account=name, status=LinkStatus.WAITING)
            if link.offer_id is not None and link.status is not LinkStatus.ENDED:
                raise ValueError(
                    f"{sku} is already offer {link.offer_id} on {name}; end it before linking another product"
                )
            catalog.save_link(
                replace(link, offer_id=None, product_id=product_id, candidates=(), synced={}, images={})
            )
        return self.republish(sku, accounts=accounts)

    def recreate(self, sku: str, account: str, offer_id: str) -> str | None:
        """An archived offer (ended > 60 days ago, 404): create a new one from the stored product.

        Returns the new offer id, or None when the product cannot be published now (the link says why).
        """
        catalog = self._ctx.catalog
        link = catalog.link(sku, account)
        if link is None:
            return None
        if link.offer_id != offer_id:
            return link.offer_id  # already replaced
        waiting = replace(
            link,
            offer_id=None,
            status=LinkStatus.WAITING,
            synced={},
            images={},
            reasons=(f"offer {offer_id} was archived by Allegro; a new offer is being created",),
        )
        # Conditional on the archived id: another pusher (the reconciler beside the stock propagator) that
        # read the same link is replacing it already, and a second create would list the product twice.
        if not catalog.replace_link(waiting, offer_id=offer_id):
            fresh = catalog.link(sku, account)
            return fresh.offer_id if fresh is not None else None
        try:
            self.republish(sku, accounts=[account])
        except LookupError:
            return None
        fresh = catalog.link(sku, account)
        return fresh.offer_id if fresh is not None else None
