"""Scheduled every 15 minutes: one repricing round per connected seller account.

Plans in the pure domain, applies through batch price commands, records every change. A tripped circuit
breaker pauses the account with a warning log line (`allegro-sync status` shows the pause; issue 21: a
log field, not a billed metric). One account's failure is logged and does not stop the others. A run pages
until its time is short, then saves where it is; the next run goes on from there (`continues_at`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.bootstrap import application
from allegro_sync.services.repricing.sweep import reprice_accounts

logger = Logger()


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    dry_run = bool(event.get("dry_run", False))
    app = application()
    swept = reprice_accounts(
        app.repricer(),
        app.connected_clients(),
        apply=not dry_run,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
        cursors=None if dry_run else app.sweep_cursor("repricer"),  # a dry run moves no cursor
    )
    summary: dict[str, Any] = {}
    for account, error in swept.errors.items():
        logger.error(
            "repricing round failed; the next run retries", extra={"account": account, "reason": error}
        )
        summary[account] = {"error": error}
    for account, report in swept.reports.items():
        if report.breaker_tripped:
            logger.warning(
                "repricing circuit breaker tripped",
                extra={"account": account, "reason": report.breaker_reason},
            )
        if report.error:
            logger.warning("repricing round incomplete", extra={"account": account, "reason": report.error})
        summary[account] = {
            "applied": report.applied,
            "failed": report.failed,
            "price_commands": report.price_commands,
            "rule_commands": report.rule_commands,
            "deferred": report.deferred,
            "breaker_tripped": report.breaker_tripped,
            "paused_until": report.paused_until.isoformat() if report.paused_until else None,
            "feed_rows_skipped": len(report.feed_skipped),
            "dry_run": dry_run,
            "pages": report.pages,
            "continues_at": report.continues_at,
        }
    totals = {k: sum(r.get(k, 0) for r in summary.values()) for k in ("applied", "failed", "breaker_tripped")}
    logger.info("repricing round", extra={"report": summary, **totals})
    return summary
