"""A FIFO consumer done wrong: plain BatchProcessor keeps going after a failure in the same group."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from tests.integration.local.handlers.batch_worker import record

processor = BatchProcessor(event_type=EventType.SQS)


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record, processor=processor, context=context)
