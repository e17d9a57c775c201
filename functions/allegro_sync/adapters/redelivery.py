"""When a consumer's failed records come back: sooner than the queue's visibility timeout when we know.

SQS returns a record the consumer reported as failed only after the queue's visibility timeout (6 x the
function timeout: minutes). Two failures have a better moment, so the consumer sets it on the failed
records with `ChangeMessageVisibility` (which the event source's consume grant allows):
- Allegro blocks the app (429): retrying before the block's end only extends it, and retrying minutes
  after it delays stock and orders for nothing; the records come back one second after the block.
- the shop is down: `back_off` brings an order back at the next tick of a per-shop probe clock: epoch
  seconds that are a multiple of a step, the largest power of two (2 s to 256 s) not over a quarter of
  the time the order has been failing. So (decision record D15 in docs/architecture.md):
  * a shop that recovers gets every waiting order within a quarter of its outage as before, and within
    2 s while the outage is young (< 16 s), not 5 s;
  * the orders waiting for one shop come back within the same second (SQS counts whole seconds), so
    SQS hands them out together (oldest first, best effort) and each batch asks the shop once
    (services/shop_probe.py); a lone waiting order asks at most every 2-256 s, ~45 times in an hour
    where the quarter-of-age schedule asked ~31 times;
  * the oldest orders are not the last ones back: when the shop recovers, every waiting order of a
    young outage is due on the same tick, instead of a spread that let new orders overtake old ones.
- a stock push (`own_block_or_soon`): each record at the end of the block that failed it, and a record
  that failed otherwise in 5 s (twice), since an offer waiting for its stock may oversell.
Setting a visibility is an optimisation: when it fails the record simply comes back after the queue's
timeout, so a failure is logged and never fails the invocation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

logger = Logger(child=True)

SQS_MAX_BATCH = 10
SQS_MAX_VISIBILITY_SECONDS = 43_200  # 12 hours: SQS rejects anything longer
BACK_OFF_FIRST_SECONDS = 2  # the probe clock's finest step, while an outage is young
BACK_OFF_MAX_SECONDS = 256  # its coarsest: a power of two, so every finer tick lands on it too
BACK_OFF_SHARE_OF_AGE = 0.25  # the step is at most this share of the time the record has been failing
BLOCK_MARGIN_SECONDS = 1  # come back just after the block, not on its last second

# A policy maps the failed records to the seconds each stays invisible; a record it leaves out keeps the
# queue's visibility timeout.
Policy = Callable[[list[dict[str, Any]]], dict[str, int]]


def back_off_step(failing_for: float) -> int:
    """The largest power of two not over a quarter of the time failing: 2 s at least, 256 s at most."""
    step = BACK_OFF_FIRST_SECONDS
    while step * 2 <= max(0.0, failing_for) * BACK_OFF_SHARE_OF_AGE and step * 2 <= BACK_OFF_MAX_SECONDS:
        step *= 2
    return step


def back_off_seconds(failing_for: float, now: float) -> int:
    """Until the probe clock's next tick: the next epoch second that is a multiple of the step (1 s to
    the step). Steps nest (2 | 4 | ... | 256), so records of any age meet on the coarser ticks."""
    step = back_off_step(failing_for)
    return step - math.floor(now) % step


def back_off(now: Callable[[], float]) -> Policy:
    """Each record by how long ago SQS first handed it out: `ApproximateFirstReceiveTimestamp`, epoch
    milliseconds (boto3's SQS `Message.attributes`; Lambda's SQS event carries it in `attributes`).
    Unknown counts as now, i.e. the first step."""

    def policy(failed: list[dict[str, Any]]) -> dict[str, int]:
        at = now()
        return {r["receiptHandle"]: back_off_seconds(at - _first_received(r, at), at) for r in failed}

    return policy


def _first_received(record: Mapping[str, Any], default: float) -> float:
    try:
        return int(record.get("attributes", {})["ApproximateFirstReceiveTimestamp"]) / 1000
    except (KeyError, TypeError, ValueError):
        return default


def until(blocked_for: Callable[[], float]) -> Policy:
    """Every failed record back at the end of Allegro's block (+1 s) while one lasts; else untouched.

    `blocked_for` (the block's remaining seconds, by the rate guard's clock) is read only when there are
    failures: it may read the shared record in DynamoDB.
    """

    def policy(failed: list[dict[str, Any]]) -> dict[str, int]:
        if not failed:
            return {}
        remaining = blocked_for()
        if remaining <= 0:
            return {}
        seconds = min(SQS_MAX_VISIBILITY_SECONDS, math.ceil(remaining) + BLOCK_MARGIN_SECONDS)
        return {r["receiptHandle"]: seconds for r in failed}

    return policy


# A failure that is no block (a failed 202 operation, a lock, a 5xx past the retries: "try again") comes
# back this soon its first few receives; past them it waits the queue's timeout, as before.
RETRY_SOON_SECONDS = 5
RETRIED_SOON_RECEIVES = 2


def own_block_or_soon(
    app_blocked_for: Callable[[], float], blocked_until: Mapping[str, float], now: float
) -> Policy:
    """Each failed record back when ITS cause ends: the Allegro block that failed it (`blocked_until` by
    message id, epoch seconds: one seller's limit of one resource, not the longest block this instance
    knows of) or the app-wide block, whichever is later, +1 s; a record failed by anything else in 5 s
    its first two receives (stock that waits oversells), then after the queue's visibility timeout.

    `app_blocked_for` is read only when there are failures (it may read the shared record in DynamoDB)."""

    def policy(failed: list[dict[str, Any]]) -> dict[str, int]:
        if not failed:
            return {}
        app_remaining = app_blocked_for()
        seconds: dict[str, int] = {}
        for record in failed:
            remaining = max(app_remaining, blocked_until.get(record.get("messageId", ""), 0.0) - now)
            if remaining > 0:
                seconds[record["receiptHandle"]] = min(
                    SQS_MAX_VISIBILITY_SECONDS, math.ceil(remaining) + BLOCK_MARGIN_SECONDS
                )
            elif _receives(record) <= RETRIED_SOON_RECEIVES:
                seconds[record["receiptHandle"]] = RETRY_SOON_SECONDS
        return seconds

    return policy


def _receives(record: Mapping[str, Any]) -> int:
    """`ApproximateReceiveCount` (1 on the first delivery); unknown counts as the first."""
    try:
        return int(record.get("attributes", {})["ApproximateReceiveCount"])
    except (KeyError, TypeError, ValueError):
        return 1


def failed_records(event: Mapping[str, Any], response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The event's records the partial-batch response reports as failed, in event order."""
    failures = response.get("batchItemFailures") or []
    ids = {f.get("itemIdentifier") for f in failures if isinstance(f, Mapping)}
    return [r for r in event.get("Records", []) if r.get("messageId") in ids]


