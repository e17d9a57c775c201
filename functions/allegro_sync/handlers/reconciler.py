"""Scheduled (every 15 min, concurrency 1): compare every Allegro offer of every connected account with
the stock ledger and repair the drift (`services/reconcile.py`); every repair is in the change log."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.bootstrap import application

logger = Logger()


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = application().reconciler().run()
    for drift in report.drifts:
        logger.info("drift", extra={"drift": drift.__dict__ | {"kind": drift.kind.value}})
    for what, why in report.failed.items():
        logger.error("reconciliation incomplete; the next run retries", extra={"what": what, "reason": why})
    summary = {
        "accounts": report.accounts,
        "offers_seen": report.offers_seen,
        "drifts": len(report.drifts),
        "repaired": len(report.repaired),
        "failed": report.failed,
    }
    logger.info("reconciler run", extra=summary)
    return summary
