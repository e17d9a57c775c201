"""The `fulfillment` FIFO queue (group = checkout form) -> the Allegro order's fulfillment and parcels.

Set the fulfillment status (revision-checked, 409 -> re-read) and add the parcels not on the order yet.
Transient Allegro failures fail the record and SQS retries it (Powertools' FIFO partial processor returns
the rest of the batch too, so one order's updates never overtake each other); an order Allegro will never
show us (account gone, form not found) is logged and dropped instead of cycling to the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync import correlation
from allegro_sync.adapters import alarm_metrics
from allegro_sync.adapters.batch import FifoProcessor
from allegro_sync.adapters.sqs_records import ShopOrderStatusRecord
from allegro_sync.bootstrap import application
from allegro_sync.contracts.accounts import AccountDisconnected, AccountNotFound
from allegro_sync.contracts.allegro_errors import AllegroForbidden, AllegroNotFound
from allegro_sync.handlers import fulfillment_steps as steps
from allegro_sync.handlers import woocommerce_refunds

logger = Logger()
processor = FifoProcessor(model=ShopOrderStatusRecord)

UNREADABLE = (AccountNotFound, AccountDisconnected, AllegroNotFound, AllegroForbidden)


@correlation.per_record
def record_handler(record: ShopOrderStatusRecord) -> None:
    update = record.body  # a malformed body failed the record before this: it ends in the DLQ
    logger.thread_safe_append_keys(checkout_form_id=update.checkout_form_id)
    built = application()
    order = built.order_repository().get(update.checkout_form_id)
    if order is None:
        logger.warning("order update for an order we never imported; dropped")
        return
    try:
        woocommerce_refunds.shop_refunds(built, order, update)  # issue 15: per line, once each
        if update.refund is not None and not steps.refund(built, order.account, update):  # a refund only
            return
        result = built.fulfillment(order.account).apply(update)
    except UNREADABLE as error:
        reason = type(error).__name__
        logger.warning("Allegro will not show this order; update dropped", extra={"reason": reason})
        alarm_metrics.count("FulfillmentUpdatesDropped")
        return
    steps.label(built, order.account, update)  # issue 15
    steps.invoice(built, order.account, update)
    if result.refused:  # in the order's journal and "needs attention"; the alarm tells the seller
        alarm_metrics.count("FulfillmentUpdatesDropped", len(result.refused))
        logger.warning("Allegro refused tracking numbers", extra={"refused": len(result.refused)})
    logger.info(
        "fulfillment applied",
        extra={
            "status_set": result.status_set,
            "shipments_added": len(result.shipments_added),
            "revision_retries": result.revision_retries,
            "status_kept": result.status_kept,
        },
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return application().consume_after_allegro_block("fulfillment", event, context, processor, record_handler)
