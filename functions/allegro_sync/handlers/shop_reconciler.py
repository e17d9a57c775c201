"""Scheduled (every 15 minutes by default, `-c shopReconcileMinutes=N`): lost shop webhooks repaired.

Reads what changed in the shop since the stored cursor (WooCommerce REST `modified_after`, the generic
contract's `changes` endpoint, or PrestaShop's webservice, which sends no webhooks at all) and queues each
change through the webhook intake, so the workers apply it exactly like a delivery; PrestaShop's order
states and tracking numbers go to the fulfillment queue. A shop that is down or not configured fails the
run without moving the cursor: the next run reads the same changes again. A shop without a change listing
(a generic shop without `changes_url`) is skipped quietly: its webhooks are its only path.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.adapters.shop_credentials import ShopNotConfigured
from allegro_sync.bootstrap import application

logger = Logger()


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        report = application().shop_reconciler().run()
    except ShopNotConfigured as exc:  # no listing to read (webhooks only): nothing to do, nothing to alarm
        logger.info("shop reconciliation skipped", extra={"reason": str(exc)})
        return {"skipped": str(exc)}
    summary = asdict(report)
    summary["changes"] = len(report.changes)  # SKUs and levels stay out of the log line's bulk
    logger.info("shop reconciliation", extra={"report": summary})
    return summary
