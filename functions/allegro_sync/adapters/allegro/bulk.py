"""`/sale/offer-bulk-modification-commands` (beta, #13179): each offer's own stock or price, 25 per command.

The command id is the caller's (derived from what the command does, so a redelivered event sends the same
id): a POST Allegro answers 409 because that id was used already means an earlier attempt registered the
command, and its tasks are read instead. Exactly once however often the event is retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aws_lambda_powertools import Logger

from allegro_sync.adapters.allegro.core import AllegroCore, _segment
from allegro_sync.contracts.allegro_errors import AllegroConflict
from allegro_sync.contracts.bulk import (
    BulkCommand,
    BulkModification,
    BulkResult,
    SubjectTask,
    SubjectTaskReport,
)

logger = Logger(child=True)

PATH = "/sale/offer-bulk-modification-commands"
BETA_MEDIA_TYPE = "application/vnd.allegro.beta.v1+json"  # the only type the spec declares for the POST


class BulkApi(AllegroCore):
    def bulk_modify(self, command_id: str, modifications: Sequence[BulkModification]) -> list[BulkResult]:
        """Run one command and wait for a result per modification (PENDING past the allowed wait)."""
        body = BulkCommand(command_id=command_id, modifications=list(modifications)).to_json()
        try:
            self.request(
                "POST",
                PATH,
                json_body=body,
                media_type=BETA_MEDIA_TYPE,
                idempotent=True,  # the id in the body makes a repeat harmless
                conflict_after_retry_ok=True,
            )
        except AllegroConflict:
            logger.info("bulk command id already used: reading its tasks", extra={"command_id": command_id})
        wanted = [(m.offer_id, "stock" if m.stock is not None else "prices") for m in modifications]
        return self._await_subjects(command_id, wanted)

    def _await_subjects(self, command_id: str, wanted: list[tuple[str, str]]) -> list[BulkResult]:
        """Poll the tasks until every (offer, field) is SUCCESS or FAIL; the list is often empty at first."""
        final: dict[tuple[str, str], SubjectTask] = {}
        waited, poll = 0.0, 0
        while True:
            report = self._get(f"{PATH}/{_segment(command_id)}/tasks", SubjectTaskReport, {"limit": 100})
            for task in report.tasks:
                subject = task.subject
                if subject and subject.offer_id and task.status in ("SUCCESS", "FAIL"):
                    final[(subject.offer_id, subject.field or "")] = task
            if all(key in final for key in wanted):
                break
            delay = self._poll_delay(poll)
            if waited + delay > self._max_wait:
                pending = sum(1 for key in wanted if key not in final)
                logger.warning(
                    "bulk command still running", extra={"command_id": command_id, "pending": pending}
                )
                break
            self._sleep(delay)
            waited += delay
            poll += 1
        return [
            _result(offer_id, field, final.get((offer_id, field)), command_id) for offer_id, field in wanted
        ]


def _result(offer_id: str, field: str, task: SubjectTask | None, command_id: str) -> BulkResult:
    kind: Literal["stock", "prices"] = "stock" if field == "stock" else "prices"
    if task is None:
        return BulkResult(offer_id=offer_id, field=kind, status="PENDING", command_id=command_id)
    message = task.message
    if task.errors:
        reasons = "; ".join(e.user_message or e.message or e.code or "" for e in task.errors)
        message = f"{message}: {reasons}" if message else reasons
    status: Literal["SUCCESS", "FAIL"] = "SUCCESS" if task.status == "SUCCESS" else "FAIL"
    return BulkResult(offer_id=offer_id, field=kind, status=status, message=message, command_id=command_id)
