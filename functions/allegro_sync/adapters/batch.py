"""Powertools batch processors with what our consumers add to them."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from allegro_sync.adapters.sqs_records import QueueRecord


def partial_batch(
    event: dict[str, Any], context: Any, processor: Any, record_handler: Callable[..., Any]
) -> Callable[[], dict[str, Any]]:
    """The consumer's batch, run when called: Powertools' partial response over `processor`."""
    return lambda: dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )


class RecordProcessor(BatchProcessor):
    """Powertools' `BatchProcessor` for a standard queue, each record parsed with its queue's record model.

    Powertools types `model` as its own `SqsRecordModel`; ours (`adapters/sqs_records.QueueRecord`) has the
    same fields without loading Powertools' parser at a cold start.
    """

    def __init__(self, model: type[QueueRecord]) -> None:
        super().__init__(event_type=EventType.SQS, model=cast(Any, model))


class FifoProcessor(SqsFifoPartialProcessor):
    """`SqsFifoPartialProcessor` whose records after a failure fail alone even when one does not parse.

    Powertools 3.37 parses each record it skips after a failure with `model` before reporting it, outside
    its own error handling: a malformed body there raises out of the batch and fails the whole invocation,
    so the records already done come back too and every record's receive count moves towards the DLQ.
    Here the malformed record is reported as failed, like the other records skipped after the failure.
    `model` is a queue's record model (see `RecordProcessor`).
    """

    def __init__(self, model: type[QueueRecord] | None = None, skip_group_on_error: bool = False) -> None:
        super().__init__(model=cast(Any, model), skip_group_on_error=skip_group_on_error)

    def _process_record(self, record: dict[str, Any]) -> Any:
        try:
            return super()._process_record(record)  # type: ignore[no-untyped-call]
        except ValidationError:  # only the skipping path lets one escape: records it handles are caught
            unparsed = self._to_batch_type(record=record, event_type=self.event_type)
            return self.failure_handler(record=unparsed, exception=sys.exc_info())


class CoalescingFifoProcessor(FifoProcessor):
    """A FIFO partial processor that knows, before the batch runs, which records a later record of the
    same key makes redundant (`superseded(record)`), so a consumer can skip them.

    The state lives on the processor for one batch (it is rebuilt in `_prepare`), not in a module global;
    a record whose key cannot be read is never superseded (it fails as malformed).
    """

    def __init__(
        self, key: Callable[[dict[str, Any]], str | None], model: type[QueueRecord] | None = None
    ) -> None:
        super().__init__(model=model)
        self._key = key
        self._keys: dict[str, str] = {}  # message id -> key
        self._last: dict[str, str] = {}  # key -> the batch's last message id with it

    def _prepare(self) -> None:
        super()._prepare()  # type: ignore[no-untyped-call]
        self._keys, self._last = {}, {}
        for raw in self.records:
            key = self._key(raw)
            if key is not None:
                self._keys[str(raw["messageId"])] = key
                self._last[key] = str(raw["messageId"])

    def superseded(self, record: SQSRecord | QueueRecord) -> bool:
        message_id = record.message_id if isinstance(record, SQSRecord) else record.messageId
        key = self._keys.get(message_id)
        return key is not None and self._last[key] != message_id


def json_field(name: str) -> Callable[[dict[str, Any]], str | None]:
    """A key function reading one top-level field of a record's JSON body (None when unreadable)."""

    def read(raw: dict[str, Any]) -> str | None:
        try:
            value = json.loads(raw["body"])[name]
        except (KeyError, TypeError, ValueError):
            return None
        return str(value)

    return read
