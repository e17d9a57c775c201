"""The fulfillment journal in the `orders` table: each update Allegro took or refused, per order.

Layout (see contracts/records/orders.py): pk="order#<form>", sk="fulfillment#<ISO time>#<id>" per update,
and pk="attention", sk="tracking#<form>" while a refused tracking number waits for the seller (one Query
answers "which orders need me?", next to the order import's own `order#` markers).
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.orders import FulfillmentEntry
from allegro_sync.contracts.records.orders import AttentionItem, FulfillmentEntryItem

ORDER_PK = "order#"
ENTRY_SK = "fulfillment#"
ATTENTION_PK = "attention"
REFUSED_SK = "tracking#"


class DynamoFulfillmentJournal:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def add(self, entry: FulfillmentEntry) -> None:
        """Keep the entry; flag the order while its latest parcels were refused, unflag once one is taken."""
        item = items.to_stored(
            FulfillmentEntryItem,
            entry,
            pk=ORDER_PK + entry.checkout_form_id,
            sk=f"{ENTRY_SK}{entry.at}#{uuid.uuid4().hex[:8]}",
            added=list(entry.added),
            refused=list(entry.refused),
        )
        self._client.put_item(TableName=self._table, Item=items.dump(item.item()))
        marker = {"pk": ATTENTION_PK, "sk": REFUSED_SK + entry.checkout_form_id}
        if entry.refused:
            flag = AttentionItem(
                **marker, account=entry.account, reasons=[f"tracking refused: {r}" for r in entry.refused]
            )
            self._client.put_item(TableName=self._table, Item=items.dump(flag.item()))
        elif entry.added:
            self._client.delete_item(TableName=self._table, Key=items.dump(marker))

    def history(self, checkout_form_id: str) -> list[FulfillmentEntry]:
        found = items.all_items(
            self._client.query,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues=items.dump({":pk": ORDER_PK + checkout_form_id, ":sk": ENTRY_SK}),
        )
        return [_entry(items.load(raw)) for raw in found]

    def refused(self, checkout_form_id: str) -> list[str]:
        raw = self._client.get_item(
            TableName=self._table,
            Key=items.dump({"pk": ATTENTION_PK, "sk": REFUSED_SK + checkout_form_id}),
        ).get("Item")
        return list(AttentionItem.from_item(items.load(raw)).reasons) if raw else []


def _entry(raw: dict[str, Any]) -> FulfillmentEntry:
    item = FulfillmentEntryItem.from_item(raw)
    return items.from_stored(FulfillmentEntry, item, added=tuple(item.added), refused=tuple(item.refused))
