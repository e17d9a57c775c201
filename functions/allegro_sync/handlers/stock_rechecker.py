"""Consumer of the `stock-rechecks` queue: a sale the ledger is in doubt about, settled by reading the shop.

The ledger keeps a sale subtracted while it cannot tell whether the shop's last level already counts it
(a level read within the clock-skew margin of the shop's acknowledgement). The catalog worker or the shop
notifier then sends a delayed note; here the SKU's level is read from the shop and queued like a webhook,
so the offers end at the shop's level without the shop reporting again (services/stock_recheck.py). A shop
that is down fails the record, which comes back after 5 s, 10 s, 20 s ... (adapters/redelivery.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync import correlation
from allegro_sync.adapters.batch import RecordProcessor
from allegro_sync.adapters.shop_credentials import ShopNotConfigured
from allegro_sync.adapters.sqs_records import StockRecheckRecord
from allegro_sync.bootstrap import application

logger = Logger()
processor = RecordProcessor(StockRecheckRecord)


@correlation.per_record
def record_handler(record: StockRecheckRecord) -> None:
    sku = record.body.sku
    logger.thread_safe_append_keys(sku=sku)
    try:
        verdict = application().stock_recheck().recheck(sku)
    except ShopNotConfigured as exc:  # no stock read offered: the shop's next report settles it
        logger.info("stock recheck skipped", extra={"reason": str(exc)})
        return
    logger.info("stock recheck", extra={"verdict": verdict})


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return application().consume_backing_off("stock-rechecks", event, context, processor, record_handler)
