"""Order notices (FIFO, group = checkout form) -> current checkout form -> ledger, order record, outbox.

Powertools' `SqsFifoPartialProcessor`: after a failure the rest of the batch is returned too, so a form's
later notices never overtake an earlier one. A form Allegro deleted (404: a combined payment replaced it)
is recorded as DELETED; one that cannot be read for good (account unknown, disconnected, 403) needs
attention instead of cycling to the DLQ; transient failures fail the record and SQS retries it.
Notices of one form that arrive together cost one Allegro read: only the last one imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync import correlation
from allegro_sync.adapters import alarm_metrics
from allegro_sync.adapters.batch import CoalescingFifoProcessor, json_field
from allegro_sync.adapters.sqs_records import OrderNoticeRecord
from allegro_sync.bootstrap import application
from allegro_sync.contracts.accounts import AccountDisconnected, AccountNotFound
from allegro_sync.contracts.allegro_errors import AllegroForbidden, AllegroNotFound

logger = Logger()
processor = CoalescingFifoProcessor(key=json_field("checkout_form_id"), model=OrderNoticeRecord)

UNREADABLE = (AccountNotFound, AccountDisconnected, AllegroForbidden)


@correlation.per_record
def record_handler(record: OrderNoticeRecord) -> None:
    notice = record.body  # a malformed body failed the record before this: it ends in the DLQ for replay
    logger.thread_safe_append_keys(
        account=notice.account, checkout_form_id=notice.checkout_form_id, source=notice.source
    )
    if processor.superseded(record):
        # A later notice of this form is in the batch; notices carry no order data (the form is read
        # fresh), so that one import covers both. If it fails, FIFO order fails it and everything after.
        logger.info("order notice coalesced with a later one of the form")
        return
    app = application()
    importer = app.order_importer()
    try:
        form = app.allegro(notice.account).checkout_form(notice.checkout_form_id)
    except AllegroNotFound:  # Allegro deletes a form only when a combined payment replaced it (#1111)
        importer.record_deleted(notice)
        logger.info("order deleted by Allegro (combined payment); its sales live on in the new form")
        return
    except UNREADABLE as error:
        importer.record_unreachable(notice, f"{type(error).__name__}: {error}"[:300])
        logger.warning(
            "order cannot be read from Allegro; recorded as needing attention",
            extra={"reason": type(error).__name__},
        )
        alarm_metrics.count("OrdersNeedingAttention")
        return
    result = importer.import_form(notice.account, form)
    if result.attention:
        alarm_metrics.count("OrdersNeedingAttention")
        logger.warning("order needs the seller's attention", extra={"reasons": list(result.attention)})
    counts = {"taken": len(result.taken), "returned": len(result.returned)}
    logger.info("order imported", extra={"status": result.status, "changed": result.changed, **counts})


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return application().consume_after_allegro_block("orders", event, context, processor, record_handler)