class Redelivery:
    """Sets the visibility of one queue's failed records (`ChangeMessageVisibilityBatch`, 10 at a time)."""

    def __init__(self, sqs: Any, queue_url: Callable[[], str]) -> None:
        self._sqs = sqs
        self._queue_url = queue_url  # resolved only when there is something to change

    def settle(
        self, event: Mapping[str, Any], policy: Policy, batch: Callable[[], Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Run the batch (e.g. `process_partial_response`) and reschedule the records it failed.

        When every record fails, Powertools raises instead of answering (Lambda then retries the whole
        batch): every record is rescheduled and the error goes on, so the invocation still fails.
        """
        try:
            response = batch()
        except BatchProcessingError:
            everything = [{"itemIdentifier": r.get("messageId")} for r in event.get("Records", [])]
            self.apply(event, {"batchItemFailures": everything}, policy)
            raise
        self.apply(event, response, policy)
        return dict(response)

    def apply(self, event: Mapping[str, Any], response: Mapping[str, Any], policy: Policy) -> dict[str, int]:
        """Reschedule the failed records `policy` has a moment for; what was set (handle -> seconds)."""
        try:
            failed = failed_records(event, response)
            if not failed:
                return {}
            visibility = policy(failed)
            if visibility:
                self._change(self._queue_url(), visibility)
            return visibility
        except Exception as error:  # the record returns after the queue's timeout instead
            logger.warning(
                "could not set the failed records' visibility; they return after the queue's timeout",
                extra={"error": f"{type(error).__name__}: {error}"[:300]},
            )
            return {}

    def _change(self, url: str, visibility: dict[str, int]) -> None:
        entries = list(visibility.items())
        for start in range(0, len(entries), SQS_MAX_BATCH):
            chunk = entries[start : start + SQS_MAX_BATCH]
            answer = self._sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                    for n, (handle, seconds) in enumerate(chunk)
                ],
            )
            if answer.get("Failed"):
                codes = sorted({str(f.get("Code")) for f in answer["Failed"]})
                logger.warning(
                    "SQS kept the queue's visibility for some failed records",
                    extra={"count": len(answer["Failed"]), "codes": codes},
                )
