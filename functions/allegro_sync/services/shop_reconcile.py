"""Shop reconciliation: what changed in the shop since the last run, fed through the webhook intake.

Webhooks get lost (an outage on our side, a WooCommerce webhook disabled after 5 failures, a shop that
cannot send any), so a schedule asks the shop what changed since its cursor and hands every change to the
SAME `WebhookIntake` the webhook routes use: the same queue, the same delivery markers, the same workers.
A change's delivery key comes from its content, so a re-read (the overlap, a re-run, a crash before the
cursor was saved) is answered "duplicate" by the markers; a change a webhook already brought is queued
again and the workers, keeping the newest state per SKU, leave it as it is.

The cursor is saved only after every change read was queued, with a compare-and-swap on the value the run
started from, so a crash re-reads (never skips) and two overlapping runs never move it backwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from allegro_sync import correlation
from allegro_sync.contracts.catalog import order_key
from allegro_sync.contracts.messages import (
    PriceSet,
    ProductDelete,
    ProductUpsert,
    ShopEvent,
    ShopOrderStatus,
    StockSet,
)
from allegro_sync.contracts.shop_changes import ShopChanges
from allegro_sync.contracts.webhooks import Delivery, Outcome
from allegro_sync.services.webhooks import WebhookIntake


class ShopChangeFeed(Protocol):
    """A shop's "what changed since" reader (WooCommerce REST, or the generic `changes` endpoint)."""

    kind: str

    def read(self, since: str | None) -> ShopChanges:
        """Every change after `since` (None: the whole catalogue), all pages; raises ShopFeedFailed."""
        ...


class CursorStore(Protocol):
    def read(self, kind: str) -> str | None: ...

    def save(self, kind: str, cursor: str, *, expected: str | None) -> bool:
        """Store `cursor` unless another run moved it from `expected` first; False when it had."""
        ...


class FulfillmentQueue(Protocol):
    """Where a shop's order update goes (the same queue as the order webhooks'; the worker is idempotent)."""

    def send(self, update: ShopOrderStatus) -> None: ...


class AppliedState(Protocol):
    """The newest state the catalogue worker accepted per SKU, for the dry run: the product's order key
    (content, price, delete) and the shop level's, with the level."""

    def applied_key(self, sku: str) -> str | None: ...

    def applied_level(self, sku: str) -> tuple[str, int | None] | None: ...


@dataclass(frozen=True)
class Change:
    sku: str
    what: str  # "stock 4", "price 129.99", "upsert", "delete"
    verdict: str  # queued | duplicate | would apply | already applied | ignored


@dataclass
class ShopReconcileReport:
    kind: str
    dry_run: bool
    since: str | None
    cursor: str | None
    shop_calls: int = 0
    changes: list[Change] = field(default_factory=list)
    queued: int = 0
    duplicates: int = 0
    ignored: int = 0
    cursor_saved: bool = False
    order_updates: int = 0  # order states / tracking numbers queued for Allegro (PrestaShop)
    notes: list[str] = field(default_factory=list)


def describe(event: ShopEvent) -> str:
    if isinstance(event, StockSet):
        return f"stock {event.stock}"
    if isinstance(event, PriceSet):
        return f"price {event.price}"
    if isinstance(event, ProductDelete):
        return "delete"
    assert isinstance(event, ProductUpsert)
    stock = "?" if event.stock is None else event.stock
    return f"upsert (price {event.price}, stock {stock})"


@dataclass(frozen=True, slots=True)
class ShopReconciler:
    """Catches up on what the shop changed without a webhook: the same intake, from a saved cursor."""

    feed: ShopChangeFeed
    intake: WebhookIntake
    cursors: CursorStore
    applied: AppliedState | None = None
    fulfillment: FulfillmentQueue | None = None

    def run(self, *, dry_run: bool = False) -> ShopReconcileReport:
        kind = self.feed.kind
        since = self.cursors.read(kind)
        changes = self.feed.read(since)
        report = ShopReconcileReport(
            kind, dry_run, since, changes.cursor, shop_calls=changes.shop_calls, notes=list(changes.notes)
        )
        for delivery in changes.deliveries:
            if dry_run:
                self._preview(delivery, report)
            else:
                self._queue(delivery, report)
        if not dry_run and self.fulfillment is not None:
            for update in changes.orders:
                self.fulfillment.send(update)
                report.order_updates += 1
        if not dry_run and changes.cursor is not None and changes.cursor != since:
            report.cursor_saved = self.cursors.save(kind, changes.cursor, expected=since)
            if not report.cursor_saved:
                report.notes.append("another run moved the cursor first; it was left as that run set it")
        return report

    def _queue(self, delivery: Delivery, report: ShopReconcileReport) -> None:
        # Each change is followed through the logs under its own id, as a webhook's delivery id is.
        with correlation.scope(delivery.events[0].delivery_id if delivery.events else None):
            result = self.intake.accept(delivery)
        verdict = result.outcome.value
        if result.outcome is Outcome.QUEUED:
            report.queued += 1
        elif result.outcome is Outcome.DUPLICATE:
            report.duplicates += 1
        else:
            report.ignored += 1
            if delivery.ignored:
                report.notes.append(delivery.ignored)
        report.changes += [Change(e.sku, describe(e), verdict) for e in delivery.events]

    def _preview(self, delivery: Delivery, report: ShopReconcileReport) -> None:
        if not delivery.events:
            report.ignored += 1
        for event in delivery.events:
            applied = self._applied_key(event)
            newer = applied is None or order_key(event.occurred_at, event.version) > applied
            report.changes.append(
                Change(event.sku, describe(event), "would apply" if newer else "already applied")
            )

    def _applied_key(self, event: ShopEvent) -> str | None:
        """What the event is compared with: a stock level with the ledger's level, anything else with the
        product's key (a stock change does not move it)."""
        if self.applied is None:
            return None
        if isinstance(event, StockSet):
            held = self.applied.applied_level(event.sku)
            return held[0] if held is not None else None
        return self.applied.applied_key(event.sku)
