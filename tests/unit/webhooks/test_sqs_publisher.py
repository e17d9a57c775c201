"""The FIFO publisher packs batches by SQS's limits and never reports a refused message as sent."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync.adapters.queues import (
    SQS_MAX_BATCH_BYTES,
    FifoMessage,
    PublishFailed,
    SqsFifoPublisher,
    _batches,
)


def message(size: int, n: int = 0) -> FifoMessage:
    return FifoMessage("x" * size, "g", f"d{n}")


def test_batches_hold_at_most_ten_messages() -> None:
    assert [len(b) for b in _batches([message(10, i) for i in range(23)])] == [10, 10, 3]


def test_batches_stay_under_the_byte_limit() -> None:
    big = SQS_MAX_BATCH_BYTES // 3

    assert [len(b) for b in _batches([message(big, i) for i in range(5)])] == [3, 2]


def test_a_single_message_over_the_limit_is_refused_before_sending() -> None:
    with pytest.raises(PublishFailed, match="exceeds"):
        _batches([message(SQS_MAX_BATCH_BYTES + 1)])


class RefusingSqs:
    def __init__(self) -> None:
        self.calls = 0

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        return {"Successful": [], "Failed": [{"Id": "0", "Code": "InternalError", "Message": "boom"}]}


def test_a_partially_refused_batch_raises() -> None:
    sqs = RefusingSqs()

    with pytest.raises(PublishFailed, match="InternalError"):
        SqsFifoPublisher("https://queue", client=sqs).send([message(5)])
    assert sqs.calls == 1
