"""Batch commands on many offers at once: quantity, price and publication changes (and the price-automation
commands of `pricing.py`), each sent under a fresh command id and followed until every offer has a result."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from allegro_sync.adapters.allegro.core import AllegroCore, _dump, _segment
from allegro_sync.contracts.allegro import (
    CommandReport,
    CommandTask,
    IdRefIn,
    OfferCommandResult,
    OfferCriterion,
    PriceChangeCommand,
    PriceModification,
    PublicationChangeCommand,
    PublicationModification,
    QuantityChangeCommand,
    QuantityModification,
    TaskReport,
)
from allegro_sync.contracts.allegro_errors import AllegroError, InvalidCommand

logger = Logger(child=True)

# Allegro's per-command maximum of offers.
COMMAND_CHUNK = 1000

CommandKind = Literal[
    "offer-quantity-change-commands",
    "offer-price-change-commands",
    "offer-publication-commands",
    "offer-price-automation-commands",
]


class CommandsApi(AllegroCore):
    """/sale/offer-{quantity,price}-change-commands, /sale/offer-publication-commands and their tasks."""

    def put_command(self, kind: CommandKind, command_id: str, body: BaseModel) -> CommandReport:
        """PUT /sale/{kind}/{commandId}; a retried PUT whose first attempt landed answers 409: success."""
        response = self.request(
            "PUT",
            f"/sale/{kind}/{_segment(command_id)}",
            json_body=_dump(body),
            conflict_after_retry_ok=True,
        )
        return (
            CommandReport.model_validate(response.json()) if response.status_code < 300 else CommandReport()
        )

    def get_command(self, kind: CommandKind, command_id: str) -> CommandReport:
        return self._get(f"/sale/{kind}/{_segment(command_id)}", CommandReport)

    def command_tasks(
        self, kind: CommandKind, command_id: str, *, limit: int = COMMAND_CHUNK, offset: int = 0
    ) -> TaskReport:
        return self._get(
            f"/sale/{kind}/{_segment(command_id)}/tasks", TaskReport, {"limit": limit, "offset": offset}
        )

    def change_quantity(
        self, offer_ids: Iterable[str], change_type: Literal["FIXED", "GAIN"], value: int
    ) -> list[OfferCommandResult]:
        """Set (FIXED) or shift (GAIN) stock of many offers; one result per offer."""
        if change_type == "FIXED" and value < 1:
            raise InvalidCommand(
                f"Allegro cannot set stock to {value} with a quantity command (INCORRECT_QUANTITY_VALUE); "
                "to sell out an offer use patch_product_offer(offer_id, {'stock': {'available': 0}})"
            )
        modification = QuantityModification(change_type=change_type, value=value)
        return self._run_commands(
            "offer-quantity-change-commands", offer_ids, QuantityChangeCommand, modification=modification
        )

    def change_price(
        self, offer_ids: Iterable[str], modification: PriceModification
    ) -> list[OfferCommandResult]:
        """Change buy-now prices of many offers the same way (fixed price, by amount or by percentage)."""
        return self._run_commands(
            "offer-price-change-commands", offer_ids, PriceChangeCommand, modification=modification
        )

    def change_publication(
        self,
        offer_ids: Iterable[str],
        action: Literal["ACTIVATE", "END"],
        *,
        scheduled_for: str | None = None,
    ) -> list[OfferCommandResult]:
        """Activate or end many offers. Confirm a stock raise first: Allegro may reorder them (#10251)."""
        publication = PublicationModification(action=action, scheduled_for=scheduled_for)
        return self._run_commands(
            "offer-publication-commands", offer_ids, PublicationChangeCommand, publication=publication
        )

    def _run_commands(
        self,
        kind: CommandKind,
        offer_ids: Iterable[str],
        command: Callable[..., BaseModel],
        *,
        post: bool = False,
        **fields: Any,
    ) -> list[OfferCommandResult]:
        """The command (`fields` + each chunk's offer criteria) run chunk by chunk; one result per offer."""
        ids = list(dict.fromkeys(offer_ids))
        if not ids or any(not isinstance(i, str) or not i.strip() for i in ids):
            raise InvalidCommand("a command needs at least one offer id, each a non-empty string")
        results: list[OfferCommandResult] = []
        for start in range(0, len(ids), COMMAND_CHUNK):
            chunk = ids[start : start + COMMAND_CHUNK]
            criteria = [OfferCriterion(offers=[IdRefIn(id=i) for i in chunk])]
            command_id = str(uuid.uuid4())  # single-use: Allegro answers 409 to a reused id (#5455)
            body = command(offer_criteria=criteria, **fields)
            try:
                results.extend(self._run_one_command(kind, command_id, body, chunk, post=post))
            except AllegroError as error:
                error.completed = tuple(results)
                raise
        return results

    def _run_one_command(
        self, kind: CommandKind, command_id: str, body: BaseModel, chunk: list[str], *, post: bool
    ) -> list[OfferCommandResult]:
        if post:
            self.request(
                "POST",
                f"/sale/{kind}",
                json_body={**_dump(body), "id": command_id},
                idempotent=True,  # the id in the body makes a repeat harmless
                conflict_after_retry_ok=True,
            )
        else:
            self.put_command(kind, command_id, body)
        return self._await_tasks(kind, command_id, chunk)

    def _await_tasks(self, kind: CommandKind, command_id: str, chunk: list[str]) -> list[OfferCommandResult]:
        """Poll the tasks until every offer is SUCCESS or FAIL; the list is often empty at first (#6260)."""
        final: dict[str, CommandTask] = {}
        waited = 0.0
        poll = 0
        while True:
            for task in self.command_tasks(kind, command_id).tasks:
                if task.offer and task.status in ("SUCCESS", "FAIL"):
                    final[task.offer.id] = task
            if all(offer_id in final for offer_id in chunk):
                break
            delay = self._poll_delay(poll)
            if waited + delay > self._max_wait:
                logger.warning(
                    "Allegro command still running",
                    extra={"command": kind, "command_id": command_id, "pending": len(chunk) - len(final)},
                )
                break
            self._sleep(delay)
            waited += delay
            poll += 1
        return [_result(offer_id, final.get(offer_id), command_id) for offer_id in chunk]


def _result(offer_id: str, task: CommandTask | None, command_id: str) -> OfferCommandResult:
    if task is None:
        return OfferCommandResult(offer_id=offer_id, status="PENDING", command_id=command_id)
    message = task.message
    if task.errors:
        reasons = "; ".join(e.user_message or e.message or e.code or "" for e in task.errors)
        message = f"{message}: {reasons}" if message else reasons
    status: Literal["SUCCESS", "FAIL"] = "SUCCESS" if task.status == "SUCCESS" else "FAIL"
    return OfferCommandResult(offer_id=offer_id, status=status, message=message, command_id=command_id)
