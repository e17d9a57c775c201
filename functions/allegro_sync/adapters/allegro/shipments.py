"""/shipment-management/*: Ship with Allegro ("Wysyłam z Allegro").

Create, cancel and pickup commands are POSTs: never repeated by the client after a possibly delivered
attempt. The label use case reads the command's status first instead (`services/labels.py`), so a lost
answer is found on the next try, never bought twice. The label and the protocol are files: they are asked
for with `Accept: application/octet-stream`, which Allegro insists on (#10603, #8971).
"""

from __future__ import annotations

from allegro_sync.adapters.allegro.core import AllegroCore, _dump, _segment
from allegro_sync.contracts.allegro_errors import AllegroNotFound
from allegro_sync.contracts.shipping import (
    CommandStatus,
    LabelRequest,
    PickupCreateCommand,
    PickupProposal,
    PickupProposals,
    PickupProposalsRequest,
    ShipmentCancelCommand,
    ShipmentCreateCommand,
    ShipmentDetails,
)

OCTET_STREAM = "application/octet-stream"
BASE = "/shipment-management"


class ShipmentsApi(AllegroCore):
    def delivery_services(self) -> list[dict[str, object]]:
        services = self.request("GET", f"{BASE}/delivery-services").json().get("services")
        return list(services) if isinstance(services, list) else []

    def create_shipment(self, command: ShipmentCreateCommand) -> None:
        self.request("POST", f"{BASE}/shipments/create-commands", json_body=_dump(command))

    def shipment_command(self, command_id: str) -> CommandStatus | None:
        """The create command's status, or None when Allegro never received it (404)."""
        return self._status(f"{BASE}/shipments/create-commands/{_segment(command_id)}")

    def shipment(self, shipment_id: str) -> ShipmentDetails:
        return self._get(f"{BASE}/shipments/{_segment(shipment_id)}", ShipmentDetails)

    def label(self, shipment_ids: list[str]) -> bytes:
        body = _dump(LabelRequest(shipment_ids=shipment_ids, page_size="A6"))
        return self.request("POST", f"{BASE}/label", json_body=body, accept=OCTET_STREAM).content

    def cancel_shipment(self, command: ShipmentCancelCommand) -> None:
        self.request("POST", f"{BASE}/shipments/cancel-commands", json_body=_dump(command))

    def cancel_command(self, command_id: str) -> CommandStatus | None:
        return self._status(f"{BASE}/shipments/cancel-commands/{_segment(command_id)}")

    def pickup_proposals(self, request: PickupProposalsRequest) -> list[PickupProposal]:
        answer = self.request("POST", f"{BASE}/pickup-proposals", json_body=_dump(request)).json()
        return [p for group in answer for p in PickupProposals.model_validate(group).proposals]

    def create_pickup(self, command: PickupCreateCommand) -> None:
        self.request("POST", f"{BASE}/pickups/create-commands", json_body=_dump(command))

    def pickup_command(self, command_id: str) -> CommandStatus | None:
        return self._status(f"{BASE}/pickups/create-commands/{_segment(command_id)}")

    def _status(self, path: str) -> CommandStatus | None:
        try:
            return self._get(path, CommandStatus)
        except AllegroNotFound:
            return None
