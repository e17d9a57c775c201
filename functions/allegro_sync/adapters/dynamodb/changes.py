"""The change log in the `changes` table: every change made on Allegro, with its reason.

Layout: pk="sku#<sku>", sk="<ISO time>#<account>#<random>" — a SKU's history is one Query, newest
first; the offer id is an attribute, so a seller who only knows the offer finds it through the SKU
(`external.id` on Allegro). Items never expire: "who changed this price, and why" has no deadline.

Routine stock pushes are not items here: each offer's newest ones ride on its pushed record in the ledger
table (one write per push, `adapters/dynamodb/pushed.py`) and `history` merges them in; older ones are in
the stock propagator's logs. The reconciler's repairs, re-creations and anything a push could not record
there are items here like every other change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.catalog import Change
from allegro_sync.contracts.records.changes import ChangeItem

SKU_PK = "sku#"


def change_item(change: Change) -> dict[str, Any]:
    """The stored form of one change (a fresh sort key: two changes never overwrite each other)."""
    return items.to_stored(
        ChangeItem,
        change,
        pk=SKU_PK + change.sku,
        sk=f"{change.at}#{change.account}#{uuid.uuid4().hex[:12]}",
        changes=json.dumps(change.changes, ensure_ascii=False, default=str),
    ).item()


class DynamoChangeLog:
    """`ChangeLog` on DynamoDB."""

    def __init__(self, table: Any, stock_changes: Callable[[str], list[Change]] | None = None) -> None:
        """`stock_changes`: the SKU's recent stock pushes kept beside the ledger (`DynamoPushLog`)."""
        self._table = table
        self._stock_changes = stock_changes

    def record(self, change: Change) -> None:
        self._table.put_item(Item=change_item(change))

    def history(self, sku: str, *, limit: int = 100) -> list[Change]:
        page = self._table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": SKU_PK + sku},
            ScanIndexForward=False,
            Limit=limit,
        )
        logged = [_change(i) for i in page.get("Items", [])]
        if self._stock_changes is None:
            return logged
        merged = sorted([*logged, *self._stock_changes(sku)], key=lambda c: c.at, reverse=True)
        return merged[:limit]


def _change(raw: dict[str, Any]) -> Change:
    item = ChangeItem.from_item(raw)
    return items.from_stored(Change, item, changes=json.loads(item.changes))
