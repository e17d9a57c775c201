"""Webhook memory in DynamoDB (the `idempotency` table): delivery markers and the shop product index.

Layout (string keys pk/sk, per CONTRIBUTING):
- delivery marker: pk="webhook-delivery#<source>#<key>", sk="delivery"; status pending|queued; TTL
  `expiration` (the table's TTL attribute) `DELIVERY_MEMORY_DAYS` ahead. Read before queueing, written
  once after (status queued): a crash in between leaves no marker, so the shop's retry is queued again.
- product index: pk="webhook-product#<source>#<shop>#<id>", sk="skus"; a string set of every SKU the product
  (and its variations) was seen with, so WooCommerce's id-only `product.deleted` can name them. No TTL.
- Shopify inventory item: pk="shopify-inventory#<shop>#<inventory item id>", sk="levels"; its variant's SKU
  and a map of the last `available` per location id. No TTL (one small item per variant).
- refused input: pk="shop-refusal#<sku>", sk="latest"; the last refused data of a SKU and why (TTL as
  the markers).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from allegro_sync.contracts.records.idempotency import (
    DeliveryMarkerItem,
    InventoryItemRecord,
    ProductIndexItem,
    RefusalItem,
)
from allegro_sync.contracts.webhooks import DELIVERY_MEMORY_DAYS, Refusal, Source

TABLE = "idempotency"
TTL_ATTRIBUTE = "expiration"  # topology: Table("idempotency", ttl_attribute="expiration")


class DynamoDeliveryMarkers:
    """`DeliveryMarkers`: one item per delivery, written once (1 write unit) after its events are queued.

    `claim` only reads (strongly consistent): a `queued` marker makes the delivery a duplicate; anything else
    lets it be queued. There is no `pending` write before queueing: a crash between the queueing and the
    marker leaves no marker, so the shop's retry queues again (the stable FIFO de-duplication ids absorb a
    double send within 5 minutes) exactly as a crashed `pending` marker allowed before, at half the writes.
    Two concurrent deliveries of one id both pass `claim`, as they did with the conditional put (a
    `pending` marker never refused), and SQS drops the second send.
    """

    def __init__(self, table: Any, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._clock = clock

    @staticmethod
    def _key(source: Source, key: str) -> dict[str, str]:
        return {"pk": f"webhook-delivery#{source}#{key}", "sk": "delivery"}

    def claim(self, source: Source, key: str) -> bool:
        item = self._table.get_item(Key=self._key(source, key), ConsistentRead=True).get("Item")
        return item is None or DeliveryMarkerItem.from_item(item).status != "queued"

    def mark_queued(self, source: Source, key: str, events: int) -> None:
        now = int(self._clock())
        where = self._key(source, key)
        self._table.put_item(
            Item=DeliveryMarkerItem(
                pk=where["pk"],
                sk=where["sk"],
                status="queued",
                received_at=now,
                expiration=now + DELIVERY_MEMORY_DAYS * 86_400,  # TTL_ATTRIBUTE
                events=events,
            ).item()
        )


class DynamoProductIndex:
    """`ProductIndex`: shop product id -> every SKU seen for it (a DynamoDB string set, only ever grows)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(source: Source, product: str) -> dict[str, str]:
        return {"pk": f"webhook-product#{source}#{product}", "sk": "skus"}

    def remember(self, source: Source, product: str, skus: Sequence[str]) -> None:
        self._table.update_item(
            Key=self._key(source, product),
            UpdateExpression="ADD skus :s SET updated_at = :t",
            ExpressionAttributeValues={":s": set(skus), ":t": int(time.time())},
        )

    def skus(self, source: Source, product: str) -> list[str]:
        item = self._table.get_item(Key=self._key(source, product), ConsistentRead=True).get("Item")
        return sorted(ProductIndexItem.from_item(item).skus) if item else []


class DynamoInventoryItems:
    """`InventoryItems`: one item per Shopify inventory item; each write sets one attribute, so two
    locations' levels arriving at once cannot overwrite each other, and the answer is the item after it."""

    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(item: str) -> dict[str, str]:
        return {"pk": f"shopify-inventory#{item}", "sk": "levels"}

    def link(self, item: str, sku: str) -> None:
        self._table.update_item(
            Key=self._key(item),
            UpdateExpression="SET sku = :s, levels = if_not_exists(levels, :empty)",
            ExpressionAttributeValues={":s": sku, ":empty": {}},
        )

    def level(self, item: str, location: str, available: int) -> tuple[str | None, dict[str, int]]:
        key = self._key(item)
        self._table.update_item(  # the map must exist before one of its entries can be set
            Key=key,
            UpdateExpression="SET levels = if_not_exists(levels, :empty)",
            ExpressionAttributeValues={":empty": {}},
        )
        stored = self._table.update_item(
            Key=key,
            UpdateExpression="SET levels.#l = :n",
            ExpressionAttributeNames={"#l": location},
            ExpressionAttributeValues={":n": available},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        record = InventoryItemRecord.from_item(stored)
        return record.sku, dict(record.levels)


class DynamoRefusals:
    """`RefusalLog`: the last refused shop data per SKU, for `products status` (kept like the markers)."""

    def __init__(self, table: Any, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._clock = clock

    @staticmethod
    def _key(sku: str) -> dict[str, str]:
        return {"pk": f"shop-refusal#{sku}", "sk": "latest"}

    def record(self, source: Source, delivery_key: str, refusals: Sequence[Refusal]) -> None:
        now = int(self._clock())
        for refusal in refusals:
            self._table.put_item(
                Item=RefusalItem(
                    **self._key(refusal.sku),
                    source=source,
                    reason=refusal.reason[:1000],
                    delivery=delivery_key[:300],
                    at=now,
                    expiration=now + DELIVERY_MEMORY_DAYS * 86_400,
                ).item()
            )

    def latest(self, sku: str) -> RefusalItem | None:
        item = self._table.get_item(Key=self._key(sku), ConsistentRead=True).get("Item")
        return RefusalItem.from_item(item) if item else None
