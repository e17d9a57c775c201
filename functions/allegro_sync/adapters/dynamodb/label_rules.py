"""Each seller's label rule (`contracts.shipping.LabelRule`) in the `control` table: pk="labels",
sk="rule#<account>". Written by the CLI (`orders label-rule`), read by the fulfillment worker."""

from __future__ import annotations

import json
from typing import Any

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.shipping import LabelRule

PK = "labels"


class DynamoLabelRules:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    def get(self, account: str) -> LabelRule | None:
        raw = self._client.get_item(
            TableName=self._table, Key=items.dump({"pk": PK, "sk": f"rule#{account}"})
        ).get("Item")
        return LabelRule.model_validate_json(items.load(raw)["rule"]) if raw else None

    def put(self, rule: LabelRule) -> None:
        item = {"pk": PK, "sk": f"rule#{rule.account}", "rule": json.dumps(rule.model_dump(mode="json"))}
        self._client.put_item(TableName=self._table, Item=items.dump(item))
