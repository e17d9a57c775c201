"""SQS FIFO `shop-events` -> Allegro offers on every connected seller account.

Thin wiring: each record arrives parsed into a shop event (`ShopEventRecord`) and goes to `Publisher`;
partial failures are reported. `FifoProcessor(skip_group_on_error=True)`: when a record fails, the later
records of the same SKU (message group) in the batch fail with it, so they are retried in order; other
SKUs go on.

A failed record is retried by SQS after the visibility timeout (6 x this function's timeout), or one
second after Allegro's block while one lasts (`adapters/redelivery.py`). Allegro's longest block (429: one
minute, extended by calls made during it) is far shorter than `maxReceiveCount` (5) x that timeout, so a
rate limit never pushes a shop event to the DLQ early.

Configuration: `OFFER_SETTINGS` (JSON, optional; read by `settings.py`, parsed by the composition root)
holds the seller's offer defaults and EU product-safety data — see `OfferSettings`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync import correlation
from allegro_sync.adapters.batch import FifoProcessor
from allegro_sync.adapters.sqs_records import ShopEventRecord, message_groups
from allegro_sync.bootstrap import application
from allegro_sync.contracts.catalog import LinkStatus

logger = Logger()
processor = FifoProcessor(model=ShopEventRecord, skip_group_on_error=True)


@correlation.per_record
def record_handler(record: ShopEventRecord) -> None:
    event = record.body  # a malformed body failed the record before this: it ends in the DLQ, kept for replay
    logger.thread_safe_append_keys(sku=event.sku, delivery_id=event.delivery_id)
    delivery = int(record.attributes.ApproximateReceiveCount)
    report = application().publisher().handle(event, delivery=delivery)
    waiting = [a for a, s in report.links.items() if s in (LinkStatus.WAITING, LinkStatus.FAILED)]
    logger.info(
        "shop event applied",
        extra={
            "event_type": event.type,
            "outcome": report.outcome.value,
            "links": dict(report.links),
            "not_published": len(waiting),
        },
    )


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # the batch's accounts, mappings and links read once (group = SKU)
    with application().publisher().batch(message_groups(event)):
        return application().consume_after_allegro_block(
            "shop-events", event, context, processor, record_handler
        )
