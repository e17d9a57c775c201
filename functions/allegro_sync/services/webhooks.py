"""Webhook intake: a verified, parsed delivery becomes queued shop events, exactly once per delivery.

Two layers of de-duplication, because shops redeliver on their own schedule:
- SQS FIFO drops a repeated `MessageDeduplicationId` within its 5-minute window (concurrent duplicates);
- a delivery marker in DynamoDB (TTL `DELIVERY_MEMORY_DAYS`) remembers deliveries for days, so a
  redelivery next week is answered "duplicate" and not queued again.
`claim` checks the marker before queueing and `mark_queued` records it after, so a crash between the two
lets the shop's retry queue it (FIFO de-duplication absorbs a double send) instead of losing the delivery.
The DynamoDB markers do it with one read and one write (docs/stock-ledger.md, "What a stock change writes").
A delivery of stock levels each dated by the shop itself (`Delivery.self_ordered`) needs no marker: a repeat
carries the same order keys, which the catalogue and the ledger already treat as applied. It is answered
"duplicate" when the stock ledger holds each of its SKUs at that key or newer, and queued otherwise (SQS drops
a repeat within 5 minutes; after that, the worker finds nothing newer to apply).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Protocol

from allegro_sync.contracts.catalog import order_key
from allegro_sync.contracts.messages import ProductDelete, StockSet
from allegro_sync.contracts.webhooks import (
    DeleteByProductId,
    Delivery,
    IntakeResult,
    InventoryLevel,
    Outcome,
    QueuedEvent,
    Refusal,
    Source,
)


class DeliveryMarkers(Protocol):
    """Remembers deliveries beyond SQS's 5-minute de-duplication window."""

    def claim(self, source: Source, key: str) -> bool:
        """True when the delivery may be queued; False when it was already queued (a duplicate)."""
        ...

    def mark_queued(self, source: Source, key: str, events: int) -> None: ...


class RefusalLog(Protocol):
    """Where refused shop data is kept per SKU, for `products status` (the shop never resends it)."""

    def record(self, source: Source, delivery_key: str, refusals: Sequence[Refusal]) -> None: ...


class AppliedLevels(Protocol):
    """The shop's last level per SKU as the stock ledger holds it: (its order key, the level); None: none."""

    def applied_level(self, sku: str) -> tuple[str, int | None] | None: ...


class ShopEventPublisher(Protocol):
    def publish(self, events: Sequence[QueuedEvent]) -> None:
        """Queue every event or raise; partial sends are retried by the caller's redelivery."""
        ...


class ProductIndex(Protocol):
    """Shop product id -> SKUs, for platforms whose delete notice carries only the id."""

    def remember(self, source: Source, product: str, skus: Sequence[str]) -> None: ...

    def skus(self, source: Source, product: str) -> list[str]: ...


class InventoryItems(Protocol):
    """Shopify inventory item -> its variant's SKU and the last `available` per location (stock lives per
    inventory item and location; its webhook names neither the SKU nor the other locations)."""

    def link(self, item: str, sku: str) -> None: ...

    def level(self, item: str, location: str, available: int) -> tuple[str | None, dict[str, int]]:
        """Keep this location's level; (the item's SKU if a product delivery named it, every level)."""
        ...


_GROUP_ALLOWED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)


def group_id(sku: str) -> str:
    """The FIFO group of a SKU: the SKU itself when SQS allows its characters, else a stable hash.

    SQS group ids take only ASCII letters, digits and punctuation (<= 128); Polish shops do use SKUs
    like `ŻÓŁW-1`, which would otherwise be refused. Workers read the SKU from the body, never the group.
    """
    if len(sku) <= 128 and set(sku) <= _GROUP_ALLOWED:
        return sku
    return "sku-" + hashlib.sha256(sku.encode()).hexdigest()


def deduplication_id(source: Source, key: str, index: int, sku: str) -> str:
    """Stable per (delivery, event): a redelivery yields the same ids, two events of one delivery differ."""
    return hashlib.sha256(f"{source}\n{key}\n{index}\n{sku}".encode()).hexdigest()


def to_queue(delivery: Delivery) -> list[QueuedEvent]:
    return [
        QueuedEvent(e, group_id(e.sku), deduplication_id(delivery.source, delivery.key, i, e.sku))
        for i, e in enumerate(delivery.events)
    ]


