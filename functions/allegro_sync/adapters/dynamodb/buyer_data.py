"""Buyers' personal data on the `orders` table, next to its order: pk="order#<form id>", sk="buyer".

The order worker writes it before the shop-outbox message that refers to it; the shop notifier reads it by
key; DynamoDB's TTL removes it at `expires_at` (within days of it: a read treats an expired item as gone);
`buyers forget` finds a buyer's items with one filtered Scan (an operator's rare command, never a function's).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import boto3

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.records.orders import BuyerDataItem
from allegro_sync.domain.orders import BuyerDetails

ORDER_PK = "order#"
BUYER_SK = "buyer"


def _key(checkout_form_id: str) -> dict[str, Any]:
    return items.dump({"pk": ORDER_PK + checkout_form_id, "sk": BUYER_SK})


def _json(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _details(raw: Mapping[str, Any]) -> BuyerDetails:
    item = BuyerDataItem.from_item(items.load(raw))
    return BuyerDetails(
        checkout_form_id=item.pk.removeprefix(ORDER_PK),
        account=item.account,
        buyer=json.loads(item.buyer) if item.buyer else None,
        delivery=json.loads(item.delivery) if item.delivery else None,
        expires_at=item.expires_at,
    )


class DynamoBuyerData:
    """`BuyerDataStore` (order worker), `BuyerDataSource` (shop notifier) and `StoredBuyers` (the CLI)."""

    def __init__(
        self, table_name: str, client: Any = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._clock = clock

    def keep(self, details: BuyerDetails) -> None:
        item = BuyerDataItem(
            pk=ORDER_PK + details.checkout_form_id,
            sk=BUYER_SK,
            account=details.account,
            buyer=_json(details.buyer),
            delivery=_json(details.delivery),
            expires_at=details.expires_at,
        )
        self._client.put_item(TableName=self._table, Item=items.dump(item.item()))

    def read(self, checkout_form_id: str) -> BuyerDetails | None:
        """The form's buyer data; None when never stored, erased, or past its expiry (TTL not run yet)."""
        raw = self._client.get_item(
            TableName=self._table, Key=_key(checkout_form_id), ConsistentRead=True
        ).get("Item")
        if not raw:
            return None
        details = _details(raw)
        return details if details.expires_at > self._clock() else None

    def everyone(self) -> Iterator[BuyerDetails]:
        """Every stored buyer item (expired ones too: they are personal data until TTL deletes them)."""
        only_buyers = {
            "FilterExpression": "sk = :sk",
            "ExpressionAttributeValues": items.dump({":sk": BUYER_SK}),
        }
        for raw in items.all_items(
            self._client.scan, TableName=self._table, ConsistentRead=True, **only_buyers
        ):
            yield _details(raw)

    def erase(self, checkout_form_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key=_key(checkout_form_id))
