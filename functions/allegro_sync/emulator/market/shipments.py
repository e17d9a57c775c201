"""Ship with Allegro ("Wysyłam z Allegro", `/shipment-management/*`): delivery services, shipments bought
through asynchronous create commands, their labels and protocols, cancel commands, pickups.

As the spec describes it: `POST .../create-commands` answers 200 with the command (and `Retry-After`); the
shipment exists only once `GET .../create-commands/{id}` says SUCCESS with a `shipmentId` (IN_PROGRESS
before, ERROR with `errors` when the carrier refuses the package). Beyond the spec
(docs/allegro-behaviours.md): the label and the protocol answer 406 NotAcceptableException unless `Accept`
names `application/octet-stream` (#10603, #8971, #12378; fault `label_needs_octet_accept`). A command id
used twice is refused with 400: Allegro does not publish what it does, and refusing is the case a client
must survive (it cannot count on the repeat returning the first shipment). Every shipment bought is counted
per seller (`bought`), so a test can prove a label was never paid for twice.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.common import Reject, body_object, iso, new_uuid, obj, ok, seq
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

OCTET = "application/octet-stream"
# Allegro Standard services the emulated sellers may use (owner ALLEGRO: no credentialsId).
SERVICES: tuple[dict[str, Any], ...] = (
    {
        "id": {"deliveryMethodId": "inpost-paczkomaty"},
        "name": "Allegro Paczkomaty InPost",
        "carrierId": "INPOST",
        "owner": "ALLEGRO",
        "marketplaces": ["allegro-pl"],
        "packageTypes": ["PACKAGE"],
        "additionalServices": [],
        "additionalProperties": [],
        "features": {},
    },
    {
        "id": {"deliveryMethodId": "allegro-kurier-dpd"},
        "name": "Allegro Kurier DPD",
        "carrierId": "DPD",
        "owner": "ALLEGRO",
        "marketplaces": ["allegro-pl"],
        "packageTypes": ["PACKAGE", "DOX"],
        "additionalServices": [],
        "additionalProperties": [],
        "features": {},
    },
)
MAX_WEIGHT_KG = {"INPOST": 25.0, "DPD": 31.5}
PICKUP_CARRIERS = frozenset({"DPD"})  # a parcel locker parcel is dropped off, not picked up


@dataclass
class Wza:
    """One marketplace's shipments, commands and pickups."""

    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # shipment id -> seller id
    commands: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (kind, id) -> status
    pickups: dict[str, dict[str, Any]] = field(default_factory=dict)
    bought: dict[str, int] = field(default_factory=dict)  # seller -> shipments created


def error_item(code: str, message: str, *, path: str | None = None) -> dict[str, Any]:
    """This API's `Error400`: `details` is a string, never null, and there is no `metadata`."""
    return {"code": code, "message": message, "details": "", "path": path, "userMessage": message}


def _reject(status: int, code: str, message: str, *, path: str | None = None) -> Reject:
    return Reject(status, [error_item(code, message, path=path)])


def _wza(st: MarketState) -> Wza:
    return st.wza


def _service(method_id: Any) -> dict[str, Any] | None:
    return next((s for s in SERVICES if s["id"]["deliveryMethodId"] == method_id), None)


