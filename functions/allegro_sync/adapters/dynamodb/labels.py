"""Label records in the `orders` table (contracts/records/orders.py `LabelItem`), one per package.

Every write is conditional on the state the writer read, so two attempts at the same package (a retried
SQS record and the CLI) can never both move it on: the loser reads the winner's record and carries on.
"""

from __future__ import annotations

from typing import Any

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.records.orders import LabelItem
from allegro_sync.contracts.shipping import LabelRecord

ORDER_PK = "order#"
LABEL_SK = "label#"


def _key(checkout_form_id: str, package: int) -> dict[str, str]:
    return {"pk": ORDER_PK + checkout_form_id, "sk": f"{LABEL_SK}{package:03d}"}


class DynamoLabelBook:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    def get(self, checkout_form_id: str, package: int) -> LabelRecord | None:
        raw = self._client.get_item(
            TableName=self._table, Key=items.dump(_key(checkout_form_id, package)), ConsistentRead=True
        ).get("Item")
        return _record(items.load(raw)) if raw else None

    def latest(self, checkout_form_id: str) -> LabelRecord | None:
        found = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues=items.dump({":pk": ORDER_PK + checkout_form_id, ":sk": LABEL_SK}),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        ).get("Items", [])
        return _record(items.load(found[0])) if found else None

    def save(self, record: LabelRecord, *, expected: str | None) -> bool:
        item = LabelItem.model_validate(
            {**_key(record.checkout_form_id, record.package), **record.model_dump()}
        )
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if expected is not None:
            condition = {
                "ConditionExpression": "#state = :expected",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": items.dump({":expected": expected}),
            }
        return items.conditional_write(
            self._client.put_item, TableName=self._table, Item=items.dump(item.item()), **condition
        )


def _record(raw: dict[str, Any]) -> LabelRecord:
    item = LabelItem.from_item(raw)
    return LabelRecord.model_validate(item.model_dump(exclude={"pk", "sk"}))
