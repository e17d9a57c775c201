"""Ship with Allegro in the emulator: asynchronous create commands, labels as files, cancel, pickups."""

from __future__ import annotations

from typing import Any

from allegro_sync.emulator.marketplace import Marketplace
from allegro_sync.emulator.types import Clock
from tests.unit.emulator.conftest import OTHER_SELLER, SELLER, Api

OCTET = "application/octet-stream"
ADDRESS = {
    "name": "Jan Kowalski",
    "street": "ul. Marszałkowska 1",
    "postalCode": "00-001",
    "city": "Warszawa",
    "countryCode": "PL",
    "email": "jan@example.com",
    "phone": "500600700",
}
PACKAGE = {
    "type": "PACKAGE",
    "length": {"value": 30, "unit": "CENTIMETER"},
    "width": {"value": 20, "unit": "CENTIMETER"},
    "height": {"value": 10, "unit": "CENTIMETER"},
    "weight": {"value": 1.5, "unit": "KILOGRAMS"},
}


def _create(api: Api, command_id: str, *, method: str = "allegro-kurier-dpd", weight: float = 1.5) -> Any:
    package = {**PACKAGE, "weight": {"value": weight, "unit": "KILOGRAMS"}}
    body = {
        "commandId": command_id,
        "input": {
            "deliveryMethodId": method,
            "sender": ADDRESS,
            "receiver": ADDRESS,
            "referenceNumber": "order-1",
            "packages": [package],
            "labelFormat": "PDF",
        },
    }
    return api.call("POST", "/shipment-management/shipments/create-commands", body)


def _bought(api: Api, command_id: str) -> str:
    assert _create(api, command_id).status == 200
    status = api.get(f"/shipment-management/shipments/create-commands/{command_id}").body
    assert status["status"] == "SUCCESS"
    return str(status["shipmentId"])


def test_a_shipment_is_in_progress_until_its_command_finishes(
    api: Api, market: Marketplace, clock: Clock
) -> None:
    market.faults.shipment_command_seconds = 5
    answer = _create(api, "5f0c7c9e-0000-4000-8000-000000000001")

    assert answer.status == 200
    assert answer.headers["Retry-After"] == "1"
    status = api.get("/shipment-management/shipments/create-commands/5f0c7c9e-0000-4000-8000-000000000001")
    assert status.body == {"commandId": "5f0c7c9e-0000-4000-8000-000000000001", "status": "IN_PROGRESS"}
    clock.advance(6)
    done = api.get("/shipment-management/shipments/create-commands/5f0c7c9e-0000-4000-8000-000000000001").body
    assert done["status"] == "SUCCESS"
    shipment = api.get(f"/shipment-management/shipments/{done['shipmentId']}").body
    assert shipment["carrier"] == "DPD"
    assert shipment["packages"][0]["waybill"]
    assert market.state.wza.bought == {SELLER: 1}


def test_a_package_the_carrier_refuses_ends_the_command_in_error(api: Api, market: Marketplace) -> None:
    _create(api, "5f0c7c9e-0000-4000-8000-000000000002", method="inpost-paczkomaty", weight=40)

    status = api.get(
        "/shipment-management/shipments/create-commands/5f0c7c9e-0000-4000-8000-000000000002"
    ).body

    assert status["status"] == "ERROR"
    assert status["errors"][0]["code"] == "PACKAGE_WEIGHT_INVALID"
    assert market.state.wza.bought == {}


def test_a_command_id_is_single_use(api: Api, market: Marketplace) -> None:
    _bought(api, "5f0c7c9e-0000-4000-8000-000000000003")

    again = _create(api, "5f0c7c9e-0000-4000-8000-000000000003")

    assert again.status == 400
    assert market.state.wza.bought == {SELLER: 1}


def test_the_label_is_a_pdf_file_and_needs_an_octet_stream_accept(api: Api, market: Marketplace) -> None:
    shipment_id = _bought(api, "5f0c7c9e-0000-4000-8000-000000000004")
    body = {"shipmentIds": [shipment_id], "pageSize": "A6"}

    refused = api.call("POST", "/shipment-management/label", body)
    label = api.call("POST", "/shipment-management/label", body, accept=OCTET)

    assert refused.status == 406
    assert refused.body["errors"][0]["code"] == "NotAcceptableException"
    assert label.status == 200
    assert label.headers["Content-Type"] == OCTET
    assert label.body.startswith(b"%PDF")
    market.faults.label_needs_octet_accept = False
    assert api.call("POST", "/shipment-management/label", body).status == 200
    protocol = api.call("POST", "/shipment-management/protocol", {"shipmentIds": [shipment_id]}, accept=OCTET)
    assert protocol.body.startswith(b"%PDF")


def test_another_sellers_shipment_is_not_found(api: Api) -> None:
    shipment_id = _bought(api, "5f0c7c9e-0000-4000-8000-000000000005")

    assert api.as_seller(OTHER_SELLER).get(f"/shipment-management/shipments/{shipment_id}").status == 404


def test_a_cancelled_shipment_has_no_label(api: Api) -> None:
    shipment_id = _bought(api, "5f0c7c9e-0000-4000-8000-000000000006")
    cancel = {"commandId": "5f0c7c9e-0000-4000-8000-000000000007", "input": {"shipmentId": shipment_id}}

    assert api.call("POST", "/shipment-management/shipments/cancel-commands", cancel).status == 200

    status = api.get("/shipment-management/shipments/cancel-commands/5f0c7c9e-0000-4000-8000-000000000007")
    assert status.body["status"] == "SUCCESS"
    assert api.get(f"/shipment-management/shipments/{shipment_id}").body["canceledDate"]
    label = api.call("POST", "/shipment-management/label", {"shipmentIds": [shipment_id]}, accept=OCTET)
    assert label.status == 400


def test_a_courier_pickup_is_proposed_and_ordered(api: Api) -> None:
    shipment_id = _bought(api, "5f0c7c9e-0000-4000-8000-000000000008")
    proposals = api.call(
        "POST", "/shipment-management/pickup-proposals", {"shipmentIds": [shipment_id], "address": ADDRESS}
    ).body
    first = proposals[0]["proposals"][0]
    order = {
        "commandId": "5f0c7c9e-0000-4000-8000-000000000009",
        "input": {
            "shipmentIds": [shipment_id],
            "pickupDateProposalId": first["proposalItems"][0]["id"],
            "pickupTime": first["pickupTimes"][0],
            "address": ADDRESS,
        },
    }

    assert api.call("POST", "/shipment-management/pickups/create-commands", order).status == 200

    status = api.get("/shipment-management/pickups/create-commands/5f0c7c9e-0000-4000-8000-000000000009").body
    assert status["status"] == "SUCCESS"
    pickup = api.get(f"/shipment-management/pickups/{status['pickupId']}").body
    assert pickup["shipmentIds"] == [shipment_id]
    assert pickup["carrierPickupId"] == status["carrierPickupId"]


def test_delivery_services_list_allegro_standard_methods(api: Api) -> None:
    services = api.get("/shipment-management/delivery-services").body["services"]

    assert {s["id"]["deliveryMethodId"] for s in services} >= {"inpost-paczkomaty", "allegro-kurier-dpd"}
