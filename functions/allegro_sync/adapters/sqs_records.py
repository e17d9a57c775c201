"""Each queue's SQS record as its consumer receives it: the Lambda record, its body parsed into the
queue's message (`contracts/messages.py`).

The batch processors validate every record with these (`model=`), so a record handler gets a typed message
and never parses. A body that does not parse fails that record alone (Powertools reports it as a failed
item), so SQS retries it and the queue's DLQ keeps it for a look, as a bad message always did.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Json

from allegro_sync.contracts.messages import (
    OrderNotice,
    OutboxMessage,
    ShopEvent,
    ShopOrderStatus,
    StockChanged,
    StockRecheck,
    TokenRecovery,
)


class SqsAttributes(BaseModel):
    """A record's SQS `attributes`, as Powertools' `SqsAttributesModel` has them."""

    model_config = ConfigDict(defer_build=True)

    ApproximateReceiveCount: str
    ApproximateFirstReceiveTimestamp: datetime
    MessageDeduplicationId: str | None = None
    MessageGroupId: str | None = None
    SenderId: str
    SentTimestamp: datetime
    SequenceNumber: str | None = None
    AWSTraceHeader: str | None = None
    DeadLetterQueueSourceArn: str | None = None


class SqsMessageAttribute(BaseModel):
    """One of a record's `messageAttributes` (the correlation id travels in one)."""

    model_config = ConfigDict(defer_build=True)

    stringValue: str | None = None
    binaryValue: str | None = None
    stringListValues: list[str] = []
    binaryListValues: list[str] = []
    dataType: str


class QueueRecord(BaseModel):
    """A Lambda SQS record, field for field Powertools' `SqsRecordModel`, which the batch processors accept
    as `model=` like theirs. Ours because importing theirs loads Powertools' parser and builds its SQS models
    at import (about a sixth of a bare `import boto3`, bench/cold_import.py), and, once pydantic is loaded,
    makes Powertools' batch build its Kinesis, DynamoDB and Kafka models too. Every schema here is built on
    first use, not at a handler's cold start."""

    model_config = ConfigDict(defer_build=True)

    messageId: str
    receiptHandle: str
    body: str | BaseModel
    attributes: SqsAttributes
    messageAttributes: dict[str, SqsMessageAttribute]
    md5OfBody: str
    md5OfMessageAttributes: str | None = None
    eventSource: Literal["aws:sqs"]
    eventSourceARN: str
    awsRegion: str


class _QueueRecord(QueueRecord):
    """A queue's record: its body is the queue's message."""


class ShopEventRecord(_QueueRecord):
    """`shop-events` (FIFO, group = SKU)."""

    body: Json[ShopEvent]


class OrderNoticeRecord(_QueueRecord):
    """`orders` (FIFO, group = checkout form)."""

    body: Json[OrderNotice]


class StockChangedRecord(_QueueRecord):
    """`stock-changes` (FIFO, group = SKU); its consumer parses the batch as a whole, record by record."""

    body: Json[StockChanged]


class OutboxRecord(_QueueRecord):
    """`shop-outbox` (standard): order changes, and any other outbox message, told apart by `kind`."""

    body: Json[OutboxMessage]


class ShopOrderStatusRecord(_QueueRecord):
    """`fulfillment` (FIFO, group = checkout form)."""

    body: Json[ShopOrderStatus]


class TokenRecoveryRecord(_QueueRecord):
    """`token-recovery` (standard, each message delayed inside Allegro's 60 s refresh grace)."""

    body: Json[TokenRecovery]


class StockRecheckRecord(_QueueRecord):
    """`stock-rechecks` (standard, each message delayed until a read of the shop settles a sale in doubt)."""

    body: Json[StockRecheck]


def message_groups(event: Mapping[str, Any]) -> list[str]:
    """The FIFO message groups of a Lambda SQS event, read before the records are parsed (for `shop-events`,
    the SKUs), so a batch's reads can be made once."""
    records = event.get("Records") or []
    return [str(g) for r in records if (g := (r.get("attributes") or {}).get("MessageGroupId"))]
