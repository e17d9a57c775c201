"""Polls each account's /order/events once per tick and enqueues each event once.

Two triggers (services/orders/ticks.py): a `poll-tick` message (every ORDER_POLL_INTERVAL_SECONDS, it
re-sends itself before polling) and the schedule, a watchdog that starts a chain when none beats and
polls once itself. Each account's cursor is leased and moved by compare-and-swap (`services.orders`), so a
tick and the watchdog polling at once never both enqueue. An idle tick logs and measures nothing (it runs
~500,000 times a month); anything enqueued or failed is logged and counted.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.bootstrap import application
from allegro_sync.contracts.messages import PollTick

logger = Logger()

SAFETY_SECONDS = 10.0


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    budget = context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
    app = application()
    chain = app.poll_chain()
    records = event.get("Records") or []
    if records:  # batch size 1: a malformed tick fails, and its chain ends (the watchdog starts another)
        tick, tick_id = PollTick.model_validate_json(records[0]["body"]), records[0]["messageId"]
        report = chain.tick(tick.chain, tick.seq, tick_id, app.connected_clients, budget_seconds=budget)
    else:
        report = chain.watchdog(app.connected_clients, budget_seconds=budget)
    poll = report.poll
    summary = {
        **(asdict(poll) if poll else {"accounts": {}}),
        "enqueued": poll.enqueued if poll else 0,
        "chain": {k: v for k, v in asdict(report).items() if k != "poll"},
    }
    failed = {name: a.error for name, a in poll.accounts.items() if a.error} if poll else {}
    for name, reason in failed.items():
        logger.error(
            "order polling failed for an account; the next tick retries",
            extra={"account": name, "reason": reason},
        )
    if summary["enqueued"] or failed or not records or report.stopped:
        summary["poll_failures"] = len(failed)
        logger.info("order poller run", extra={"report": summary})
    return summary