@dataclass(frozen=True, slots=True)
class WebhookIntake:
    """The use case behind both webhook routes: de-duplicate, queue, remember."""

    markers: DeliveryMarkers
    publisher: ShopEventPublisher
    products: ProductIndex | None = None
    refusals: RefusalLog | None = None
    _: KW_ONLY
    # Lets a self-ordered delivery (stock levels dated by the shop) skip its marker.
    applied: AppliedLevels | None = None
    inventory: InventoryItems | None = None

    def resolve(self, parsed: Delivery | DeleteByProductId | InventoryLevel) -> Delivery:
        """The delivery a parsed request stands for (a delete by id or a stock level needs the index)."""
        if isinstance(parsed, DeleteByProductId):
            return self.deletion(parsed)
        if isinstance(parsed, InventoryLevel):
            return self.inventory_level(parsed)
        return parsed

    def accept(self, delivery: Delivery) -> IntakeResult:
        skus = tuple(dict.fromkeys(e.sku for e in delivery.events))
        if self.inventory is not None:  # first: a retry after a failure below is answered "duplicate"
            for item, sku in delivery.inventory_items:
                self.inventory.link(item, sku)
        refused = delivery.refused
        if refused and self.refusals is not None:
            self.refusals.record(delivery.source, delivery.key, refused)
        if not delivery.events:
            outcome = Outcome.REFUSED if refused or delivery.error else Outcome.IGNORED
            reason = delivery.ignored or "; ".join(f"{r.sku}: {r.reason}" for r in refused) or "no events"
            return IntakeResult(outcome, delivery.key, reason=reason, refused=refused, error=delivery.error)
        if delivery.self_ordered and self.applied is not None:
            if self._already_applied(delivery, self.applied):
                return IntakeResult(
                    Outcome.DUPLICATE, delivery.key, len(delivery.events), skus, refused=refused
                )
            self.publisher.publish(to_queue(delivery))
            return IntakeResult(Outcome.QUEUED, delivery.key, len(delivery.events), skus, refused=refused)
        if not self.markers.claim(delivery.source, delivery.key):
            return IntakeResult(Outcome.DUPLICATE, delivery.key, len(delivery.events), skus, refused=refused)
        self.publisher.publish(to_queue(delivery))
        self.markers.mark_queued(delivery.source, delivery.key, len(delivery.events))
        if self.products is not None and delivery.shop_product is not None:
            kept = [e.sku for e in delivery.events if not isinstance(e, ProductDelete)]
            if kept:
                self.products.remember(delivery.source, delivery.shop_product, kept)
        return IntakeResult(Outcome.QUEUED, delivery.key, len(delivery.events), skus, refused=refused)

    @staticmethod
    def _already_applied(delivery: Delivery, applied: AppliedLevels) -> bool:
        """Queueing it again would change nothing: each event's SKU is held at a newer order key, or at its
        own key with its level. (Another report of the same time with another level is queued: the
        ledger keeps the lower of the two.)"""
        held = {sku: applied.applied_level(sku) for sku in dict.fromkeys(e.sku for e in delivery.events)}
        for event in delivery.events:
            level = held[event.sku]
            key = order_key(event.occurred_at, event.version)
            stock = event.stock if isinstance(event, StockSet) else None
            if level is None or level[0] < key or (level[0] == key and level[1] != stock):
                return False
        return True

    def deletion(self, request: DeleteByProductId) -> Delivery:
        """The delete events for a shop product known only by id (every SKU it was ever seen with)."""
        known = self.products.skus(request.source, request.product) if self.products is not None else []
        if not known:
            return Delivery(
                request.source,
                request.key,
                (),
                ignored=f"product {request.product} was never seen with a SKU; nothing to end",
            )
        events = tuple(
            ProductDelete(
                delivery_id=request.delivery_id,
                occurred_at=request.occurred_at,
                source=request.source,
                sku=sku,
            )
            for sku in sorted(known)
        )
        return Delivery(request.source, request.key, events)

    def inventory_level(self, level: InventoryLevel) -> Delivery:
        """The SKU's stock = the sum of `available` over the counted locations (a negative level, an
        oversold location, counts as 0). A level of a location not counted, or of an inventory item no
        product delivery has named yet, is answered 2xx with the reason: Shopify resending cannot help."""
        if level.location not in level.counted:
            why = f"location {level.location} is not among the counted locations (shop credentials)"
            return Delivery(level.source, level.key, (), ignored=why)
        if self.inventory is None:
            return Delivery(level.source, level.key, (), ignored="no inventory index configured")
        sku, levels = self.inventory.level(level.item, level.location, level.available)
        if sku is None:
            why = (
                f"inventory item {level.item} is not known yet: its level is kept for the sum, which is "
                "sent from the next level change after a products/* delivery names its variant's SKU"
            )
            return Delivery(level.source, level.key, (), ignored=why)
        stock = sum(max(0, n) for location, n in levels.items() if location in level.counted)
        try:
            event = StockSet(
                delivery_id=level.delivery_id,
                occurred_at=level.occurred_at,
                source=level.source,
                sku=sku,
                stock=stock,
            )
        except ValueError:  # pydantic's ValidationError: a stock beyond MAX_STOCK is junk, not a level
            refusal = Refusal(sku, f"not synced: stock {stock} is beyond the largest level taken")
            return Delivery(level.source, level.key, (), refused=(refusal,), ignored=refusal.reason)
        return Delivery(level.source, level.key, (event,))
