"""`RecoveryScheduler` over SQS: a delayed message on the standard `token-recovery` queue.

SQS keeps the message and hands it to the `token_recovery` function once the delay is over, whatever
happens to the process that sent it, which is what makes a refresher's death survivable (services/tokens.py).
Per-message delays need a standard queue (FIFO queues only have a queue-wide delay); SQS allows 0-900 s.
"""

from __future__ import annotations

from typing import Any

from allegro_sync import correlation
from allegro_sync.contracts.messages import TokenRecovery

SQS_MAX_DELAY_SECONDS = 900


class SqsRecoveryScheduler:
    def __init__(self, queue_url: str, client: Any) -> None:
        self._url = queue_url
        self._sqs = client

    def schedule(self, name: str, refresh_fingerprint: str, delay_seconds: int) -> None:
        if not 0 <= delay_seconds <= SQS_MAX_DELAY_SECONDS:
            raise ValueError(f"SQS delays a message 0-{SQS_MAX_DELAY_SECONDS} s, not {delay_seconds}")
        message = TokenRecovery(account=name, refresh_fingerprint=refresh_fingerprint)
        extra: dict[str, Any] = {}
        attributes = correlation.message_attributes(None)
        if attributes:
            extra["MessageAttributes"] = attributes
        self._sqs.send_message(
            QueueUrl=self._url, MessageBody=message.model_dump_json(), DelaySeconds=delay_seconds, **extra
        )
