"""A consumer that fails every record and sets its visibility itself, to the seconds in its body (a
record whose `come_back_after` is null is left to the event source's retry)."""

from __future__ import annotations

import json
from typing import Any

from allegro_sync.bootstrap import application


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    del context
    records = event["Records"]
    response = {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
    wanted = {r["receiptHandle"]: json.loads(r["body"])["come_back_after"] for r in records}
    seconds = {handle: int(after) for handle, after in wanted.items() if after is not None}
    application().redelivery("rescheduled").apply(event, response, lambda failed: seconds)
    return response
