"""One correlation id per business event, from the webhook or order event to the Allegro call it causes.

Why: a shop delivery or an Allegro order event fans out over several queues and functions; an operator
following one of them needs a single key to filter every log group on (`docs/operations.md`). The id
travels as the SQS message attribute `correlation_id` (never in the body, so bodies, de-duplication ids and
idempotency keys stay what they were) and is set on the Powertools logger for the record being processed,
which puts `correlation_id` on every log line, the Allegro client's included.

- producers: `SqsFifoPublisher` and the shop outbox attach `current()` (or a per-message id) with
  `message_attributes`;
- consumers: `per_record` (record handlers, given an `SQSRecord` or a parsed Powertools `SqsRecordModel`)
  or `scope(of_record(raw))` sets the id for one record and puts the previous one back afterwards, so one
  batch carrying several ids never mixes them;
- a message without the attribute (sent before this existed, a hand-made replay) is correlated by its own
  SQS message id, so its lines are still grouped.

It sits outside the layers (see `[tool.importlinter]` in pyproject.toml): use cases and adapters both log
and publish under the current id, and this module imports nothing else of the project.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

__all__ = [
    "ATTRIBUTE",
    "MAX_LENGTH",
    "ParsedRecord",
    "clean",
    "current",
    "message_attributes",
    "of_record",
    "per_record",
    "scope",
]

ATTRIBUTE = "correlation_id"
# Shop delivery ids are at most 200 characters; anything longer from a message is cut, not trusted whole.
MAX_LENGTH = 200

_current: ContextVar[str | None] = ContextVar("allegro_sync_correlation_id", default=None)
_logger: Logger | None = None

_R = TypeVar("_R")


class _Attribute(Protocol):
    @property
    def stringValue(self) -> str | None: ...


class ParsedRecord(Protocol):
    """What this module reads of a record parsed with `model=` (`adapters/sqs_records.QueueRecord`, or
    Powertools' `SqsRecordModel`); a protocol, so publishers importing this module load no record models."""

    @property
    def messageId(self) -> str: ...

    @property
    def messageAttributes(self) -> Mapping[str, _Attribute]: ...


_Record = TypeVar("_Record", bound=SQSRecord | ParsedRecord)


def _powertools_logger() -> Logger:
    """The service's Powertools logger: same service name, so the same handler and formatter as the
    handler module's `Logger()` (created lazily so importing a publisher configures no logging)."""
    global _logger  # noqa: PLW0603 - one per process, like the handlers' module-level loggers
    if _logger is None:
        _logger = Logger()
    return _logger


def clean(value: object) -> str | None:
    """A usable id from untrusted input (a header, a message attribute): stripped, bounded, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()[:MAX_LENGTH]
    return text or None


def current() -> str | None:
    """The id of the event being processed in this context (None outside any `scope`)."""
    return _current.get()


@contextmanager
def scope(correlation_id: str | None) -> Iterator[None]:
    """Log (and publish) under `correlation_id` inside the block; the previous id comes back afterwards.

    None (or blank) keeps whatever id is current: a reconciler repair has no event of its own.
    """
    cid = clean(correlation_id)
    if cid is None:
        yield
        return
    # Thread-local keys: in the local runtime several functions log from one process at once.
    logger = _powertools_logger()
    previous = logger.thread_safe_get_current_keys().get(ATTRIBUTE)
    token = _current.set(cid)
    logger.thread_safe_append_keys(**{ATTRIBUTE: cid})
    try:
        yield
    finally:
        _current.reset(token)
        # Rebuilt, not popped: the keys' dict may be shared with the context this one was copied from.
        keys = {k: v for k, v in logger.thread_safe_get_current_keys().items() if k != ATTRIBUTE}
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(**keys, **({} if previous is None else {ATTRIBUTE: previous}))


def of_record(record: SQSRecord | ParsedRecord | Mapping[str, Any]) -> str:
    """The record's `correlation_id` message attribute, or its SQS message id when it has none."""
    if not isinstance(record, SQSRecord | Mapping):  # parsed with a Powertools record model
        parsed = record.messageAttributes.get(ATTRIBUTE)
        return clean(parsed.stringValue if parsed is not None else None) or record.messageId
    raw: Mapping[str, Any] = record.raw_event if isinstance(record, SQSRecord) else record
    attributes = raw.get("messageAttributes") or {}
    attribute = attributes.get(ATTRIBUTE) if isinstance(attributes, Mapping) else None
    value = attribute.get("stringValue") if isinstance(attribute, Mapping) else None
    return clean(value) or str(raw.get("messageId", ""))


def per_record(record_handler: Callable[[_Record], _R]) -> Callable[[_Record], _R]:
    """Decorate a Powertools batch `record_handler`: each record runs under its own correlation id."""

    @functools.wraps(record_handler)
    def correlated(record: _Record) -> _R:
        with scope(of_record(record)):
            return record_handler(record)

    return correlated


def message_attributes(correlation_id: str | None = None) -> dict[str, dict[str, str]]:
    """SQS `MessageAttributes` carrying `correlation_id` (given, else the current one); {} when none."""
    cid = clean(correlation_id) or current()
    if cid is None:
        return {}
    return {ATTRIBUTE: {"DataType": "String", "StringValue": cid}}
