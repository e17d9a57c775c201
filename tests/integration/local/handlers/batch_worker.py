"""Shared record logic for the queue test handlers: behaviour chosen by the message body.

Body: {"id": "...", "fail": "never" | "always", "explode_first_receive": bool}. Every successful
processing adds 1 to `times` of item pk=id in the function's `ledger` table (from its application, as a
real handler gets it), so a test can count exactly-once from what the handler wrote.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from allegro_sync.bootstrap import application


class Poison(Exception):
    """This message can never be processed."""


def _ledger() -> Any:
    return application().table("ledger")


def record(record: SQSRecord) -> None:
    body = json.loads(record.body)
    if body.get("fail") == "always":
        raise Poison(body["id"])
    _ledger().update_item(
        Key={"pk": body["id"], "sk": "processed"},
        UpdateExpression="ADD times :one SET group_id = :group, receive_count = :count",
        ExpressionAttributeValues={
            ":one": 1,
            ":group": record.attributes.message_group_id or "",
            ":count": int(record.attributes.approximate_receive_count),
        },
    )


def explode_on_first_receive(event: dict[str, Any]) -> None:
    """Raise before touching anything when asked to: Lambda must then retry the whole batch."""
    for item in event["Records"]:
        body = json.loads(item["body"])
        if body.get("explode_first_receive") and item["attributes"]["ApproximateReceiveCount"] == "1":
            raise RuntimeError("crashed before processing the batch")
