"""SQS FIFO `stock-changes` (group = SKU) -> every linked Allegro offer of the SKU.

The batch is handled as a whole, not record by record: ten changes of one SKU become one push of the
ledger's newest value (`services/propagation.py`). A SKU whose push failed (rate limit, 5xx, unconfirmed
stock) has all its records reported as failures, so SQS redelivers them (when the block that failed them
ends, else in 5 s: adapters/redelivery.py) and the next attempt reads the ledger again; other SKUs are
done. Order inside a group does not matter here: every message only says "look at the ledger", so a
failed record never needs to hold back the ones after it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from allegro_sync import correlation
from allegro_sync.adapters import alarm_metrics
from allegro_sync.adapters.sqs_records import StockChangedRecord
from allegro_sync.bootstrap import application
from allegro_sync.contracts.messages import StockChanged

logger = Logger()


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures: list[str] = []
    signals: list[tuple[str, StockChanged]] = []
    for record in event.get("Records", []):
        # Each SKU's pushes are logged under the correlation id of its newest message (see propagation).
        cid = correlation.of_record(record)
        try:
            parsed = StockChangedRecord.model_validate(record)
            signals.append((parsed.messageId, parsed.body.model_copy(update={"correlation_id": cid})))
        except ValidationError as error:
            # Malformed: fails every time, so it reaches the DLQ and is kept for a look.
            with correlation.scope(cid):
                logger.error("unreadable stock-change message", extra={"error": str(error)[:300]})
            failures.append(record["messageId"])
    report = application().propagator().propagate([signal for _, signal in signals])
    failures.extend(message_id for message_id, signal in signals if signal.sku in report.failed)
    unknown = sum(1 for s in report.skipped if s.why.startswith("unknown quantity"))
    alarm_metrics.count("StockUnknownNotPushed", unknown)
    ids = sorted({s.correlation_id for _, s in signals if s.correlation_id})
    with correlation.scope(ids[0] if len(ids) == 1 else None):  # a batch of one event: its id too
        logger.info(
            "stock propagated",
            extra={
                "messages": len(signals),
                "skus": len({s.sku for _, s in signals}),
                "pushed": len(report.pushed),
                "pushes": sum(1 for p in report.pushed if p.needs_call),
                "push_failures": len(report.failed),
                "unknown_not_pushed": unknown,
                "recreated": len(report.recreated),
                "skipped": len(report.skipped),
                "activated": report.activated,
                "failed": report.failed,
                "allegro_calls": report.calls,
                "correlation_ids": ids,
            },
        )
    response = {"batchItemFailures": [{"itemIdentifier": m} for m in failures]}
    blocked = {m: report.blocked_until[s.sku] for m, s in signals if s.sku in report.blocked_until}
    return application().redeliver_stock_pushes(event, blocked, lambda: response)
