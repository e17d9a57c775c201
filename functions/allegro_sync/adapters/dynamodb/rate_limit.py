"""The app-wide Allegro "blocked until" record and the shared request pool, in the `control` table.

One item (pk="allegro#client", sk="rate-limit") shared by every function instance. Writes are conditional
so a late writer can never shorten a block another instance recorded (`blocked_until` only moves forward).
"""

from __future__ import annotations

import math
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from allegro_sync.adapters.allegro.shared_budget import Draw
from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.records.control import BlockedUntilItem

logger = Logger(child=True)

PK = "allegro#client"
SK = "rate-limit"
# Keep the item a day past the block so an operator can still see the last block; TTL then removes it.
RETENTION_SECONDS = 24 * 3600
# Budget for a process whose function forgot `allegro_rpm` in the topology: small, so it is noticed.
FALLBACK_RPM_BUDGET = 60

_deserializer = TypeDeserializer()


class DynamoBlockedUntilStore:
    """`BlockedUntilStore` on DynamoDB; `blocked_until` is stored in epoch milliseconds."""

    def __init__(self, table_name: str, *, client: Any = None) -> None:
        self._table = table_name
        self._client = client if client is not None else boto3.client("dynamodb")
        self._key = {"pk": {"S": PK}, "sk": {"S": SK}}

    def read_blocked_until(self) -> float:
        item = self._client.get_item(TableName=self._table, Key=self._key).get("Item")
        if not item:
            return 0.0
        plain = {k: _deserializer.deserialize(v) for k, v in item.items()}
        return BlockedUntilItem.from_item(plain).blocked_until / 1000.0

    def extend_blocked_until(self, until: float) -> None:
        until_ms = math.ceil(until * 1000)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key,
                UpdateExpression="SET blocked_until = :until, expires_at = :expires",
                ConditionExpression="attribute_not_exists(blocked_until) OR blocked_until < :until",
                ExpressionAttributeValues={
                    ":until": {"N": str(until_ms)},
                    ":expires": {"N": str(math.ceil(until) + RETENTION_SECONDS)},
                },
            )
        except ClientError as error:
            if not items.condition_failed(error):
                raise
            # Someone already recorded a later end of the block: theirs stands.


BUDGET_PK = "allegro#budget"
# A slot's item is read by nobody after its 10 s: TTL removes it an hour later.
BUDGET_RETENTION_SECONDS = 3600


class DynamoSharedBudget:
    """`SharedBudget` on DynamoDB: one item per 10 s slot (pk="allegro#budget", sk="slot#<n>"), counted
    with one conditional `ADD` per draw, so concurrent instances can never pass a slot's cap together."""

    def __init__(self, table_name: str, *, client: Any = None, slot_seconds: float = 10.0) -> None:
        self._table = table_name
        self._client = client if client is not None else boto3.client("dynamodb")
        self._slot_seconds = slot_seconds
        self.claims = 0

    def claim(
        self, slot: int, tokens: int, *, limit: int, seller: str = "", writes: int = 0, writes_limit: int = 0
    ) -> Draw:
        names = {"#used": "used"}
        values: dict[str, Any] = {
            ":n": {"N": str(tokens)},
            ":room": {"N": str(limit - tokens)},
            ":expires": {"N": str(math.ceil((slot + 1) * self._slot_seconds) + BUDGET_RETENTION_SECONDS)},
        }
        adds = "#used :n"
        condition = "(attribute_not_exists(#used) OR #used <= :room)"
        if writes:
            names["#writes"] = f"writes#{seller}"
            values[":w"] = {"N": str(writes)}
            values[":wroom"] = {"N": str(writes_limit - writes)}
            adds += ", #writes :w"
            condition += " AND (attribute_not_exists(#writes) OR #writes <= :wroom)"
        self.claims += 1
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": BUDGET_PK}, "sk": {"S": f"slot#{slot}"}},
                UpdateExpression=f"ADD {adds} SET expires_at = :expires",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not items.condition_failed(error):
                raise
            return _draw(False, error.response.get("Item") or {}, names)
        return _draw(True, answer.get("Attributes") or {}, names)


def _draw(granted: bool, item: dict[str, Any], names: dict[str, str]) -> Draw:
    """The counts an answer carries (what the slot holds now, or held when the draw was refused)."""

    def count(name: str) -> int:
        value = item.get(name, {}).get("N")
        return int(value) if value is not None else 0

    return Draw(granted, count("used"), count(names["#writes"]) if "#writes" in names else 0)
