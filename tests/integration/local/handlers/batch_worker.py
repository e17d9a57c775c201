"""Shared record logic for the queue test handlers: behaviour chosen by the message body.

Body: {"id": "...", "fail": "never" | "always", "explode_first_receive": bool}. Every successful
processing adds 1 to `times` of item pk=id in the table named by TABLE_LEDGER, so a test can count
exactly-once from what the handler wrote through its own environment, as a real consumer would.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class Poison(Exception):
    """This message can never be processed."""


@cache
def _ledger() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["TABLE_LEDGER"])


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
