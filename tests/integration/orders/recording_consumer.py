"""Stands in for the consumers of `stock-changes` and `shop-outbox` in the orders tests.

Those consumers belong to other areas (propagation, shop delivery); the orders tests check what the order
worker *emits*, so whatever consumes these queues is replaced by this recorder, keyed by queue.
"""

from __future__ import annotations

import json
from typing import Any

RECEIVED: dict[str, list[dict[str, Any]]] = {}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    for record in event.get("Records", []):
        queue = str(record.get("eventSourceARN", "")).rsplit(":", 1)[-1]
        RECEIVED.setdefault(queue, []).append(json.loads(record["body"]))
    return {"batchItemFailures": []}


def take(queue_fragment: str) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    for queue in sorted(RECEIVED):
        if queue_fragment in queue:
            taken.extend(RECEIVED.pop(queue))
    return taken
