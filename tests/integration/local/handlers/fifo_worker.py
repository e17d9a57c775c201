"""A FIFO consumer done right: after a failure, the rest of that message group is reported as failed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from tests.integration.local.handlers.batch_worker import record

processor = SqsFifoPartialProcessor(skip_group_on_error=True)


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record, processor=processor, context=context)
