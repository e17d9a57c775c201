"""The shop reconciliation's cursor in the `control` table (pk="shop-reconcile", sk=<shop kind>).

Saved with a compare-and-swap on the value the run started from: a run that lost the race (a manual
`reconcile --shop` beside the scheduled one) leaves the other's cursor, so it never moves backwards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.contracts.catalog import order_key
from allegro_sync.contracts.records.control import ShopCursorItem

PK = "shop-reconcile"


class DynamoShopCursor:
    def __init__(self, table: Any) -> None:
        self._table = table

    def read(self, kind: str) -> str | None:
        item = self._table.get_item(Key={"pk": PK, "sk": kind}, ConsistentRead=True).get("Item")
        return ShopCursorItem.from_item(item).cursor if item else None

    def save(self, kind: str, cursor: str, *, expected: str | None) -> bool:
        item = ShopCursorItem(pk=PK, sk=kind, cursor=cursor, saved_at=datetime.now(UTC).isoformat())
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected is None
            else {
                "ConditionExpression": "#c = :expected",
                "ExpressionAttributeNames": {"#c": "cursor"},
                "ExpressionAttributeValues": {":expected": expected},
            }
        )
        return items.conditional_write(self._table.put_item, Item=item.item(), **condition)


class LedgerLevels:
    """The shop's level per SKU with its order key, from the stock ledger, the one record of a stock change
    (issue 21): what the webhook intake compares a shop-dated level with, in one read. A level older than
    the product's last upsert (which the worker also ignores) is not caught here: it is queued, and the
    worker finds nothing to do."""

    def __init__(self, ledger: DynamoLedgerRepository) -> None:
        self._ledger = ledger

    def applied_level(self, sku: str) -> tuple[str, int | None] | None:
        level = self._ledger.load(sku).level
        return None if level is None else (order_key(level.at, level.version), level.quantity)


class CatalogAppliedState(LedgerLevels):
    """The catalogue worker's newest accepted state per SKU, for the reconciliation's dry run: the shop's
    level (`LedgerLevels`) and the product's order key."""

    def __init__(self, catalog: DynamoCatalog, ledger: DynamoLedgerRepository) -> None:
        super().__init__(ledger)
        self._catalog = catalog

    def applied_key(self, sku: str) -> str | None:
        """The product's order key: what its content, price or delete is compared with."""
        stored = self._catalog.product(sku)
        return stored.order_key if stored is not None else None
