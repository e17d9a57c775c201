"""The shop reconciliation's cursor in the `control` table (pk="shop-reconcile", sk=<shop kind>).

Saved with a compare-and-swap on the value the run started from: a run that lost the race (a manual
`reconcile --shop` beside the scheduled one) leaves the other's cursor, so it never moves backwards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
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
    """The catalogue worker's newest accepted state per SKU (the dry run compares against it)."""

    def __init__(self, catalog: DynamoCatalog) -> None:
        self._catalog = catalog

    def applied_key(self, sku: str) -> str | None:
        stored = self._catalog.product(sku)
        return stored.order_key if stored is not None else None

    def applied_level(self, sku: str) -> tuple[str, int | None] | None:
        stored = self._catalog.product(sku)
        return (stored.order_key, stored.stock) if stored is not None else None
