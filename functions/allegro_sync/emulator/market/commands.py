"""Batch commands: quantity, price and publication changes for up to 1000 offers at once.

Each command has a client-chosen UUID (a reused id answers 409, #5455) and runs asynchronously: the
PUT answers with all counts 0 (#6260) and per-offer tasks appear once `command_delay_seconds` have
passed on the emulator clock. A FIXED quantity below 1 is refused outright: a batch command cannot
set stock 0 (INCORRECT_QUANTITY_VALUE, #6166, #3910); ending an offer by stock goes through PATCH.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.common import (
    CURRENCY,
    Reject,
    body_object,
    error_item,
    int_arg,
    is_uuid,
    iso,
    money,
    obj,
    offer_criteria_ids,
    ok,
    parse_decimal,
)
from allegro_sync.emulator.market.offers import activate, end, set_price, set_stock
from allegro_sync.emulator.market.state import Command, Offer
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

# A task outcome: None for success, else (code, message).
Outcome = tuple[str, str] | None
Apply = Callable[["MarketState", Offer, dict[str, Any]], Outcome]


def report(command: Command) -> dict[str, Any]:
    """GeneralReport: counts stay 0 until the tasks have run (#6260)."""
    tasks = command.tasks or []
    failed = sum(1 for t in tasks if t["status"] == "FAIL")
    return {
        "id": command.id,
        "createdAt": iso(command.created_at),
        "completedAt": iso(command.completed_at) if command.completed_at else None,
        "taskCount": {"total": len(tasks), "success": len(tasks) - failed, "failed": failed},
    }


def _task(st: MarketState, field: str, offer_id: str, outcome: Outcome, scheduled: str) -> dict[str, Any]:
    task: dict[str, Any] = {
        "offer": {"id": offer_id},
        "field": field,
        "status": "SUCCESS" if outcome is None else "FAIL",
        "message": "" if outcome is None else outcome[1],
        "errors": [] if outcome is None else [error_item(outcome[0], outcome[1])],
        "scheduledAt": scheduled,
        "finishedAt": iso(st.now()),
    }
    return task


def start(
    st: MarketState,
    request: EmulatorRequest,
    body: dict[str, Any],
    *,
    kind: str,
    command_id: str,
    modification: dict[str, Any],
    apply: Apply,
    field: str | None = None,
    overtake: bool = False,
) -> EmulatorResponse:
    """Register a command on the body's offers (409 on a reused id), queue its tasks (ahead of earlier
    work if `overtake`) and answer 201 with its report; `field` names the tasks' field (default: `kind`)."""
    assert request.seller_id is not None
    seller_id = request.seller_id
    offer_ids = offer_criteria_ids(body)
    if not is_uuid(command_id):
        raise Reject.one(422, "VALIDATION_ERROR", "The command id must be a UUID", path="commandId")
    if (kind, command_id) in st.commands:
        raise Reject.one(
            409, "COMMAND_ALREADY_EXISTS", f"Command {command_id} already exists: use a new UUID (#5455)"
        )
    command = Command(kind, command_id, seller_id, st.now(), offer_ids, modification)
    st.commands[(kind, command_id)] = command
    scheduled = iso(command.created_at)

    def run() -> None:
        tasks = []
        for offer_id in offer_ids:
            offer = st.offers.get(offer_id)
            outcome: Outcome
            if offer is None or offer.archived(st.now()) or offer.seller_id != seller_id:
                outcome = ("OFFER_NOT_FOUND", f"Offer {offer_id} not found")
            else:
                outcome = apply(st, offer, modification)
            tasks.append(_task(st, field or kind, offer_id, outcome, scheduled))
        command.tasks = tasks
        command.completed_at = st.now()

    if overtake:
        st.schedule_first(run)
    else:
        st.schedule(st.faults.command_delay_seconds, run)
    return ok(report(command), 201)


def find(st: MarketState, kind: str, command_id: str, seller_id: str) -> Command:
    command = st.commands.get((kind, command_id))
    if command is None or command.seller_id != seller_id:
        raise Reject.one(404, "NOT_FOUND", f"Command {command_id} not found")
    return command


def get_report(st: MarketState, request: EmulatorRequest, kind: str, command_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    return ok(report(find(st, kind, command_id, request.seller_id)))


def get_tasks(st: MarketState, request: EmulatorRequest, kind: str, command_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    command = find(st, kind, command_id, request.seller_id)
    limit = int_arg(request, "limit", 100, 1, 1000)
    offset = int_arg(request, "offset", 0, 0, 999)
    return ok({"tasks": (command.tasks or [])[offset : offset + limit]})


# ----------------------------------------------------------------------------- quantity


def _apply_quantity(st: MarketState, offer: Offer, modification: dict[str, Any]) -> Outcome:
    value = int(modification["value"])
    target = value if modification["changeType"] == "FIXED" else offer.stock + value
    if target < 1:
        return ("INCORRECT_QUANTITY_VALUE", f"The resulting quantity {target} is below 1")
    set_stock(st, offer, target)
    return None


def put_quantity(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    body = body_object(request)
    modification = obj(body.get("modification"))
    change, value = modification.get("changeType"), modification.get("value")
    if change not in ("FIXED", "GAIN"):
        raise Reject.one(
            422, "VALIDATION_ERROR", "changeType must be FIXED or GAIN", path="modification.changeType"
        )
    if not isinstance(value, int) or isinstance(value, bool):
        raise Reject.one(422, "VALIDATION_ERROR", "value must be an integer", path="modification.value")
    if change == "FIXED" and value < 1:
        raise Reject.one(
            422,
            "INCORRECT_QUANTITY_VALUE",
            "A quantity command cannot set less than 1 item; end the offer instead (#6166)",
            path="modification.value",
            metadata={"value": str(value)},
        )
    return start(
        st,
        request,
        body,
        kind="quantity",
        command_id=command_id,
        modification={"changeType": change, "value": value},
        apply=_apply_quantity,
    )


# ----------------------------------------------------------------------------- price


def _new_price(current: Decimal, modification: dict[str, Any]) -> Decimal:
    kind = modification["type"]
    if kind == "FIXED_PRICE":
        return Decimal(modification["price"]["amount"])
    if kind in ("INCREASE_PRICE", "DECREASE_PRICE"):
        delta = Decimal(modification["value"]["amount"])
        return current + delta if kind == "INCREASE_PRICE" else current - delta
    percentage = Decimal(modification["percentage"]) / 100
    factor = 1 + percentage if kind == "INCREASE_PERCENTAGE" else 1 - percentage
    return Decimal(money(current * factor))


def _apply_price(st: MarketState, offer: Offer, modification: dict[str, Any]) -> Outcome:
    target = _new_price(offer.price, modification)
    if target < Decimal("1.00"):
        return ("INCORRECT_PRICE_VALUE", f"The resulting price {money(target)} is below 1.00 {CURRENCY}")
    set_price(st, offer, target)
    return None


def _check_price_modification(modification: dict[str, Any]) -> None:
    kind = modification.get("type")
    holder = {
        "FIXED_PRICE": "price",
        "INCREASE_PRICE": "value",
        "DECREASE_PRICE": "value",
        "INCREASE_PERCENTAGE": "percentage",
        "DECREASE_PERCENTAGE": "percentage",
    }.get(str(kind))
    if holder is None:
        raise Reject.one(
            422, "VALIDATION_ERROR", f"Unknown modification type {kind}", path="modification.type"
        )
    raw = modification.get(holder)
    if holder == "percentage":
        number = parse_decimal(raw)
    else:
        if not isinstance(raw, dict):
            raw = {}
        if raw.get("currency", CURRENCY) != CURRENCY:
            raise Reject.one(
                422, "VALIDATION_ERROR", f"Prices are in {CURRENCY}", path=f"modification.{holder}.currency"
            )
        number = parse_decimal(raw.get("amount"))
    if number is None or number <= 0:
        raise Reject.one(
            422,
            "VALIDATION_ERROR",
            f"modification.{holder} must be a positive amount",
            path=f"modification.{holder}",
        )


def put_price(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    body = body_object(request)
    modification = body.get("modification")
    if not isinstance(modification, dict):
        raise Reject.one(422, "VALIDATION_ERROR", "modification is required", path="modification")
    _check_price_modification(modification)
    return start(
        st,
        request,
        body,
        kind="price",
        command_id=command_id,
        modification=dict(modification),
        apply=_apply_price,
    )


# ----------------------------------------------------------------------------- publication


def _apply_publication(st: MarketState, offer: Offer, modification: dict[str, Any]) -> Outcome:
    if modification["action"] == "ACTIVATE":
        if offer.stock < 1:
            return (
                "AvailableStockMustEqualToOneOrBeGreaterThanOne",
                "The listed quantity cannot be less than 1.",
            )
        if offer.status != "ACTIVE":
            activate(st, offer)
        return None
    if offer.status in ("ACTIVE", "ACTIVATING"):
        end(st, offer, "USER")
    return None


def put_publication(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    body = body_object(request)
    action = obj(body.get("publication")).get("action")
    if action not in ("ACTIVATE", "END"):
        raise Reject.one(
            422, "VALIDATION_ERROR", "publication.action must be ACTIVATE or END", path="publication"
        )
    return start(
        st,
        request,
        body,
        kind="publication",
        command_id=command_id,
        modification={"action": action},
        apply=_apply_publication,
        # Allegro may process an activation before a stock change sent just before it (#10251).
        overtake=st.chance(st.faults.activation_overtakes_rate),
    )
