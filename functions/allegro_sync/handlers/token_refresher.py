"""Scheduled: keep every seller account's tokens fresh even when idle, and finish crashed refreshes.

Runs every minute with reserved concurrency 1. An idle run costs one DynamoDB query: only accounts near
expiry, or with a refresh lease held (a refresher may have died after Allegro rotated the pair, and
the old refresh token's 60 s grace is running), touch Secrets Manager or Allegro.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.bootstrap import application
from allegro_sync.services.account_refresh import refresh_due_accounts

logger = Logger()

# Refresh an idle account this long before its 12 h access token expires.
REFRESH_MARGIN_SECONDS = 3600


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    built = application().custody()
    report = refresh_due_accounts(
        built.registry, built.tokens, margin_seconds=REFRESH_MARGIN_SECONDS, now=time.time()
    )
    for name, reason in report.failed.items():
        logger.error("token refresh failed; the next run retries", extra={"account": name, "reason": reason})
    summary = asdict(report)
    counts = {"refreshed": len(report.refreshed), "refresh_failures": len(report.failed)}
    logger.info("token refresher run", extra={"report": summary, **counts})
    return summary
