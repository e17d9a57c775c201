"""The SQS event source mapping, locally: receive a batch, invoke the consumer, settle each message.

Mirrors Lambda with `ReportBatchItemFailures`:
- a handler exception, or an invalid `batchItemFailures` answer (missing/empty/unknown
  `itemIdentifier`), fails the whole batch; `None`, `{}` or an empty list means all succeeded;
- successes are deleted, failures stay on the queue and come back (Lambda waits out the visibility
  timeout; locally they return after `retry_delay_seconds`, 0 by default, to keep loops fast), unless
  the handler set a failure's visibility itself (adapters/redelivery.py): that one is left as set, as
  in AWS (the invoker records which receipt handles a handler rescheduled);
- `maxReceiveCount` and the move to the DLQ are SQS's job: moto's server implements the redrive
  policy on receive (verified by tests/integration/local), so the poller does not duplicate it;
- FIFO: SQS never hands out a message group that still has messages in flight (moto implements
  this group lock too), so one group is never processed twice at once. Within a batch, Lambda does
  NOT enforce order after a partial failure: it deletes whatever was not reported, and AWS tells
  the function to stop at the first failure and report the rest as failures (Powertools'
  `SqsFifoPartialProcessor` does exactly that). Locally the poller settles messages exactly as
  Lambda would, but records every record reported as a success after a failed record of the
  same group as a `FifoOrderViolation` — in AWS that is a message applied out of order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from allegro_sync.local.events import sqs_event, sqs_record
from allegro_sync.local.invoker import DEFAULT_CONCURRENCY, Invoker
from allegro_sync.local.provision import Wiring
from allegro_sync.topology import Function, QueueTrigger

logger = logging.getLogger(__name__)

SQS_MAX_BATCH = 10
# Background loops are threads named `sqs-<queue>-<n>` (the soak meters their own SQS calls by name).
POLLER_THREAD_PREFIX = "sqs-"
LONG_POLL_SECONDS = 1  # short enough for `stop()` to join the loops quickly


@dataclass(frozen=True)
class FifoOrderViolation:
    queue: str
    group: str
    failed_message_id: str
    processed_after: str


@dataclass
class BatchOutcome:
    queue: str
    function: str
    message_ids: list[str]
    failed_ids: set[str]
    whole_batch_failed: bool = False
    result: Any = None  # the handler's answer (None when it raised)


@dataclass
class PollerStats:
    """Counters per queue, for tests and the demo's summary."""

    batches: Counter[str] = field(default_factory=Counter)
    received: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)


def failed_item_ids(result: Any, message_ids: list[str]) -> tuple[set[str], bool]:
    """The ids Lambda would retry for this handler result, and whether that is the whole batch."""
    everything = set(message_ids), True
    if result is None:
        return set(), False
    if not isinstance(result, dict):
        return set(), False  # Lambda only reads batchItemFailures from a JSON object.
    failures = result.get("batchItemFailures")
    if failures is None:
        return set(), False
    if not isinstance(failures, list):
        return everything
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or not identifier or identifier not in message_ids:
            return everything
        failed.add(identifier)
    return failed, False


def fifo_violations(queue: str, records: list[dict[str, Any]], failed: set[str]) -> list[FifoOrderViolation]:
    """Records of a group reported as processed after an earlier record of that group failed."""
    first_failure: dict[str, str] = {}
    violations = []
    for record in records:
        group = record["attributes"].get("MessageGroupId", "")
        message_id = record["messageId"]
        if message_id in failed:
            first_failure.setdefault(group, message_id)
        elif group in first_failure:
            violations.append(FifoOrderViolation(queue, group, first_failure[group], message_id))
    return violations


LOCAL_MAX_LOOPS = 5


