"""StockSet, and every shop stock level: they go to the stock ledger, not to Allegro.

The ledger orders a level against earlier reports and subtracts the sales the shop has not counted yet;
when that moves what an offer must show, the `stock-changes` hook has the stock propagator push the new view
to every linked offer on every account. The catalogue itself touches an offer's stock only to start it: an
offer it created INACTIVE (no stock known yet) is activated here, stock and activation in one PATCH.
"""

from __future__ import annotations

from dataclasses import replace

from allegro_sync.contracts.allegro_requests import OfferChanges
from allegro_sync.contracts.catalog import LinkStatus, OfferLink
from allegro_sync.contracts.messages import ProductDelete, ProductUpsert, ShopEvent, StockSet
from allegro_sync.domain.ledger import OfferAction, ShopLevel, SkuLedger, StockView
from allegro_sync.domain.ledger import Outcome as LedgerOutcome
from allegro_sync.services.publishing.context import Context

SOLD_OUT = "sold out in the shop (stock 0): Allegro ended the offer"


def stock_patch(stock: int, status: LinkStatus) -> tuple[OfferChanges, LinkStatus, str]:
    """How a shop stock level reaches an offer: (the offer changes, the link's new status, reason).

    Used to create/activate the catalogue's own offers; live stock is the propagator's (ledger). Stock 0
    ends an ACTIVE offer (a quantity command cannot set 0, #6166); stock > 0 on an ended or inactive offer
    goes in the same PATCH as the activation, so the activation can never overtake it (#10251).
    """
    if stock == 0:
        return OfferChanges(stock=0), LinkStatus.ENDED, SOLD_OUT
    if status is not LinkStatus.PUBLISHED:
        return OfferChanges(stock=stock, publication="ACTIVE"), LinkStatus.PUBLISHED, ""
    return OfferChanges(stock=stock), LinkStatus.PUBLISHED, ""


