"""SQS adapters of the order flow: the `orders` FIFO queue, the `stock-changes` FIFO hook, the shop outbox.

FIFO ids go through `fifo_safe`: a SKU with spaces or Polish letters is not a valid group id, so it is
replaced by a stable hash (same SKU, same group).

Correlation (`allegro_sync.correlation`): an order notice starts a chain, so it carries its own id (the
Allegro order event id, or the checkout form id for a gap-scan notice); stock changes and outbox messages
carry the id of the notice being processed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from allegro_sync import correlation
from allegro_sync.adapters.queues import FifoMessage, SqsFifoPublisher
from allegro_sync.contracts.messages import (
    BuyerMessage,
    OrderChanged,
    OrderLabel,
    OrderNotice,
    OrderReturned,
    PollTick,
    ShopOrderStatus,
    StockChanged,
    fifo_safe,
)
from allegro_sync.domain.ledger import StockView

logger = Logger(child=True)


class SqsOrderQueue:
    """`OrderQueue`: group = checkout form id (one form at a time), de-duplication = event or revision."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._publisher = SqsFifoPublisher(queue_url, client)

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

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._publisher = SqsFifoPublisher(queue_url, client)

    def publish(self, messages: Sequence[StockChanged]) -> None:
        self._publisher.send(
            [FifoMessage(m.model_dump_json(), fifo_safe(m.sku), fifo_safe(m.message_id)) for m in messages]
        )


class SqsShopOutbox:
    """`ShopOutbox` on the standard `shop-outbox` queue; consumers de-duplicate by `message_id`."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._url = queue_url
        self._sqs = client or boto3.client("sqs")

    def publish_order(self, message: OrderChanged) -> None:
        self._publish(message)

    def publish_return(self, message: OrderReturned) -> None:
        """Issue 15: a customer return taken back into stock (services/returns.py)."""
        self._publish(message)

    def publish_label(self, message: OrderLabel) -> None:
        """Issue 15: an order's label is stored; the notifier hands the shop a link (services/labels.py)."""
        self._publish(message)

    def publish_buyer_message(self, message: BuyerMessage) -> None:
        """Issue 15, item 4: a buyer's message (services/buyer_messages.py)."""
        self._publish(message)

    def _publish(self, message: OrderChanged | OrderReturned | OrderLabel | BuyerMessage) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=message.model_dump_json(),
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": message.kind},
                "message_id": {"DataType": "String", "StringValue": message.message_id},
                **correlation.message_attributes(),
            },
        )


class SqsStockChanges:
    """The catalogue's `StockChanges` on the `stock-changes` FIFO queue: the order worker's message.

    Same model, group (SKU) and de-duplication id (SKU + revision) as the order worker's, so a change the
    two report for one revision is pushed once.
    The queue URL is resolved on first send: the stock propagator builds this publisher too (to recreate
    an archived offer) and seldom has anything to send.
    """

    def __init__(self, queue_url: Callable[[], str], client: Any = None) -> None:
        self._url, self._client = queue_url, client
        self._publisher: SqsFifoPublisher | None = None

    def stock_changed(self, view: StockView, cause: str) -> None:
        message = StockChanged.from_view(view, cause=cause)
        if self._publisher is None:
            self._publisher = SqsFifoPublisher(self._url(), self._client)
        self._publisher.send(
            [FifoMessage(message.model_dump_json(), fifo_safe(view.sku), fifo_safe(message.message_id))]
        )


class SqsFulfillmentQueue:
    """The `fulfillment` FIFO queue: group = checkout form (one order's updates apply in order),
    de-duplicated by content (the same update sent twice within SQS's window is queued once)."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._publisher = SqsFifoPublisher(queue_url, client)

    def send(self, update: ShopOrderStatus) -> None:
        payload = update.model_dump_json()
        digest = hashlib.sha256(payload.encode()).hexdigest()
        self._publisher.send([FifoMessage(payload, fifo_safe(update.checkout_form_id), digest)])


class SqsPollTicks:
    """`TickQueue` on the standard `poll-tick` queue: only a standard queue delays each message on its own."""

    def __init__(self, queue_url: str, client: Any) -> None:
        self._url = queue_url
        self._sqs = client

    def send(self, chain: str, seq: int, delay_seconds: int) -> None:
        body = PollTick(chain=chain, seq=seq).model_dump_json()
        self._sqs.send_message(QueueUrl=self._url, MessageBody=body, DelaySeconds=delay_seconds)