class SqsPoller:
    """Drives every QueueTrigger of the topology against moto."""

    def __init__(
        self,
        sqs: Any,
        wiring: Wiring,
        consumers: list[tuple[QueueTrigger, Function]],
        invoker: Invoker,
        *,
        retry_delay_seconds: int = 0,
    ) -> None:
        self._sqs = sqs
        self._wiring = wiring
        self.consumers = consumers
        self._invoker = invoker
        self._retry_delay = retry_delay_seconds
        self.stats = PollerStats()
        self.violations: list[FifoOrderViolation] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def consumer(self, queue: str) -> tuple[QueueTrigger, Function]:
        """The trigger and function consuming `queue`, e.g. for `poll_once(*poller.consumer(q))`."""
        for trigger, function in self.consumers:
            if trigger.queue == queue:
                return trigger, function
        raise KeyError(f"nothing consumes queue {queue!r}")

    def poll_once(
        self, trigger: QueueTrigger, function: Function, *, wait_seconds: int = 0
    ) -> BatchOutcome | None:
        """Receive one batch (up to `batch_size`, waiting up to `wait_seconds` for the first message),
        invoke, settle. None when nothing was received."""
        queue = self._wiring.queues[trigger.queue]
        messages = self._receive(queue.url, trigger.batch_size, wait_seconds)
        if not messages:
            return None
        records = [sqs_record(m, queue_arn=queue.arn, region=self._wiring.region) for m in messages]
        ids = [r["messageId"] for r in records]
        result: Any = None
        try:
            result = self._invoker.invoke(function, sqs_event(records))
        except Exception:
            logger.exception("%s failed a batch of %d from %s", function.name, len(ids), trigger.queue)
            failed, whole = set(ids), True
        else:
            failed, whole = failed_item_ids(result, ids)
        violations = fifo_violations(trigger.queue, records, failed) if queue.fifo and not whole else []
        for violation in violations:
            logger.error("FIFO order broken on %s: %s", trigger.queue, violation)
        handles = {r["messageId"]: r["receiptHandle"] for r in records}
        rescheduled = self._invoker.rescheduled.settle(list(handles.values()))
        self._delete(queue.url, [(i, handles[i]) for i in ids if i not in failed])
        retried = [(i, handles[i]) for i in ids if i in failed and handles[i] not in rescheduled]
        self._release(queue.url, retried)
        with self._lock:
            self.violations.extend(violations)
            self.stats.batches[trigger.queue] += 1
            self.stats.received[trigger.queue] += len(ids)
            self.stats.deleted[trigger.queue] += len(ids) - len(failed)
            self.stats.retried[trigger.queue] += len(failed)
        return BatchOutcome(trigger.queue, function.name, ids, failed, whole, result)

    def _receive(self, url: str, batch_size: int, wait_seconds: int = 0) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < batch_size:
            response = self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(SQS_MAX_BATCH, batch_size - len(messages)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0 if messages else wait_seconds,
            )
            received = response.get("Messages", [])
            messages.extend(received)
            if len(received) < SQS_MAX_BATCH:
                break
        return messages

    def _delete(self, url: str, entries: list[tuple[str, str]]) -> None:
        for start in range(0, len(entries), SQS_MAX_BATCH):
            chunk = entries[start : start + SQS_MAX_BATCH]
            self._sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": h} for n, (_, h) in enumerate(chunk)]
            )

    def _release(self, url: str, entries: list[tuple[str, str]]) -> None:
        for start in range(0, len(entries), SQS_MAX_BATCH):
            chunk = entries[start : start + SQS_MAX_BATCH]
            self._sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": h, "VisibilityTimeout": self._retry_delay}
                    for n, (_, h) in enumerate(chunk)
                ],
            )

    def _settling(self) -> list[tuple[QueueTrigger, Function]]:
        """The consumers whose queues empty out: a tick chain's queue never does (it re-sends itself)."""
        return [(t, f) for t, f in self.consumers if not self._wiring.queues[t.queue].self_renewing]

    def pending(self) -> dict[str, int]:
        """Messages visible, in flight or delayed on each consumed queue (DLQs and tick chains excluded)."""
        counts: dict[str, int] = {}
        for trigger, _ in self._settling():
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self._wiring.queues[trigger.queue].url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            counts[trigger.queue] = sum(int(v) for v in attributes.values())
        return counts

    def drain(self, timeout: float = 60.0, *, idle_wait: float = 0.02) -> None:
        """Poll every consumed queue until all are empty with nothing in flight, or raise TimeoutError.

        A tick chain's queue is left alone (it never empties; `tick` runs it). With the background loops
        running (`start()`), wait for them to get there instead (their loops do run the ticks).
        """
        deadline = time.monotonic() + timeout
        background = bool(self._threads)  # the loops poll; drain only waits for them
        while True:
            progressed = False
            for trigger, function in [] if background else self._settling():
                progressed = self.poll_once(trigger, function) is not None or progressed
            if not progressed:
                left = self.pending()
                if not any(left.values()):
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"queues not drained after {timeout}s: {left}")
                time.sleep(idle_wait)  # in flight elsewhere or waiting out a retry delay
            elif time.monotonic() > deadline:
                raise TimeoutError(f"queues still busy after {timeout}s: {self.pending()}")

    def tick(self, queue: str, *, timeout: float = 10.0) -> BatchOutcome:
        """Wait for the next message of a tick chain's `queue` (its delay) and run it, as Lambda would."""
        trigger, function = self.consumer(queue)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            wait = max(0, min(LONG_POLL_SECONDS, int(left)))
            outcome = self.poll_once(trigger, function, wait_seconds=wait)
            if outcome is not None:
                return outcome
            if time.monotonic() > deadline:
                raise TimeoutError(f"no tick on {queue} within {timeout}s: is its chain seeded?")

    def start(self, idle_interval: float = 0.2) -> None:
        """Background loops for `allegro-sync local up`: per queue trigger, as many as the consumer may run
        at once (Lambda's event source scales pollers up to the function's reserved concurrency)."""
        self._stop.clear()
        for trigger, function in self.consumers:
            for n in range(self._concurrency(function)):
                thread = threading.Thread(
                    target=self._loop,
                    args=(trigger, function, idle_interval),
                    daemon=True,
                    name=f"{POLLER_THREAD_PREFIX}{trigger.queue}-{n}",
                )
                thread.start()
                self._threads.append(thread)

    def _concurrency(self, function: Function) -> int:
        # At most LOCAL_MAX_LOOPS per queue: the catalog worker's 25 instances are for Allegro's latency in
        # AWS (bench/catalog_import.py models them); here they would only be idle long polls on moto.
        return min(function.reserved_concurrency or DEFAULT_CONCURRENCY, LOCAL_MAX_LOOPS)

    def _loop(self, trigger: QueueTrigger, function: Function, idle_interval: float) -> None:
        # Long polls, as Lambda's event source does (20 s there): an idle queue costs one receive a second
        # per loop, not one per `idle_interval`, and a new message is picked up as soon as it is sent.
        while not self._stop.is_set():
            try:
                outcome = self.poll_once(trigger, function, wait_seconds=LONG_POLL_SECONDS)
            except Exception:
                logger.exception("polling %s failed", trigger.queue)
                outcome = None
            if outcome is None:
                self._stop.wait(idle_interval)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
