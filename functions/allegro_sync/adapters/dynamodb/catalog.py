"""Shop products and their offer links in the `catalog` table.

Layout (string keys, per CONTRIBUTING):
- product: pk="product#<sku>", sk="product"       — the newest accepted state, guarded by `order_key`;
- link:    pk="product#<sku>", sk="offer#<account>" — offer id, status, readable reasons, synced fingerprints.
One partition per SKU, so `products status SKU` is one Query and a product never waits on another.

The product write is conditional (`order_key <= :new`): DynamoDB itself refuses an older event, so two
workers racing on one SKU (a redelivery next to a newer event) can never put an older state back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.changes import change_item
from allegro_sync.contracts.catalog import (
    Change,
    LinkStatus,
    OfferLink,
    Outcome,
    ProductStatus,
    StoredProduct,
)
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.contracts.records.catalog import OfferLinkItem, ProductItem

PRODUCT_PK = "product#"
PRODUCT_SK = "product"
LINK_SK = "offer#"


def link_item(link: OfferLink) -> dict[str, Any]:
    return items.to_stored(
        OfferLinkItem,
        link,
        pk=PRODUCT_PK + link.sku,
        sk=LINK_SK + link.account,
        status=link.status.value,
        candidates=json.dumps(list(link.candidates)),
        last_error=None if link.last_error is None else json.dumps(link.last_error, ensure_ascii=False),
    ).item()


class DynamoCatalog:
    """`CatalogRepository` on DynamoDB."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def accept(self, product: StoredProduct) -> Outcome:
        return self.accept_noting_new(product)[0]

    def accept_noting_new(self, product: StoredProduct) -> tuple[Outcome, bool]:
        item = items.to_stored(
            ProductItem,
            product,
            pk=PRODUCT_PK + product.sku,
            sk=PRODUCT_SK,
            upsert=None if product.upsert is None else product.upsert.model_dump_json(),
            price=None if product.price is None else str(product.price),
        )
        try:
            answer = self._table.put_item(
                Item=item.item(),
                ConditionExpression="attribute_not_exists(pk) OR order_key <= :key",
                ExpressionAttributeValues={":key": product.order_key},
                ReturnValues="ALL_OLD",  # free: a write's answer, not a read
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return Outcome.STALE, False
            raise
        return Outcome.APPLIED, not answer.get("Attributes")

    def product(self, sku: str) -> StoredProduct | None:
        item = self._table.get_item(Key={"pk": PRODUCT_PK + sku, "sk": PRODUCT_SK}, ConsistentRead=True).get(
            "Item"
        )
        return _product(item) if item else None

    def link(self, sku: str, account: str) -> OfferLink | None:
        item = self._table.get_item(
            Key={"pk": PRODUCT_PK + sku, "sk": LINK_SK + account}, ConsistentRead=True
        ).get("Item")
        return _link(item) if item else None

    def existing_links(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        wanted = [{"pk": PRODUCT_PK + sku, "sk": LINK_SK + account} for sku, account in dict.fromkeys(keys)]
        for start in range(0, len(wanted), 100):  # BatchGetItem's limit
            request: dict[str, Any] = {
                self._table.name: {"Keys": wanted[start : start + 100], "ProjectionExpression": "pk, sk"}
            }
            for attempt in range(5):
                answer = self._table.meta.client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table.name, []):
                    found.add((str(item["pk"])[len(PRODUCT_PK) :], str(item["sk"])[len(LINK_SK) :]))
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))
            else:
                raise RuntimeError("DynamoDB left links unread")
        return found

    def links(self, sku: str) -> list[OfferLink]:
        return self.status(sku).links

    def save_link(self, link: OfferLink) -> None:
        self._table.put_item(Item=link_item(link))

    def status(self, sku: str) -> ProductStatus:
        found = list(
            items.all_items(
                self._table.query,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": PRODUCT_PK + sku},
                ConsistentRead=True,
            )
        )
        product = next((_product(i) for i in found if i["sk"] == PRODUCT_SK), None)
        links = [_link(i) for i in found if str(i["sk"]).startswith(LINK_SK)]
        return ProductStatus(product=product, links=sorted(links, key=lambda link: link.account))

    def skus(self, *, status: LinkStatus | None = None) -> list[str]:
        """Every SKU with a link (in `status`, if given): `products list --waiting` for the CLI. A scan."""
        links = items.all_items(
            self._table.scan, ProjectionExpression="sku, sk, #s", ExpressionAttributeNames={"#s": "status"}
        )
        return sorted(
            {
                str(item["sku"])
                for item in links
                if str(item["sk"]).startswith(LINK_SK) and (status is None or item.get("status") == status)
            }
        )


def _product(raw: dict[str, Any]) -> StoredProduct:
    item = ProductItem.from_item(raw)
    return items.from_stored(
        StoredProduct,
        item,
        upsert=ProductUpsert.model_validate_json(item.upsert) if item.upsert else None,
        price=Decimal(item.price) if item.price is not None else None,
    )


def _link(raw: dict[str, Any]) -> OfferLink:
    item = OfferLinkItem.from_item(raw)
    return items.from_stored(
        OfferLink,
        item,
        status=LinkStatus(item.status),
        reasons=tuple(item.reasons),
        last_error=json.loads(item.last_error) if item.last_error else None,
        candidates=tuple(json.loads(item.candidates or "[]")),
        synced=dict(item.synced),
        images=dict(item.images),
    )


class DynamoLinkWrites:
    """An offer link and the changes that led to it in one TransactWriteItems (two tables, one call, all or
    nothing: a link never says "published" without the record of why), instead of a PutItem each. A
    transaction needs no more than PutItem on each table, where a BatchWriteItem grant would be broader."""

    def __init__(self, catalog: Any, changes: Any) -> None:
        self._catalog = catalog
        self._changes = changes

    def save(self, link: OfferLink, changes: Sequence[Change]) -> None:
        puts = [{"Put": {"TableName": self._catalog.name, "Item": link_item(link)}}]
        puts += [{"Put": {"TableName": self._changes.name, "Item": change_item(c)}} for c in changes]
        self._catalog.meta.client.transact_write_items(TransactItems=puts)
