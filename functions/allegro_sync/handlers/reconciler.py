"""Scheduled (every 15 min, concurrency 1): compare every Allegro offer of every connected account with
the stock ledger and repair the drift (`services/reconcile.py`); every repair is in the change log.

A run pages through the offers until its time is short, then saves where it is; the next run goes on from
there (`continues_at`), so a cycle over 100,000 offers never meets the timeout.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.bootstrap import application

logger = Logger()


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app = application()
    report = app.reconciler().run(
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
        cursors=app.sweep_cursor("reconciler"),
        page_size=int(event.get("page_size", 1000)),
    )
    for drift in report.drifts:
        logger.info("drift", extra={"drift": drift.__dict__ | {"kind": drift.kind.value}})
    for what, why in report.failed.items():
        logger.error("reconciliation incomplete; the next run retries", extra={"what": what, "reason": why})
    at = report.continues_at
    summary = {
        "accounts": report.accounts,
        "offers_seen": report.offers_seen,
        "pages": report.pages,
        "rechecked": report.rechecked,
        "drifts": len(report.drifts),
        "repaired": len(report.repaired),
        "failed": report.failed,
        "continues_at": None if at is None else {"account": at.account, "offset": at.offset},
    }
    logger.info("reconciler run", extra=summary)
    return summary
