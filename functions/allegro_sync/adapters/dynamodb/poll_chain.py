"""`PollChainStore` on the `control` table: pk="orders", sk="poll-tick" names the one live tick chain.

Both moves are single conditional updates, so a watchdog seeding and a tick beating at the same moment
cannot both win: either the beat renews the lease first (the seed then sees a live chain) or the seed
replaces the chain first (the beat then finds another chain and its tick stops).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.records.control import PollChainItem

CHAIN_KEY = {"pk": "orders", "sk": "poll-tick"}


class DynamoPollChain:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def _conditional(self, expression: str, condition: str, values: dict[str, Any]) -> bool:
        return items.conditional_write(
            self._client.update_item,
            TableName=self._table,
            Key=items.dump(CHAIN_KEY),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues=items.dump(values),
        )

    def seed(self, chain: str, now: float, lease_seconds: float) -> bool:
        return self._conditional(
            "SET chain = :c, beat_until = :until, seeded_at = :at, beats = :zero REMOVE beat_by",
            "attribute_not_exists(beat_until) OR beat_until < :now",
            {
                ":c": chain,
                ":until": items.number(now + lease_seconds),
                ":now": items.number(now),
                ":at": datetime.fromtimestamp(now, UTC).isoformat(),
                ":zero": 0,
            },
        )

    def beat(self, chain: str, seq: int, tick_id: str, now: float, lease_seconds: float) -> bool:
        return self._conditional(
            "SET beat_until = :until, beats = :next, beat_by = :id",
            "chain = :c AND (beats = :seq OR (beats = :next AND beat_by = :id))",
            {
                ":c": chain,
                ":seq": seq,
                ":next": seq + 1,
                ":id": tick_id,
                ":until": items.number(now + lease_seconds),
            },
        )

    def forget(self, chain: str) -> None:
        self._conditional("SET beat_until = :zero", "chain = :c", {":c": chain, ":zero": 0})

    def read(self) -> PollChainItem | None:
        """The live chain as stored, for operators and tests."""
        raw = self._client.get_item(TableName=self._table, Key=items.dump(CHAIN_KEY), ConsistentRead=True)
        return PollChainItem.from_item(items.load(raw["Item"])) if "Item" in raw else None
