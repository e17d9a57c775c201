"""`PushLog` on the `ledger` table: the revision last pushed to each offer, written conditionally.

Layout: pk="sku#<sku>", sk="pushed#<offer id>" beside the SKU's ledger item, so one Query returns every
offer's pushed state of a SKU. The write only succeeds when the stored revision is older: a slow
invocation finishing after a newer one can never make the log claim an older value is on Allegro.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.ledger import sku_pk
from allegro_sync.contracts.records.ledger import PushedItem
from allegro_sync.contracts.stock import PushRecord

PUSHED_PREFIX = "pushed#"


class DynamoPushLog:
    def __init__(self, table_name: str, resource: Any = None) -> None:
        self._table = items.table(table_name, resource)

    def pushed(self, sku: str) -> Mapping[str, PushRecord]:
        found = items.all_items(
            self._table.query,
            KeyConditionExpression=Key("pk").eq(sku_pk(sku)) & Key("sk").begins_with(PUSHED_PREFIX),
            ConsistentRead=True,
        )
        pushed = [PushedItem.from_item(raw) for raw in found]
        return {item.sk.removeprefix(PUSHED_PREFIX): items.from_stored(PushRecord, item) for item in pushed}

    def record(self, sku: str, offer_id: str, record: PushRecord) -> bool:
        try:
            self._table.put_item(
                Item=items.to_stored(PushedItem, record, pk=sku_pk(sku), sk=PUSHED_PREFIX + offer_id).item(),
                ConditionExpression="attribute_not_exists(revision) OR revision < :r",
                ExpressionAttributeValues={":r": record.revision},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
