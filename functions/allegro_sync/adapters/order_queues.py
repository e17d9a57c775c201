"""SQS adapters of the order flow: the `orders` FIFO queue, the `stock-changes` FIFO hook, the shop outbox.

FIFO ids go through `fifo_safe`: a SKU with spaces or Polish letters is not a valid group id, so it is
replaced by a stable hash (same SKU, same group).

Correlation (`adapters.correlation`): an order notice starts a chain, so it carries its own id (the Allegro
order event id, or the checkout form id for a gap-scan notice); stock changes and outbox messages carry the
id of the notice being processed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from allegro_sync.adapters import correlation
from allegro_sync.adapters.queues import FifoMessage, SqsFifoPublisher
from allegro_sync.domain.orders import OrderNotice, fifo_safe
from allegro_sync.domain.outbox import OrderChanged, StockChanged
from allegro_sync.topology import queue_env

logger = Logger(child=True)


class SqsOrderQueue:
    """`OrderQueue`: group = checkout form id (one form at a time), de-duplication = event or revision."""

    def __init__(self, queue_url: str | None = None, client: Any = None) -> None:
        self._publisher = SqsFifoPublisher(queue_url or os.environ[queue_env("orders")], client)

    def publish(self, notices: Sequence[OrderNotice]) -> None:
        self._publisher.send(
            [
                FifoMessage(n.model_dump_json(), n.group_id, n.deduplication_id, notice_correlation_id(n))
                for n in notices
            ]
        )
        for notice in notices:
            # One line per notice under its own id: where an order's chain starts in the logs.
            with correlation.scope(notice_correlation_id(notice)):
                logger.info(
                    "order notice queued",
                    extra={
                        "account": notice.account,
                        "checkout_form_id": notice.checkout_form_id,
                        "source": notice.source,
                        "event_type": notice.event_type,
                    },
                )


def notice_correlation_id(notice: OrderNotice) -> str:
    """The Allegro order event id (poller), or the checkout form id (gap scan, which has no event)."""
    return notice.event_id or notice.checkout_form_id


class SqsStockChangeHook:
    """`StockChangeHook` on the `stock-changes` FIFO queue: group = SKU, de-duplication = SKU + revision."""

    def __init__(self, queue_url: str | None = None, client: Any = None) -> None:
        self._publisher = SqsFifoPublisher(queue_url or os.environ[queue_env("stock-changes")], client)

    def publish(self, messages: Sequence[StockChanged]) -> None:
        self._publisher.send(
            [FifoMessage(m.model_dump_json(), fifo_safe(m.sku), fifo_safe(m.message_id)) for m in messages]
        )


class SqsShopOutbox:
    """`ShopOutbox` on the standard `shop-outbox` queue; consumers de-duplicate by `message_id`."""

    def __init__(self, queue_url: str | None = None, client: Any = None) -> None:
        self._url = queue_url or os.environ[queue_env("shop-outbox")]
        self._sqs = client or boto3.client("sqs")

    def publish_order(self, message: OrderChanged) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=message.model_dump_json(),
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": message.kind},
                "message_id": {"DataType": "String", "StringValue": message.message_id},
                **correlation.message_attributes(),
            },
        )
