"""Consumer of the standard `shop-outbox` queue: every order change (return, buyer message) to the shop, once.

Powertools' `BatchProcessor` reports each failed record on its own, so one order the shop refuses does
not hold back the others. A shop that is down is asked once per batch (services/shop_probe.py) and
fails the records; they come back together on the next tick of a probe clock whose step is at most a
quarter of the time each has been failing, 2 s to 256 s (`adapters/redelivery.py`, D15), so a recovered
shop gets its orders within 2 s of a young outage's end and a quarter of a long one's, up to the
queue's maxReceiveCount (~50 min); after that the DLQ (alarmed) keeps them for replay. Neither the
shop's credentials nor message bodies are logged.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync import correlation
from allegro_sync.adapters.batch import RecordProcessor
from allegro_sync.adapters.sqs_records import OutboxRecord
from allegro_sync.bootstrap import application
from allegro_sync.contracts.messages import BuyerMessage, OrderChanged, OrderLabel, OrderReturned
from allegro_sync.handlers import shop_after_sale
from allegro_sync.services.shop_delivery import failure_reason

logger = Logger()
processor = RecordProcessor(OutboxRecord)


@correlation.per_record
def record_handler(record: OutboxRecord) -> None:
    message = record.body  # a malformed body failed the record before this: it ends in the DLQ for replay
    if isinstance(
        message, OrderReturned | OrderLabel | BuyerMessage
    ):  # issue 15: a return, a label, a buyer's message
        shop_after_sale.deliver(message)
        return
    if not isinstance(message, OrderChanged):
        logger.warning(
            "not an order change; the shop outbox carries only orders", extra={"kind": message.kind}
        )
        return
    logger.thread_safe_append_keys(checkout_form_id=message.checkout_form_id, message_id=message.message_id)
    try:
        result = application().shop_delivery().deliver(message)
    except Exception as error:  # recorded for `dlq show`, then SQS retries it
        application().shop_deliveries().failed(message.message_id, failure_reason(error))
        raise
    if result.duplicate:
        logger.info("superseded by a newer state" if result.superseded else "already delivered to the shop")
        return
    if result.buyer_data_gone:
        logger.warning("the buyer's data was erased or has expired: the shop got the order without it")
    if result.unconfirmed:
        logger.warning("the ledger did not know these sales", extra={"sale_ids": list(result.unconfirmed)})
    logger.info(
        "delivered to the shop",
        extra={
            "shop_order_id": result.shop_order_id,
            "confirmed": len(result.confirmed),
            "unconfirmed": len(result.unconfirmed),
        },
    )


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    application().shop_probe().new_batch()  # one probe of a down shop per batch (D15)
    return application().consume_backing_off("shop-outbox", event, context, processor, record_handler)
