"""A compare-and-swap put on an item's `version`: the followers' cursors (issue 15) move only forward."""

from __future__ import annotations

from typing import Any

from allegro_sync.adapters.dynamodb import items


def put_if_version(table: Any, item: dict[str, Any], expected_version: int) -> bool:
    """Put `item` when the stored one's `version` is `expected_version` (0: nothing stored yet); False when
    another writer saved first."""
    condition = (
        {"ConditionExpression": "attribute_not_exists(pk)"}
        if expected_version == 0
        else {
            "ConditionExpression": "#v = :v",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":v": expected_version},
        }
    )
    return items.conditional_write(table.put_item, Item=item, **condition)
