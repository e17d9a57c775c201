"""`StockRechecks` over SQS: a delayed message on the standard `stock-rechecks` queue.

SQS keeps the message and hands it to the `stock_rechecker` function once the delay is over, whatever happens
to the process that sent it. Per-message delays need a standard queue (FIFO queues only have a queue-wide
delay); SQS allows 0-900 s, so a longer wait is cut to 900 s (the read then finds the doubt unsettled and the
ledger asks again).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allegro_sync import correlation
from allegro_sync.adapters.token_recovery import SQS_MAX_DELAY_SECONDS
from allegro_sync.contracts.messages import StockRecheck


class SqsStockRechecks:
    def __init__(self, queue_url: Callable[[], str], client: Any) -> None:
        self._url = queue_url
        self._sqs = client

    def schedule(self, sku: str, delay_seconds: int) -> None:
        extra: dict[str, Any] = {}
        attributes = correlation.message_attributes(None)
        if attributes:
            extra["MessageAttributes"] = attributes
        self._sqs.send_message(
            QueueUrl=self._url(),
            MessageBody=StockRecheck(sku=sku).model_dump_json(),
            DelaySeconds=min(max(delay_seconds, 0), SQS_MAX_DELAY_SECONDS),
            **extra,
        )
