"""A sale in doubt settled by reading the shop: the SKU's level, read now, queued as a `stock.set`.

The ledger keeps a sale subtracted while it cannot tell whether the shop's last level already reflects it
(a level read within the clock-skew margin of the shop's acknowledgement, docs/stock-ledger.md). A shop that
changes nothing more sends no newer level, so the offers would show too little until it does. Once the doubt
can be settled, a delayed `stock-rechecks` message brings us here: we read the level from the shop (with the
shop's own time of the read) and hand it to the SAME webhook intake as a delivery, so the catalogue worker
applies it in order with the SKU's other reports, and the ledger decides with a level read well after the
acknowledgement. Until then the sale stays subtracted: never oversell.

A redelivered recheck reads again: a level read later is simply newer. Reading the same state twice in one
second gives the same delivery key, which the intake's markers answer "duplicate".
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from allegro_sync.contracts.messages import MAX_STOCK, StockSet
from allegro_sync.contracts.shop import ShopStockLevel
from allegro_sync.contracts.shop_changes import changed_delivery
from allegro_sync.contracts.webhooks import Source
from allegro_sync.services.webhooks import WebhookIntake


class ShopStockReader(Protocol):
    """Reads one SKU's level from the shop (WooCommerce REST, the generic contract's `stock_url`)."""

    @property
    def kind(self) -> Source: ...

    def level(self, sku: str) -> ShopStockLevel | None:
        """The level now, or None when the shop has no product with this SKU; raises when unreachable."""
        ...


class StockRecheck:
    def __init__(self, reader: ShopStockReader, intake: WebhookIntake) -> None:
        self._reader = reader
        self._intake = intake

    def recheck(self, sku: str) -> str:
        """Read the SKU's level and queue it; what happened, in words for the log."""
        level = self._reader.level(sku)
        if level is None:
            return "the shop has no product with this SKU"
        if level.quantity is None:
            return "the shop does not count this product's stock"
        stock = min(max(level.quantity, 0), MAX_STOCK)  # backorders (below 0) are nothing to sell
        digest = hashlib.sha256(f"{sku}|{level.read_at.isoformat()}|{stock}".encode()).hexdigest()[:24]
        event = StockSet(
            delivery_id=f"stock-recheck-{digest}",
            occurred_at=level.read_at,
            version=level.version,
            source=self._reader.kind,
            sku=sku,
            stock=stock,
        )
        return self._intake.accept(changed_delivery(self._reader.kind, [event])).outcome.value
