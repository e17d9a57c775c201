"""The entry point: a shop event, ordered against what the catalogue has, applied to every account.

Per account, Allegro refusing the content (400/403/422) is stored on the link and the event is done for
that account; anything else (rate limit, 5xx, timeout, 409) leaves the account out and raises `RetryLater`
once the others are done, so SQS delivers the event again and only the failed accounts redo it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from aws_lambda_powertools import Logger

from allegro_sync.contracts.allegro_errors import (
    AllegroApiError,
    AllegroBadRequest,
    AllegroForbidden,
    AllegroValidationError,
)
from allegro_sync.contracts.catalog import OfferLink, Outcome, StoredProduct, order_key
from allegro_sync.contracts.messages import PriceSet, ProductDelete, ProductUpsert, ShopEvent, StockSet
from allegro_sync.services.publishing.context import Context
from allegro_sync.services.publishing.end import Ends
from allegro_sync.services.publishing.outcomes import EventReport, RetryLater, rejected
from allegro_sync.services.publishing.price import Prices
from allegro_sync.services.publishing.recreate import Republishing
from allegro_sync.services.publishing.stock import StockLevels
from allegro_sync.services.publishing.upsert import Upserts

logger = Logger(child=True)


class Publisher:
    """Applies shop events to the catalogue and to every connected account's offer."""

    def __init__(self, ctx: Context) -> None:
        """`ctx`: the ports, the seller's settings and the caches every event's handling shares; its fields
        are the Publisher's parameters, so they are written once (`Context`)."""
        self._ctx = ctx
        self._upserts = Upserts(self._ctx)
        self._stock = StockLevels(self._ctx)
        self._prices = Prices(self._ctx)
        self._ends = Ends(self._ctx)
        self._republishing = Republishing(self._ctx, self._apply_to_accounts)

    @contextmanager
    def batch(self, skus: Iterable[str] = ()) -> Iterator[None]:
        """One SQS batch (of these SKUs): the connected accounts, mappings, pricing rules and which links
        exist are read once for all its events, not per event."""
        self._ctx.batch_reads, self._ctx.batch_skus = {}, frozenset(skus)
        try:
            yield
        finally:
            self._ctx.batch_reads, self._ctx.batch_skus = None, frozenset()

    def handle(self, event: ShopEvent, *, delivery: int | None = None) -> EventReport:
        """Apply one shop event; raises RetryLater when SQS should deliver it again. `delivery`: SQS's
        receive count (1: the first delivery, which needs no "creating" mark before a new offer)."""
        self._ctx.delivery = delivery
        self._ctx.deferred = []
        try:
            report = self._handle(event)
        except Exception:
            self._settle_quietly(event)
            raise
        else:
            self._stock.settle()
            return report
        finally:
            self._ctx.flush_changes()
            self._ctx.ledger_answers.clear()  # only this event's own ledger answer may stand in for a read
            self._ctx.delivery = None

    def _handle(self, event: ShopEvent) -> EventReport:
        key = order_key(event.occurred_at, event.version)
        # An upsert replaces the product; any other event changes the stored one.
        previous = None if isinstance(event, ProductUpsert) else self._ctx.catalog.product(event.sku)
        stored = self._stored_state(event, key, previous)
        outcome, new = self._accept(event, stored, previous)
        if outcome is Outcome.STALE:
            newer_content = self._late_content(event, key)
            if newer_content is not None:
                self._stock.apply_shop_level(event)
                return self._apply_to_accounts(newer_content, event, newer_content.order_key, force=True)
            logger.info(
                "stale shop event ignored: a newer one is already applied",
                extra={"sku": event.sku, "event_type": event.type, "delivery_id": event.delivery_id},
            )
            return EventReport(event.sku, Outcome.STALE)
        self._stock.apply_shop_level(event, new_product=new)
        return self._apply_to_accounts(stored, event, key, force=False)

    def republish(self, sku: str, *, accounts: Sequence[str] | None = None) -> EventReport:
        """Publish the stored product again on every (or the given) account, whatever the links last
        applied: after a mapping was approved, for `catalog import` and `products retry`."""
        return self._republishing.republish(sku, accounts=accounts)

    def link_product(self, sku: str, product_id: str, *, account: str | None = None) -> EventReport:
        """The seller's pick among the catalogue products one EAN matched (`products link SKU ID`)."""
        return self._republishing.link_product(sku, product_id, account=account)

    def recreate(self, sku: str, account: str, offer_id: str) -> str | None:
        """An archived offer (ended > 60 days ago, 404, #10743): create a new one from the stored product.

        The stock propagator's `ArchivedOffers` port. Returns the new offer id, or None when the product
        cannot be published now (the link then says why).
        """
        return self._republishing.recreate(sku, account, offer_id)

    def _settle_quietly(self, event: ShopEvent) -> None:
        """The level of a new product whose event failed is still written (the retry finds it, as before
        the write was deferred to the offer link); a failure here leaves it to the retry, not the error."""
        try:
            self._stock.settle()
        except Exception as error:
            logger.warning(
                "new product's stock level not written; its retry writes it",
                extra={"sku": event.sku, "error": type(error).__name__},
            )

    # -- catalogue state --------------------------------------------------------------------------

    def _accept(
        self, event: ShopEvent, stored: StoredProduct, previous: StoredProduct | None
    ) -> tuple[Outcome, bool]:
        """The catalogue's verdict on the event, and whether the SKU is new.

        A StockSet of a known product writes nothing here (issue 21: one write unit less per stock change):
        the ledger keeps the shop's level under its own order key, conditionally, so it alone orders levels
        against each other. What the catalogue accepted still decides here, from the product item just read
        (`previous`): a level older than the product's last upsert, price or delete is STALE, as the
        product item's conditional write made it. Only a SKU's first StockSet writes the product item. A
        stock or price change leaves the stored content as it is (`new_content`)."""
        if previous is None or not isinstance(event, StockSet):
            return self._ctx.catalog.accept_noting_new(stored, new_content=isinstance(event, ProductUpsert))
        return (Outcome.STALE if stored.order_key < previous.order_key else Outcome.APPLIED), False

    def _stored_state(self, event: ShopEvent, key: str, previous: StoredProduct | None) -> StoredProduct:
        at = self._ctx.timestamp()
        if isinstance(event, ProductUpsert):
            # `stock`: what this upsert said. A shop that does not say keeps its last level in the ledger,
            # the one record of it (publishing reads levels there, never here).
            return StoredProduct(
                sku=event.sku,
                order_key=key,
                upsert=event,
                stock=event.stock,
                price=event.price,
                updated_at=at,
            )
        base = previous or StoredProduct(sku=event.sku, order_key=key)
        if isinstance(event, ProductDelete):
            return replace(base, order_key=key, deleted=True, updated_at=at)
        if isinstance(event, StockSet):
            return replace(base, order_key=key, stock=event.stock, updated_at=at)
        return replace(base, order_key=key, price=event.price, updated_at=at)

    def _late_content(self, event: ShopEvent, key: str) -> StoredProduct | None:
        """A stale upsert whose product content is still the newest we have: keep that content.

        The shop may send a stock or price change before the product itself (or one upsert may lag behind
        the next stock change). The newer stock and price stay; the name, images, category... of the late
        upsert are newer than what is stored (or nothing was stored), so dropping them would leave the
        product unpublished. A deleted product is never brought back by a late upsert.
        """
        if not isinstance(event, ProductUpsert):
            return None
        current = self._ctx.catalog.product(event.sku)
        if current is None or current.deleted:
            return None
        if (
            current.upsert is not None
            and order_key(current.upsert.occurred_at, current.upsert.version) >= key
        ):
            return None
        # The stored price is newer only if a PriceSet changed it after the previous upsert.
        if current.upsert is None:
            price_set_since = current.price is not None
        else:
            price_set_since = current.price != current.upsert.price
        price = current.price if price_set_since else event.price
        merged = replace(current, upsert=event, price=price, updated_at=self._ctx.timestamp())
        if self._ctx.catalog.accept(merged) is Outcome.STALE:
            return None  # a newer event landed meanwhile; it carries on from there
        logger.info(
            "late product content kept with the newer stock and price",
            extra={"sku": event.sku, "delivery_id": event.delivery_id},
        )
        return merged

    # -- every account --------------------------------------------------------------------------

    def _apply_to_accounts(
        self,
        stored: StoredProduct,
        event: ShopEvent,
        key: str,
        *,
        force: bool,
        only: Sequence[str] | None = None,
    ) -> EventReport:
        ctx = self._ctx
        report = EventReport(event.sku, Outcome.APPLIED)
        failures: dict[str, Exception] = {}
        for account in ctx.connected_accounts():
            if only is not None and account not in only:
                continue
            link = ctx.link(event.sku, account)
            if link is not None and not force and _already_applied(link.applied_key, key, event):
                report.links[account] = link.status  # a redelivery: this account already has it
                continue
            try:
                updated = self._apply(account, link, stored, event, key)
            except (AllegroValidationError, AllegroBadRequest, AllegroForbidden) as error:
                if stale_stock(error):  # issue 14: Allegro's own stale stock, not our content: retry
                    logger.warning("Allegro saw stock below 1; retried", extra={"sku": event.sku})
                    failures[account] = error
                    continue
                updated = rejected(account, link, event, key, error, at=ctx.timestamp())
            except Exception as error:
                logger.warning(
                    "publishing failed; the event will be retried",
                    extra={"sku": event.sku, "account": account, "error": f"{type(error).__name__}: {error}"},
                )
                failures[account] = error
                continue
            if updated is not None and not _same_link(link, updated, event):
                ctx.save_link(updated)
                self._stock.sync_link(event, link, updated)
                report.links[account] = updated.status
        if failures:
            raise RetryLater(event.sku, failures)
        return report

    def _apply(
        self, account: str, link: OfferLink | None, stored: StoredProduct, event: ShopEvent, key: str
    ) -> OfferLink | None:
        if isinstance(event, ProductUpsert):
            return self._upserts.apply(account, link, event, key, price=stored.price)
        if link is None or link.offer_id is None:
            # Nothing on Allegro to change; a product still waiting publishes later with the new value.
            return replace(link, applied_key=key) if link is not None else None
        if isinstance(event, ProductDelete):
            return self._ends.apply(account, link, event, key)
        if stored.deleted:
            return replace(link, applied_key=key)  # the product is gone: its ended offer stays as it is
        if isinstance(event, StockSet):
            return self._stock.apply(account, link, event)
        return self._prices.apply(account, link, stored, event, key)


