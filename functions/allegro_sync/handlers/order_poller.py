"""Scheduled every minute: poll each account's /order/events every few seconds, enqueue each event once.

Reserved concurrency 1 plus a leased, compare-and-swap cursor per account (see `services.orders`): two
overlapping runs never both enqueue, and the cursor only moves forward. The run stops polling
`SAFETY_SECONDS` before the Lambda timeout so the leases are released cleanly.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.bootstrap import application

logger = Logger()

SAFETY_SECONDS = 10.0


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    budget = context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
    app = application()
    report = app.order_poller().run(app.connected_clients(), budget_seconds=budget)
    failed = {name: a.error for name, a in report.accounts.items() if a.error}
    for name, reason in failed.items():
        logger.error(
            "order polling failed for an account; the next run retries",
            extra={"account": name, "reason": reason},
        )
    summary = {**asdict(report), "enqueued": report.enqueued, "poll_failures": len(failed)}
    logger.info("order poller run", extra={"report": summary})
    return summary
