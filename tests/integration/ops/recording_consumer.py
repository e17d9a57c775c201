"""Stand-in consumer for the stock-changes queue: records each body it is handed (replay tests)."""

from __future__ import annotations

from typing import Any

received: list[str] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    received.extend(record["body"] for record in event["Records"])
    return {"batchItemFailures": []}