def _already_applied(applied_key: str, key: str, event: ShopEvent) -> bool:
    """Whether the link already has this event. An equal key is proof only for a delete. One delivery may
    carry a stock.set and a price.set of the same SKU with the same order key (a WooCommerce variation, a
    generic batch), and WooCommerce dates a product to the second, so two edits saved in one second carry
    equal keys with different content (the catalogue keeps the later one: its write accepts an equal key).
    Those are applied again; each is idempotent (the link's per-field fingerprints send only what differs
    from what Allegro has), so a redelivery changes nothing on Allegro."""
    if isinstance(event, StockSet | PriceSet | ProductUpsert):
        return applied_key > key
    return applied_key >= key


def _same_link(before: OfferLink | None, after: OfferLink, event: ShopEvent) -> bool:
    """A stock level that changes nothing the link says (status, reasons, synced values) is not written
    again: only its applied key and time would move, and a StockSet never relies on the applied key (an
    equal key re-applies, `_already_applied`); the product's order key orders everything else. Saves a
    write per stock change."""
    if before is None or not isinstance(event, StockSet):
        return False
    return replace(after, applied_key=before.applied_key, updated_at=before.updated_at) == before


def stale_stock(error: AllegroApiError) -> bool:
    """`AvailableStockMustEqualToOneOrBeGreaterThanOne` (#10699) on a create or edit: we never activate
    with stock 0 (`stock_patch`), so Allegro's own view of the stock is stale (#9846, #3514) and a later try
    passes. Anything else Allegro refuses is about the content and is not retried."""
    return "AvailableStockMustEqualToOneOrBeGreaterThanOne" in error.codes
