"""Dead-letter queue inspection and replay, for operators.

A message lands in a DLQ after its consumer failed `max_receive_count` times. Showing must never lose
it (peek with a zero visibility timeout, never delete); replaying sends it back to the source queue
BEFORE deleting it from the DLQ, so a crash in between duplicates rather than loses (consumers are
idempotent). FIFO replays keep the message group and the original deduplication id, so a second
replay within SQS's 5-minute window is dropped by SQS itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allegro_sync.topology import TOPOLOGY, Topology, dlq_env, queue_env

# How long a message being replayed stays hidden in the DLQ: long enough to send and delete it.
REPLAY_VISIBILITY_SECONDS = 30
BODY_PREVIEW_CHARS = 400


class UnknownQueue(LookupError):
    """The operator named a queue the topology does not have (or the deployment lacks its URLs)."""


@dataclass(frozen=True)
class DlqSummary:
    queue: str
    dlq_url: str
    messages: int
    in_flight: int
    oldest_age_seconds: float | None  # of the messages sampled; None when empty


@dataclass(frozen=True)
class DeadMessage:
    message_id: str
    receive_count: int
    first_seen: float  # epoch seconds the message was first sent (SQS SentTimestamp)
    body: str
    group_id: str | None
    deduplication_id: str | None

    def pretty_body(self, limit: int = BODY_PREVIEW_CHARS) -> str:
        """JSON bodies indented, anything else as is; cut at `limit` characters so a screen stays readable."""
        try:
            text = json.dumps(json.loads(self.body), indent=2, ensure_ascii=False, sort_keys=True)
        except ValueError:
            text = self.body
        return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more chars)"


@dataclass(frozen=True)
class Replayed:
    message_id: str
    group_id: str | None
    deduplication_id: str | None
    sent: bool  # False on a dry run


@dataclass(frozen=True)
class QueueUrls:
    source: str
    dlq: str
    fifo: bool


def _message(raw: dict[str, Any]) -> DeadMessage:
    attrs = raw.get("Attributes", {})
    return DeadMessage(
        message_id=raw["MessageId"],
        receive_count=int(attrs.get("ApproximateReceiveCount", 0)),
        first_seen=int(attrs.get("SentTimestamp", 0)) / 1000,
        body=raw.get("Body", ""),
        group_id=attrs.get("MessageGroupId"),
        deduplication_id=attrs.get("MessageDeduplicationId"),
    )


class DeadLetters:
    """Operations on the DLQs of the topology's queues, given `env` (QUEUE_*_URL / QUEUE_*_DLQ_URL)."""

    def __init__(
        self,
        sqs: Any,
        env: dict[str, str],
        topology: Topology = TOPOLOGY,
        clock: Callable[[], float] = time.time,
        replay_visibility_seconds: int = REPLAY_VISIBILITY_SECONDS,
    ) -> None:
        self._replay_visibility = replay_visibility_seconds
        self._sqs = sqs
        self._clock = clock
        self._topology = topology
        self._urls: dict[str, QueueUrls] = {}
        for queue in topology.queues:
            source, dlq = env.get(queue_env(queue.name)), env.get(dlq_env(queue.name))
            if source and dlq:
                self._urls[queue.name] = QueueUrls(source, dlq, queue.fifo)

    @property
    def queues(self) -> list[str]:
        return list(self._urls)

    def urls(self, queue: str) -> QueueUrls:
        if queue not in self._urls:
            known = ", ".join(self._urls) or "none found"
            raise UnknownQueue(f"no dead-letter queue for {queue!r} (known: {known})")
        return self._urls[queue]

    def summaries(self) -> list[DlqSummary]:
        return [self.summary(name) for name in self._urls]

    def summary(self, queue: str) -> DlqSummary:
        url = self.urls(queue).dlq
        attrs = self._sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        visible = int(attrs.get("ApproximateNumberOfMessages", 0))
        oldest = None
        if visible:
            seen = self.peek(queue, limit=10)
            if seen:
                oldest = max(0.0, self._clock() - min(m.first_seen for m in seen))
        return DlqSummary(
            queue, url, visible, int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)), oldest
        )

    def _receive(self, url: str, count: int, visibility: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(10, count)),
            VisibilityTimeout=visibility,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def peek(self, queue: str, limit: int = 10) -> list[DeadMessage]:
        """Up to `limit` messages, left in the DLQ (zero visibility timeout: nothing is hidden or deleted)."""
        if limit < 1:
            raise ValueError("--limit must be at least 1")
        url = self.urls(queue).dlq
        found: dict[str, DeadMessage] = {}
        for _ in range(limit // 10 + 3):  # a few extra rounds: SQS may answer with a subset
            fresh = [
                m
                for m in map(_message, self._receive(url, limit - len(found), 0))
                if m.message_id not in found
            ]
            if not fresh:
                break
            for message in fresh[: limit - len(found)]:
                found[message.message_id] = message
            if len(found) >= limit:
                break
        return sorted(found.values(), key=lambda m: m.first_seen)

    def replay(self, queue: str, limit: int = 10, *, dry_run: bool = False) -> list[Replayed]:
        """Move up to `limit` messages back to the source queue: send first, then delete from the DLQ."""
        if limit < 1:
            raise ValueError("--limit must be at least 1")
        if dry_run:
            return [
                Replayed(m.message_id, m.group_id, m.deduplication_id, sent=False)
                for m in self.peek(queue, limit)
            ]
        urls = self.urls(queue)
        moved: list[Replayed] = []
        while len(moved) < limit:
            batch = self._receive(urls.dlq, limit - len(moved), self._replay_visibility)
            if not batch:
                break
            for raw in batch:
                message = _message(raw)
                send: dict[str, Any] = {"QueueUrl": urls.source, "MessageBody": message.body}
                if raw.get("MessageAttributes"):
                    send["MessageAttributes"] = raw["MessageAttributes"]
                dedup = None
                if urls.fifo:
                    # Without the original group the consumer's per-SKU/order ordering would break; the
                    # original dedup id lets SQS drop a second replay of the same message.
                    dedup = message.deduplication_id or message.message_id
                    send["MessageGroupId"] = message.group_id or message.message_id
                    send["MessageDeduplicationId"] = dedup
                self._sqs.send_message(**send)
                self._sqs.delete_message(QueueUrl=urls.dlq, ReceiptHandle=raw["ReceiptHandle"])
                moved.append(Replayed(message.message_id, message.group_id, dedup, sent=True))
        return moved
