"""Progress of `allegro-sync catalog import` in the `control` table, so an interrupted import resumes.

Why the control table and not a local file: the deployment is the one place every operator (and every
laptop) shares, so a rerun from another machine or a CI job resumes too; the table already holds the
system's cursors and leases, and its TTL (`expires_at`) cleans the records up after 30 days.

Layout: pk="catalog-import#<file sha256>", sk="meta" (name, rows, started_at) and sk="sku#<sku>" per
queued SKU. One Query lists what a rerun skips.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.catalog import CONTENT_SK, PRODUCT_SK
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.contracts.records.control import ImportedSkuItem, ImportMetaItem

IMPORT_PK = "catalog-import#"
META_SK = "meta"
SKU_SK = "sku#"
KEEP_SECONDS = 30 * 24 * 3600


class DynamoImportProgress:
    """`services.catalog_import.ImportProgress` on DynamoDB."""

    def __init__(self, table: Any, *, clock: Any = time.time) -> None:
        self._table = table
        self._clock = clock

    def _expires(self) -> int:
        return int(self._clock()) + KEEP_SECONDS

    def begin(self, digest: str, *, name: str, rows: int, at: datetime) -> datetime:
        answer = self._table.update_item(
            Key={"pk": IMPORT_PK + digest, "sk": META_SK},
            UpdateExpression=(
                "SET started_at = if_not_exists(started_at, :at), file_name = :n, #r = :r, expires_at = :e"
            ),
            ExpressionAttributeNames={"#r": "rows"},
            ExpressionAttributeValues={":at": at.isoformat(), ":n": name, ":r": rows, ":e": self._expires()},
            ReturnValues="ALL_NEW",
        )
        return datetime.fromisoformat(ImportMetaItem.from_item(answer["Attributes"]).started_at)

    def queued(self, digest: str) -> set[str]:
        found = items.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
            ExpressionAttributeValues={":pk": IMPORT_PK + digest, ":s": SKU_SK},
            ProjectionExpression="sk",
            ConsistentRead=True,
        )
        return {str(i["sk"])[len(SKU_SK) :] for i in found}

    def mark_queued(self, digest: str, skus: Sequence[str]) -> None:
        expires = self._expires()
        with self._table.batch_writer() as batch:
            for sku in skus:
                batch.put_item(
                    Item=ImportedSkuItem(pk=IMPORT_PK + digest, sk=SKU_SK + sku, expires_at=expires).item()
                )


def catalog_products(table: Any) -> list[ProductUpsert]:
    """Every shop product the catalogue holds with a full picture, not deleted (`mappings suggest`). A scan.

    Reads the `catalog` table's product items (pk="product#<sku>", sk="product": `deleted`) and their content
    items (sk="content": the last upsert); an earlier version's product item carries `upsert` itself (see
    dynamodb/catalog.py).
    """
    products = items.all_items(
        table.scan,
        FilterExpression="sk IN (:product, :content)",
        ExpressionAttributeValues={":product": PRODUCT_SK, ":content": CONTENT_SK},
        ProjectionExpression="pk, sk, upsert, deleted",
    )
    content: dict[str, str] = {}
    deleted: set[str] = set()
    for item in products:
        if item.get("deleted"):
            deleted.add(str(item["pk"]))
        if item.get("upsert") and (item["sk"] == CONTENT_SK or str(item["pk"]) not in content):
            content[str(item["pk"])] = str(item["upsert"])
    found = [ProductUpsert.model_validate_json(raw) for pk, raw in content.items() if pk not in deleted]
    return sorted(found, key=lambda p: p.sku)
