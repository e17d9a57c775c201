"""Issue 15, item 4: the buyer-messages cursor (`control` table, pk `messages#<account>`, sk `cursor`).

Saved by compare-and-swap on `version` (a manual run beside the scheduled one never moves it backwards).
It holds ids and times only: a message's text is never stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from allegro_sync.contracts.buyer_messages import MessagesCursor, MessagesCursorItem


class DynamoMessagesCursor:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(account: str) -> dict[str, str]:
        return {"pk": f"messages#{account}", "sk": "cursor"}

    def load(self, account: str) -> MessagesCursor:
        raw = self._table.get_item(Key=self._key(account), ConsistentRead=True).get("Item")
        if not raw:
            return MessagesCursor()
        item = MessagesCursorItem.from_item(raw)
        return MessagesCursor(
            since=item.since,
            started_at=item.started_at,
            seen=dict(item.seen),
            issues={k: tuple(v) for k, v in item.issues.items()},
            issue_counts=dict(item.issue_counts),
            version=item.version,
        )

    def save(self, account: str, cursor: MessagesCursor, *, expected_version: int) -> bool:
        """False when another run saved first."""
        item = MessagesCursorItem(
            **self._key(account),
            since=cursor.since,
            started_at=cursor.started_at,
            seen=cursor.seen,
            issues={k: list(v) for k, v in cursor.issues.items()},
            issue_counts=cursor.issue_counts,
            version=expected_version + 1,
            saved_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        condition = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected_version == 0
            else {
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": expected_version},
            }
        )
        try:
            self._table.put_item(Item=item.item(), **condition)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
