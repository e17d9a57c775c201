"""Powertools batch processors with what our consumers add to them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class CoalescingFifoProcessor(SqsFifoPartialProcessor):
    """A FIFO partial processor that knows, before the batch runs, which records a later record of the
    same key makes redundant (`superseded(record)`), so a consumer can skip them.

    The state lives on the processor for one batch (it is rebuilt in `_prepare`), not in a module global;
    a record whose key cannot be read is never superseded (the record handler reports it as malformed).
    """

    def __init__(self, key: Callable[[dict[str, Any]], str | None]) -> None:
        super().__init__()
        self._key = key
        self._last: dict[str, str] = {}

    def _prepare(self) -> None:
        super()._prepare()  # type: ignore[no-untyped-call]
        self._last = {}
        for raw in self.records:
            key = self._key(raw)
            if key is not None:
                self._last[key] = str(raw["messageId"])

    def superseded(self, record: SQSRecord) -> bool:
        key = self._key(record.raw_event)
        return key is not None and self._last.get(key, record.message_id) != record.message_id


def json_field(name: str) -> Callable[[dict[str, Any]], str | None]:
    """A key function reading one top-level field of a record's JSON body (None when unreadable)."""

    def read(raw: dict[str, Any]) -> str | None:
        try:
            value = json.loads(raw["body"])[name]
        except (KeyError, TypeError, ValueError):
            return None
        return str(value)

    return read