def delivery_services(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    return ok({"services": copy.deepcopy(list(SERVICES))})


def _new_command(st: MarketState, request: EmulatorRequest, kind: str) -> tuple[str, dict[str, Any]]:
    assert request.seller_id is not None
    body = body_object(request)
    command_id = body.get("commandId") or new_uuid(st.rng)
    if not isinstance(command_id, str) or (kind, command_id) in _wza(st).commands:
        raise _reject(400, "VALIDATION_ERROR", f"command {command_id} already exists", path="commandId")
    _wza(st).commands[(kind, command_id)] = {"commandId": command_id, "status": "IN_PROGRESS"}
    return command_id, obj(body.get("input"))


def _accepted(st: MarketState, command_id: str, given: dict[str, Any]) -> EmulatorResponse:
    return ok({"commandId": command_id, "input": given}, headers={"Retry-After": "1"})


def _package_problems(service: dict[str, Any], packages: list[Any]) -> list[dict[str, Any]]:
    problems = []
    limit = MAX_WEIGHT_KG.get(service["carrierId"], 30.0)
    for index, raw in enumerate(packages):
        package = obj(raw)
        weight = obj(package.get("weight")).get("value")
        if not isinstance(weight, int | float) or not 0 < weight <= limit:
            problems.append(
                error_item(
                    "PACKAGE_WEIGHT_INVALID",
                    f"package weight must be above 0 and at most {limit} kg",
                    path=f"packages[{index}].weight",
                )
            )
        if package.get("type") not in service["packageTypes"]:
            problems.append(
                error_item(
                    "PACKAGE_TYPE_NOT_SUPPORTED",
                    f"{service['name']} does not carry {package.get('type')}",
                    path=f"packages[{index}].type",
                )
            )
    return problems


def create_shipment(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    command_id, given = _new_command(st, request, "create")
    seller = request.seller_id
    assert seller is not None
    snapshot = copy.deepcopy(given)

    def finish() -> None:
        status = _wza(st).commands[("create", command_id)]
        service = _service(snapshot.get("deliveryMethodId"))
        packages = seq(snapshot.get("packages"))
        if service is None:
            problems = [
                error_item("DELIVERY_METHOD_NOT_FOUND", "unknown delivery method", path="deliveryMethodId")
            ]
        else:
            problems = _package_problems(service, packages) or (
                [] if packages else [error_item("VALIDATION_ERROR", "no packages", path="packages")]
            )
        if problems or service is None:
            status.update(status="ERROR", errors=problems)
            return
        shipment_id = new_uuid(st.rng)
        _wza(st).shipments[shipment_id] = {
            "id": shipment_id,
            "sender": snapshot.get("sender"),
            "receiver": snapshot.get("receiver"),
            "referenceNumber": snapshot.get("referenceNumber"),
            "packages": [{**obj(p), "waybill": f"{st.rng.randrange(10**23, 10**24)}"} for p in packages],
            "createdDate": iso(st.now()),
            "carrier": service["carrierId"],
            "labelFormat": snapshot.get("labelFormat") or "PDF",
            "transport": [service["carrierId"]],
            "pickupAvailable": service["carrierId"] in PICKUP_CARRIERS,
        }
        _wza(st).owners[shipment_id] = seller
        _wza(st).bought[seller] = _wza(st).bought.get(seller, 0) + 1
        status.update(status="SUCCESS", shipmentId=shipment_id)

    st.schedule(st.faults.shipment_command_seconds, finish)
    return _accepted(st, command_id, given)


def _status(st: MarketState, kind: str, command_id: str) -> EmulatorResponse:
    found = _wza(st).commands.get((kind, command_id))
    if found is None:
        raise _reject(404, "NOT_FOUND", f"command {command_id} not found")
    return ok(copy.deepcopy(found))


def create_status(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    return _status(st, "create", command_id)


def _own(st: MarketState, request: EmulatorRequest, shipment_id: str) -> dict[str, Any]:
    found = _wza(st).shipments.get(shipment_id)
    if found is None or _wza(st).owners.get(shipment_id) != request.seller_id:
        raise _reject(404, "NOT_FOUND", f"shipment {shipment_id} not found")
    return found


def get_shipment(st: MarketState, request: EmulatorRequest, shipment_id: str) -> EmulatorResponse:
    shipment = _own(st, request, shipment_id)
    return ok({k: v for k, v in copy.deepcopy(shipment).items() if v is not None})


def _document(st: MarketState, request: EmulatorRequest, title: str) -> EmulatorResponse:
    if st.faults.label_needs_octet_accept and OCTET not in request.headers.get("accept", ""):
        raise _reject(
            406,
            "NotAcceptableException",
            "Not acceptable representation requested. Please check 'Accept' request header",
        )
    ids = [str(i) for i in seq(body_object(request).get("shipmentIds"))]
    shipments = [_own(st, request, i) for i in ids]
    if any(s.get("canceledDate") for s in shipments):
        raise _reject(400, "SHIPMENT_CANCELED", "a canceled shipment has no label", path="shipmentIds")
    waybills = " ".join(p["waybill"] for s in shipments for p in s["packages"])
    text = f"%PDF-1.4\n% emulated {title}: {waybills}\n%%EOF\n".encode()
    return EmulatorResponse(200, text, {"Content-Type": OCTET})


def label(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    return _document(st, request, "label")


def protocol(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    return _document(st, request, "protocol")


def cancel_shipment(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    command_id, given = _new_command(st, request, "cancel")
    shipment = _own(st, request, str(given.get("shipmentId")))

    def finish() -> None:
        shipment.setdefault("canceledDate", iso(st.now()))
        _wza(st).commands[("cancel", command_id)].update(status="SUCCESS", shipmentId=shipment["id"])

    st.schedule(st.faults.shipment_command_seconds, finish)
    return _accepted(st, command_id, given)


def cancel_status(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    return _status(st, "cancel", command_id)


def pickup_proposals(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    body = body_object(request)
    answer = []
    for shipment_id in seq(body.get("shipmentIds")):
        shipment = _own(st, request, str(shipment_id))
        days = [st.now().date() + timedelta(days=n) for n in (1, 2)] if shipment["pickupAvailable"] else []
        answer.append(
            {
                "shipmentId": shipment["id"],
                "proposalItems": [{"id": d.isoformat(), "name": d.isoformat()} for d in days],
                "pickupTimes": [
                    {"date": d.isoformat(), "minTime": "10:00", "maxTime": "16:00"} for d in days
                ],
            }
        )
    return ok([{"proposals": answer, "address": body.get("address")}])


def create_pickup(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    command_id, given = _new_command(st, request, "pickup")
    shipments = [_own(st, request, str(i)) for i in seq(given.get("shipmentIds"))]

    def finish() -> None:
        status = _wza(st).commands[("pickup", command_id)]
        if not shipments or not all(s["pickupAvailable"] and not s.get("canceledDate") for s in shipments):
            status.update(
                status="ERROR",
                errors=[
                    error_item("PICKUP_NOT_AVAILABLE", "no pickup for these shipments", path="shipmentIds")
                ],
            )
            return
        pickup_id = new_uuid(st.rng)
        carrier_id = f"P{st.rng.randrange(10**9, 10**10)}"
        _wza(st).pickups[pickup_id] = {
            "id": pickup_id,
            "carrierPickupId": carrier_id,
            "carrier": shipments[0]["carrier"],
            "address": given.get("address"),
            "shipmentIds": [s["id"] for s in shipments],
            "waybills": [p["waybill"] for s in shipments for p in s["packages"]],
        }
        status.update(status="SUCCESS", pickupId=pickup_id, carrierPickupId=carrier_id)

    st.schedule(st.faults.shipment_command_seconds, finish)
    return _accepted(st, command_id, given)


def pickup_status(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    return _status(st, "pickup", command_id)


def get_pickup(st: MarketState, request: EmulatorRequest, pickup_id: str) -> EmulatorResponse:
    found = _wza(st).pickups.get(pickup_id)
    if found is None:
        raise _reject(404, "NOT_FOUND", f"pickup {pickup_id} not found")
    return ok(copy.deepcopy(found))
