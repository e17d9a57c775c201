"""The shop reconciliation's cursor in the `control` table (pk="shop-reconcile", sk=<shop kind>).

Saved with a compare-and-swap on the value the run started from: a run that lost the race (a manual
`reconcile --shop` beside the scheduled one) leaves the other's cursor, so it never moves backwards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

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
        try:
            self._table.put_item(Item=item.item(), **condition)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


class CatalogAppliedState:
    """The catalogue worker's newest accepted state per SKU (the dry run and the intake compare against it):
    the newer of the product item's order key (upserts, prices, deletes) and the stock ledger's level's,
    which a stock change alone writes (issue 21), with the level's quantity: what the product item alone
    held while every stock change wrote it too."""

    def __init__(self, catalog: DynamoCatalog, ledger: DynamoLedgerRepository) -> None:
        self._catalog = catalog
        self._ledger = ledger

    def applied_key(self, sku: str) -> str | None:
        """The product's order key: what its content, price or delete is compared with."""
        stored = self._catalog.product(sku)
        return stored.order_key if stored is not None else None

    def applied_level(self, sku: str) -> tuple[str, int | None] | None:
        stored = self._catalog.product(sku)
        level = self._ledger.load(sku).level
        keys = [order_key(level.at, level.version)] if level is not None else []
        keys += [stored.order_key] if stored is not None else []
        return (max(keys), level.quantity if level is not None else None) if keys else None
