"""SQS publishers. `SqsFifoPublisher` sends JSON messages to a FIFO queue in batches of up to 10.

Reusable by any producer: give it (body, group id, de-duplication id) triples. Each message also carries
the `correlation_id` attribute (its own, else the one being processed: `allegro_sync.correlation`), outside
the body so de-duplication and idempotency never see it. A batch entry SQS
refuses raises `PublishFailed` naming it, so the caller answers "retry" instead of losing a message;
entries sent before the failure are harmless on retry because FIFO de-duplication drops them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from allegro_sync import correlation
from allegro_sync.contracts.messages import SHOP_EVENT_ADAPTER, ShopEvent
from allegro_sync.contracts.webhooks import QueuedEvent

SQS_MAX_BATCH_ENTRIES = 10
SQS_MAX_BATCH_BYTES = 256 * 1024  # per message and per batch (the classic limit; safe on every account)


@dataclass(frozen=True)
class FifoMessage:
    body: str
    group_id: str
    deduplication_id: str
    # None: the correlation id of the event being processed (`correlation.current()`), if any.
    correlation_id: str | None = None

    def attributes(self) -> dict[str, dict[str, str]]:
        return correlation.message_attributes(self.correlation_id)


class PublishFailed(RuntimeError):
    """SQS did not take every message; nothing about the delivery should be marked done."""


class SqsFifoPublisher:
    """Sends messages to one FIFO queue, packing batches by count and size."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._url = queue_url
        self._sqs = client or boto3.client("sqs")

    def send(self, messages: Sequence[FifoMessage]) -> None:
        for batch in _batches(messages):
            entries: list[dict[str, Any]] = []
            for i, m in enumerate(batch):
                entry: dict[str, Any] = {
                    "Id": str(i),
                    "MessageBody": m.body,
                    "MessageGroupId": m.group_id,
                    "MessageDeduplicationId": m.deduplication_id,
                }
                attributes = m.attributes()
                if attributes:
                    entry["MessageAttributes"] = attributes
                entries.append(entry)
            answer = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            failed = answer.get("Failed") or []
            if failed:
                reasons = "; ".join(f"{f.get('Code')}: {f.get('Message', '')}"[:200] for f in failed)
                raise PublishFailed(f"{len(failed)} of {len(entries)} messages refused by SQS: {reasons}")


def _batches(messages: Sequence[FifoMessage]) -> list[list[FifoMessage]]:
    batches: list[list[FifoMessage]] = []
    current: list[FifoMessage] = []
    size = 0
    for message in messages:
        length = len(message.body.encode()) + _attributes_size(message.attributes())
        if length > SQS_MAX_BATCH_BYTES:
            raise PublishFailed(f"a message of {length} bytes exceeds SQS's {SQS_MAX_BATCH_BYTES} bytes")
        if current and (len(current) == SQS_MAX_BATCH_ENTRIES or size + length > SQS_MAX_BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(message)
        size += length
    if current:
        batches.append(current)
    return batches


def _attributes_size(attributes: dict[str, dict[str, str]]) -> int:
    """SQS counts attribute names, types and values towards the 256 KiB message limit."""
    return sum(
        len(name.encode()) + len(a["DataType"].encode()) + len(a["StringValue"].encode())
        for name, a in attributes.items()
    )


class ShopEventQueue:
    """`ShopEventPublisher` over the `shop-events` FIFO queue: one message per event, JSON body."""

    def __init__(self, publisher: SqsFifoPublisher) -> None:
        self._publisher = publisher

    def publish(self, events: Sequence[QueuedEvent]) -> None:
        self._publisher.send(
            [FifoMessage(queued_event_json(q.event), q.group_id, q.deduplication_id) for q in events]
        )


def queued_event_json(event: ShopEvent) -> str:
    """How an event travels on the queue (the worker gets it parsed: `ShopEventRecord`)."""
    return SHOP_EVENT_ADAPTER.dump_json(event).decode()
