"""Scheduled every 15 minutes: back-fill orders whose events Allegro skipped or delayed.

Lists checkout forms updated since the last scan (minus an overlap) and enqueues those whose stored
revision is behind, on the same `orders` queue the poller feeds: one import path, exactly once. The same
run follows customer returns and files commission claims (issue 15; services/returns.py): no schedule of
its own, so nothing more is billed while nothing happens.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.bootstrap import application

logger = Logger()


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app = application()
    report = app.gap_scanner().scan(app.connected_clients())
    for name, scan in report.items():
        if scan.error:
            logger.error(
                "order gap scan failed for an account; the next run retries",
                extra={"account": name, "reason": scan.error},
            )
    summary = {name: asdict(scan) for name, scan in report.items()}
    enqueued = sum(a.enqueued for a in report.values())
    logger.info("order gap scan", extra={"report": summary, "enqueued": enqueued})
    returns = app.returns_follower().follow(app.connected_clients())
    for name, followed in returns.items():
        if followed.error or followed.needs_attention:
            logger.warning(
                "returns need a look",
                extra={"account": name, "reason": followed.error, "returns": followed.needs_attention},
            )
    taken = sum(len(r.taken_back) for r in returns.values())
    logger.info(
        "returns followed", extra={"returns": {n: asdict(r) for n, r in returns.items()}, "taken_back": taken}
    )
    return summary
