"""A standard-queue consumer using Powertools' BatchProcessor and partial batch responses."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from tests.integration.local.handlers.batch_worker import explode_on_first_receive, record

processor = BatchProcessor(event_type=EventType.SQS)


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    explode_on_first_receive(event)
    return process_partial_response(event=event, record_handler=record, processor=processor, context=context)
