"""What a shop's change listing yields (WooCommerce REST `modified_after`, the generic `changes` endpoint).

The adapters (`adapters/shop/*_changes.py`) read and map; the shop reconciliation (`services.shop_reconcile`)
queues each change through the webhook intake and stores the cursor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from allegro_sync.contracts.messages import SHOP_EVENT_ADAPTER, ShopEvent, ShopOrderStatus
from allegro_sync.contracts.webhooks import Delivery, Source

KEY_PREFIX = "shop-reconcile:"


@dataclass(frozen=True)
class ShopChanges:
    """Everything the shop reported since a cursor, and the cursor to store once it is all queued."""

    deliveries: Sequence[Delivery]
    cursor: str | None  # None: keep the stored one (nothing newer was seen)
    shop_calls: int
    notes: Sequence[str] = ()
    # Orders of ours the shop moved (a shop without order webhooks: PrestaShop), for the fulfillment queue.
    orders: Sequence[ShopOrderStatus] = ()


class ShopFeedFailed(RuntimeError):
    """The shop did not answer the change listing usably; the cursor stays and the next run retries."""


def changed_delivery(
    source: Source, events: Sequence[ShopEvent], *, ignored: str | None = None, notes: Sequence[str] = ()
) -> Delivery:
    """One product's state as read from the shop, keyed by its content: reading the same state again (the
    overlap window, a re-run, a crash before the cursor was saved) yields the same key, which the intake's
    delivery markers answer "duplicate". Events carry a delivery id derived from their content too."""
    body = "\n".join(SHOP_EVENT_ADAPTER.dump_json(e).decode() for e in events) or (ignored or "")
    key = KEY_PREFIX + hashlib.sha256(body.encode()).hexdigest()[:40]
    return Delivery(source, key, tuple(events), ignored=ignored, notes=tuple(notes))