class StockLevels:
    """Shop stock levels through the ledger, and the ledger's offer links in step with the catalogue's."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def apply_shop_level(self, event: ShopEvent, *, new_product: bool = False, alone: bool = False) -> None:
        """A shop stock level (StockSet, or an upsert that carries one) goes to the ledger, once per event.
        `new_product`: the catalogue never had this SKU, so its ledger is tried as empty first (no read).
        A new product's upsert writes its level with its first offer link (`sync_link`: one ledger write
        per imported offer, not two); `settle` writes it alone when the event links no offer."""
        if isinstance(event, StockSet):
            level: int | None = event.stock
        elif isinstance(event, ProductUpsert) and event.stock is not None:
            level = event.stock
        else:
            return
        ledger = self._ctx.ledger
        if new_product and isinstance(event, ProductUpsert) and not alone:
            preview = ledger.preview_shop_level(event.sku, level, event.occurred_at, event.version)
            self._ctx.ledger_answers[event.sku] = preview  # what the offers it creates start with
            self._ctx.pending_levels[event.sku] = event
            return
        known = SkuLedger(event.sku) if new_product else None
        result = ledger.apply_shop_level(event.sku, level, event.occurred_at, event.version, known=known)
        self._ctx.ledger_answers[event.sku] = result  # what the offers this event creates start with
        # Only when an offer must show something else: a newer report of the same number moves the ledger's
        # revision but needs no Allegro call, and offers this event creates start with the ledger's quantity.
        moved = result.changed and result.before is not None and _shown(result.view) != _shown(result.before)
        # A redelivered stock.set (the ledger already has this report) sends again: the first attempt may
        # have died between the ledger's commit and the queue. (An upsert's level lost that way is left to
        # the reconciler: resending each redelivered upsert would re-push every offer it just created.)
        redelivered = (
            isinstance(event, StockSet)
            and result.outcome is LedgerOutcome.DUPLICATE
            and bool(result.view.offers)
        )
        if moved or redelivered:
            self._ctx.stock_changes.stock_changed(result.view, "shop stock level")

    def apply(self, account: str, link: OfferLink, event: StockSet) -> OfferLink:
        """The link of one account's offer after a StockSet: the propagator pushes stock to live offers;
        only an offer the catalogue created INACTIVE is activated here (#10251). The link's applied key
        stays: it orders the content, price and delete the product item orders, which a stock change no
        longer writes (the ledger orders levels), so an upsert older than this level still reaches it."""
        assert link.offer_id is not None
        quantity = self._ctx.ledger_quantity(event.sku, link.offer_id)
        if quantity is None:
            return link  # unknown: HOLD, the offer keeps what it shows
        if link.status is not LinkStatus.WAITING or quantity == 0:
            # The propagator ends or restocks the live offer; the link only tells the seller where it stands.
            status, reasons = link.status, link.reasons
            if quantity == 0 and link.status is LinkStatus.PUBLISHED:
                status, reasons = LinkStatus.ENDED, (SOLD_OUT,)
            elif quantity > 0 and link.status is LinkStatus.ENDED:
                status, reasons = LinkStatus.PUBLISHED, ()
            return replace(link, status=status, reasons=reasons, updated_at=self._ctx.timestamp())
        changes, status, _ = stock_patch(quantity, link.status)
        self._ctx.client(account).update_offer(link.offer_id, changes)
        self._ctx.record(
            account,
            event,
            link.offer_id,
            "stock",
            {"stock": {"old": link.synced.get("stock"), "new": str(quantity)}},
            reason="stock arrived for an inactive offer (ledger level): activated",
        )
        return replace(
            link,
            status=status,
            reasons=(),
            synced={**link.synced, "stock": str(quantity)},
            updated_at=self._ctx.timestamp(),
        )

    def sync_link(self, event: ShopEvent, before: OfferLink | None, after: OfferLink) -> None:
        """Keep the ledger's offer links in step with the catalogue's: a new (adopted, recreated) offer sells
        the SKU from now on; a deleted product's offer stops. An offer ended by a sell-out stays linked, so a
        restock re-activates it."""
        ledger = self._ctx.ledger
        old_id = before.offer_id if before is not None else None
        if isinstance(event, ProductDelete):
            if after.offer_id is not None:
                ledger.unlink_offer(event.sku, after.offer_id)
            return
        if not isinstance(event, ProductUpsert) or after.offer_id is None:
            return
        if old_id is not None and old_id != after.offer_id:
            ledger.unlink_offer(event.sku, old_id)
            self._ctx.ledger_answers.pop(event.sku, None)  # moved on from the state it remembers
        known = self._ctx.ledger_answers.get(event.sku)
        pending = self._ctx.pending_levels.get(event.sku)
        result = ledger.link_offer(
            event.sku,
            after.offer_id,
            after.account,
            known=known.ledger if known is not None else None,
            level=None if pending is None else ShopLevel(pending.stock, pending.occurred_at, pending.version),
        )
        self._ctx.pending_levels.pop(event.sku, None)  # written (a failed write leaves it to `settle`)
        self._ctx.ledger_answers[event.sku] = result
        target = next((t for t in result.view.offers if t.offer_id == after.offer_id), None)
        shown = after.synced.get("stock")  # what the offer was created (or last patched) with
        moved = target is not None and target.action is not OfferAction.HOLD and shown != str(target.quantity)
        if result.changed and moved:
            # The SKU moved between the offer's creation and its link (a sale, a newer level).
            self._ctx.stock_changes.stock_changed(result.view, "new offer")

    def settle(self) -> None:
        """A new product's level that no offer link wrote (no offer was created: waiting for a mapping,
        refused, Allegro failed): written on its own, as any level."""
        pending, self._ctx.pending_levels = self._ctx.pending_levels, {}
        for event in pending.values():
            self.apply_shop_level(event, new_product=True, alone=True)


def _shown(view: StockView) -> dict[str, tuple[OfferAction, int | None]]:
    return {t.offer_id: (t.action, t.quantity) for t in view.offers}
