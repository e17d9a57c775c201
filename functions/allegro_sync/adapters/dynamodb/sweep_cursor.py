"""A sweep's continuation in the `control` table (pk="sweep", sk=<sweep>): where the next run goes on.

One item per sweep, written after each page and deleted when a cycle ends. The sweeping functions run with
reserved concurrency 1, so a plain put is enough; read strongly consistent because the next run may start
within seconds of the save.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from allegro_sync.contracts.records.control import SweepCursorItem
from allegro_sync.contracts.sweeps import SweepPosition

PK = "sweep"


class DynamoSweepCursor:
    def __init__(self, table: Any, sweep: str) -> None:
        self._table = table
        self._key = {"pk": PK, "sk": sweep}

    def load(self) -> SweepPosition | None:
        item = self._table.get_item(Key=self._key, ConsistentRead=True).get("Item")
        if not item:
            return None
        stored = SweepCursorItem.from_item(item)
        return SweepPosition(stored.account, stored.offset)

    def save(self, position: SweepPosition) -> None:
        item = SweepCursorItem(
            **self._key,
            account=position.account,
            offset=position.offset,
            saved_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self._table.put_item(Item=item.item())

    def clear(self) -> None:
        self._table.delete_item(Key=self._key)
