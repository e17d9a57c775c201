"""Scheduled every minute: new buyer messages and dispute messages, forwarded once (issue 15, item 4).

Each connected account's threads and open disputes/claims are read (services/buyer_messages.py); a new
message goes to the shop outbox and the seller's SNS topic, then the account's cursor moves. Nothing is
marked read. The log line has ids and counts only: a message's text is the buyer's and is never logged.
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
    report = app.message_follower().follow(app.connected_clients())
    for name, followed in report.items():
        if followed.error:
            logger.warning(
                "buyer messages not followed for an account; the next run retries",
                extra={"account": name, "reason": followed.error},
            )
    summary = {name: asdict(r) for name, r in report.items()}
    forwarded = sum(len(r.forwarded) for r in report.values())
    logger.info("buyer messages followed", extra={"messages": summary, "forwarded": forwarded})
    return summary
