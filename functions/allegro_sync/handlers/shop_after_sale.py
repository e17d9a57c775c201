"""The shop notifier's after-sale messages (issue 15): a customer return taken back into stock, an order's
label handed to the shop as a short-lived link, and a buyer's message (its text is never logged). Each is
delivered once (the delivery log, the shop's `Idempotency-Key`, a WooCommerce note's marker); a failure is
recorded for `dlq show` and retried by SQS."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from allegro_sync.bootstrap import application
from allegro_sync.contracts.messages import BuyerMessage, OrderLabel, OrderReturned
from allegro_sync.services.shop_delivery import DeliveryResult, failure_reason

logger = Logger(child=True)


def deliver(message: OrderReturned | OrderLabel | BuyerMessage) -> None:
    logger.thread_safe_append_keys(checkout_form_id=message.checkout_form_id, message_id=message.message_id)
    app = application()
    try:
        if isinstance(message, OrderReturned):
            result: DeliveryResult = app.shop_delivery().deliver_return(message)
        elif isinstance(message, BuyerMessage):
            result = app.shop_delivery().deliver_buyer_message(message)
        else:
            result = app.shop_delivery().deliver_label(message, app.label_link())
    except Exception as error:
        app.shop_deliveries().failed(message.message_id, failure_reason(error))
        raise
    what = {"order.returned": "return", "order.label": "label link"}.get(message.kind, "buyer message")
    counts = {"duplicate": result.duplicate, "skipped": int(result.skipped)}
    if result.skipped:  # the shop has no documented place for it (docs/after-sale.md)
        logger.info(f"{what} not sent: the shop takes none", extra=counts)
    else:
        logger.info(f"{what} delivered to the shop", extra=counts)
