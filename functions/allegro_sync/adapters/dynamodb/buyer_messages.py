"""Issue 15, item 4: the buyer-messages cursor (`control` table, pk `messages#<account>`, sk `cursor`).

Saved by compare-and-swap on `version` (a manual run beside the scheduled one never moves it backwards).
It holds ids and times only: a message's text is never stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from allegro_sync.adapters.dynamodb.versioned import put_if_version
from allegro_sync.contracts.buyer_messages import MessagesCursor, MessagesCursorItem


class DynamoMessagesCursor:
    def __init__(self, table: Any) -> None:
        self._table = table

    def load(self, account: str) -> MessagesCursor:
        key = {"pk": f"messages#{account}", "sk": "cursor"}
        stored = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return MessagesCursorItem.from_item(stored).cursor() if stored else MessagesCursor()

    def save(self, account: str, cursor: MessagesCursor, *, expected_version: int) -> bool:
        """False when another run saved first."""
        saved_at = datetime.now(UTC).isoformat(timespec="seconds")
        item = MessagesCursorItem.of(account, cursor, version=expected_version + 1, saved_at=saved_at)
        return put_if_version(self._table, item.item(), expected_version)
