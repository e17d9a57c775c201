"""`PushLog` on the `ledger` table: the revision last pushed to each offer, written conditionally.

Layout: pk="sku#<sku>", sk="pushed#<offer id>" beside the SKU's ledger item, so one Query returns every
offer's pushed state of a SKU. The write only succeeds when the stored revision is older: a slow
invocation finishing after a newer one can never make the log claim an older value is on Allegro.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb.ledger import sku_pk
from allegro_sync.contracts.records.ledger import PushedItem
from allegro_sync.contracts.stock import PushRecord

PUSHED_PREFIX = "pushed#"


class DynamoPushLog:
    def __init__(self, table_name: str, resource: Any = None) -> None:
        self._table = (resource or boto3.resource("dynamodb")).Table(table_name)

    def pushed(self, sku: str) -> Mapping[str, PushRecord]:
        found: dict[str, PushRecord] = {}
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(sku_pk(sku)) & Key("sk").begins_with(PUSHED_PREFIX),
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**kwargs)
            for raw in page.get("Items", []):
                item = PushedItem.from_item(raw)
                found[item.sk.removeprefix(PUSHED_PREFIX)] = PushRecord(
                    revision=item.revision, action=item.action, quantity=item.quantity, account=item.account
                )
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def record(self, sku: str, offer_id: str, record: PushRecord) -> bool:
        try:
            self._table.put_item(
                Item=PushedItem(
                    pk=sku_pk(sku),
                    sk=PUSHED_PREFIX + offer_id,
                    revision=record.revision,
                    action=record.action,
                    quantity=record.quantity,
                    account=record.account,
                ).item(),
                ConditionExpression="attribute_not_exists(revision) OR revision < :r",
                ExpressionAttributeValues={":r": record.revision},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
