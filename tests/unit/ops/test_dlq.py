"""DeadLetters against a fake SQS: what is sent where, and bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync.services.dlq import DeadLetters, DeadMessage, UnknownQueue

ENV = {
    "QUEUE_SHOP_OUTBOX_URL": "outbox",
    "QUEUE_SHOP_OUTBOX_DLQ_URL": "outbox-dlq",
    "QUEUE_ORDERS_URL": "orders",
    "QUEUE_ORDERS_DLQ_URL": "orders-dlq",
}


class FakeSqs:
    def __init__(self, messages: dict[str, list[dict[str, Any]]]) -> None:
        self.queues = messages
        self.sent: list[dict[str, Any]] = []
        self.deleted: list[str] = []

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int, **_: Any) -> dict[str, Any]:
        pending = [m for m in self.queues.get(QueueUrl, []) if m["ReceiptHandle"] not in self.deleted]
        return {"Messages": pending[:MaxNumberOfMessages]}

    def send_message(self, **request: Any) -> dict[str, Any]:
        self.sent.append(request)
        return {"MessageId": "new"}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.append(ReceiptHandle)


def dead(i: int, **attrs: str) -> dict[str, Any]:
    return {
        "MessageId": f"m{i}",
        "ReceiptHandle": f"r{i}",
        "Body": f'{{"n": {i}}}',
        "Attributes": {"ApproximateReceiveCount": "8", "SentTimestamp": str(1000 * (100 + i)), **attrs},
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "order"}},
    }


def test_standard_queue_replay_sends_body_and_attributes_then_deletes_up_to_limit() -> None:
    sqs = FakeSqs({"outbox-dlq": [dead(1), dead(2), dead(3)]})
    moved = DeadLetters(sqs, ENV).replay("shop-outbox", limit=2)
    assert [m.message_id for m in moved] == ["m1", "m2"]
    assert sqs.sent == [
        {"QueueUrl": "outbox", "MessageBody": '{"n": 1}', "MessageAttributes": dead(1)["MessageAttributes"]},
        {"QueueUrl": "outbox", "MessageBody": '{"n": 2}', "MessageAttributes": dead(2)["MessageAttributes"]},
    ]
    assert sqs.deleted == ["r1", "r2"]


def test_fifo_replay_keeps_group_and_dedup_id() -> None:
    sqs = FakeSqs({"orders-dlq": [dead(1, MessageGroupId="form-7", MessageDeduplicationId="evt-9")]})
    DeadLetters(sqs, ENV).replay("orders")
    assert sqs.sent[0]["MessageGroupId"] == "form-7"
    assert sqs.sent[0]["MessageDeduplicationId"] == "evt-9"


def test_dry_run_and_peek_send_and_delete_nothing() -> None:
    sqs = FakeSqs({"orders-dlq": [dead(2), dead(1)]})
    letters = DeadLetters(sqs, ENV)
    assert [r.sent for r in letters.replay("orders", dry_run=True)] == [False, False]
    assert [m.message_id for m in letters.peek("orders")] == ["m1", "m2"]  # oldest first
    assert sqs.sent == []
    assert sqs.deleted == []


def test_bad_input_is_refused_before_touching_sqs() -> None:
    sqs = FakeSqs({"orders-dlq": [dead(1)]})
    letters = DeadLetters(sqs, ENV)
    with pytest.raises(UnknownQueue, match="no dead-letter queue for 'stock-changes'"):
        letters.replay("stock-changes")  # not in this env
    with pytest.raises(ValueError, match="at least 1"):
        letters.replay("orders", limit=0)
    assert sqs.sent == []
    assert sqs.deleted == []


def test_body_is_pretty_and_truncated() -> None:
    message = DeadMessage("m", 1, 0.0, '{"b": 1, "a": "' + "x" * 50 + '"}', None, None)
    assert message.pretty_body(limit=1000).startswith('{\n  "a": "xxx')
    short = message.pretty_body(limit=20)
    assert short.startswith('{\n  "a": "xxx')
    assert short.endswith("more chars)")
    assert DeadMessage("m", 1, 0.0, "not json", None, None).pretty_body() == "not json"
