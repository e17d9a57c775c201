"""Issue 15, item 3: the returns cursor (`control` table) and the refund journal (`orders` table).

Both are written with conditions only: the cursor by compare-and-swap on its `version` (a manual run beside
the scheduled one never moves it backwards or forgets a waiting return), a refund entry by a conditional put
(`attribute_not_exists`: the first request claims the command id) and a conditional update to `sent`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.versioned import put_if_version
from allegro_sync.contracts.after_sale import RefundEntry, ReturnsCursor
from allegro_sync.contracts.records.control import ReturnsCursorItem
from allegro_sync.contracts.records.orders import RefundItem


class DynamoReturnsCursor:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(account: str) -> dict[str, str]:
        return {"pk": f"returns#{account}", "sk": "cursor"}

    def load(self, account: str) -> ReturnsCursor:
        raw = self._table.get_item(Key=self._key(account), ConsistentRead=True).get("Item")
        if not raw:
            return ReturnsCursor()
        item = ReturnsCursorItem.from_item(raw)
        return ReturnsCursor(
            item.last_seen, tuple(item.waiting), item.claims_since, item.version, item.started_at
        )

    def save(self, account: str, cursor: ReturnsCursor, *, expected_version: int) -> bool:
        """False when another run saved first (this run's work is then repeated, harmlessly, next time)."""
        item = ReturnsCursorItem(
            **self._key(account),
            last_seen=cursor.last_seen,
            waiting=list(cursor.waiting),
            claims_since=cursor.claims_since,
            started_at=cursor.started_at,
            version=expected_version + 1,
            saved_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

        return put_if_version(self._table, item.item(), expected_version)


class DynamoRefundJournal:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(checkout_form_id: str, key: str) -> dict[str, str]:
        return {"pk": f"order#{checkout_form_id}", "sk": f"refund#{key}"}

    def get(self, checkout_form_id: str, key: str) -> RefundEntry | None:
        raw = self._table.get_item(Key=self._key(checkout_form_id, key), ConsistentRead=True).get("Item")
        if not raw:
            return None
        item = RefundItem.from_item(raw)
        if item.status == "sent":
            return RefundEntry(item.command_id, "sent", item.body, item.total, item.refund_id)
        return RefundEntry(item.command_id, "pending", item.body, item.total, item.refund_id)

    def claim(self, checkout_form_id: str, key: str, entry: RefundEntry) -> bool:
        """Record the planned command before it is sent; False when the request was claimed already."""
        item = RefundItem(
            **self._key(checkout_form_id, key),
            command_id=entry.command_id,
            status="pending",
            body=entry.body,
            total=entry.total,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        condition = "attribute_not_exists(pk)"
        return items.conditional_write(self._table.put_item, Item=item.item(), ConditionExpression=condition)

    def mark_sent(self, checkout_form_id: str, key: str, refund_id: str) -> None:
        items.conditional_write(
            self._table.update_item,
            Key=self._key(checkout_form_id, key),
            UpdateExpression="SET #s = :sent, refund_id = :r",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":sent": "sent", ":r": refund_id},
        )
