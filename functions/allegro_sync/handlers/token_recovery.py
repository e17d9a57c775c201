"""Consumer of the `token-recovery` queue: finish or redo a refresh whose refresher may have died.

Every refresh schedules one of these before it calls Allegro, delayed past its lease and well inside
Allegro's 60 s grace of the old refresh token (services/tokens.py). Usually the refresh was saved and the
recovery is one secret read; otherwise it refreshes again with the old token, so a crash at any step of a
refresh leaves the seller connected without anybody else calling. A failed recovery comes back after 5 s,
10 s, 20 s (adapters/redelivery.py), still inside the grace. Never logs a token.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync import correlation
from allegro_sync.adapters.batch import RecordProcessor
from allegro_sync.adapters.sqs_records import TokenRecoveryRecord
from allegro_sync.bootstrap import application
from allegro_sync.contracts.accounts import AccountDisconnected, AccountNotFound

logger = Logger()
processor = RecordProcessor(TokenRecoveryRecord)


@correlation.per_record
def record_handler(record: TokenRecoveryRecord) -> None:
    message = record.body
    logger.thread_safe_append_keys(account=message.account)
    try:
        redone = application().tokens(message.account).recover(message.refresh_fingerprint)
    except (AccountDisconnected, AccountNotFound):
        logger.info("account disconnected or removed: nothing to recover")
        return
    if redone:
        logger.warning("a refresh was not saved by its refresher; redone inside Allegro's grace")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return application().redeliver_backing_off(
        "token-recovery",
        event,
        lambda: process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        ),
    )
