"""Ship with Allegro ("Wysyłam z Allegro"): the `/shipment-management/*` payloads (spec field names) and the
values the label use case exchanges with its ports (a seller's label rule, one package's label record)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from allegro_sync.contracts.allegro import AllegroRequest, AllegroResponse

PackageType = Literal["DOX", "PACKAGE", "PALLET", "OTHER"]
CommandState = Literal["IN_PROGRESS", "SUCCESS", "ERROR"]
# One namespace for every label command id: uuid5(order + package) is the same on every retry.
LABEL_NAMESPACE = uuid.UUID("5d1c2a8e-7f40-4e0b-9a51-3c2f8b7e6a10")


class Dimension(AllegroRequest):
    value: float = Field(gt=0)
    unit: Literal["CENTIMETER"] = "CENTIMETER"


class Weight(AllegroRequest):
    value: float = Field(gt=0)
    unit: Literal["KILOGRAMS"] = "KILOGRAMS"


class PackageRequest(AllegroRequest):
    type: PackageType = "PACKAGE"
    length: Dimension
    width: Dimension
    height: Dimension
    weight: Weight
    text_on_label: str | None = None


class ShipmentAddress(AllegroRequest):
    """`AddressDto` (+ `point`): street, city, postalCode, countryCode, email and phone are required."""

    name: str | None = None
    company: str | None = None
    street: str = Field(min_length=1)
    postal_code: str = Field(min_length=1)
    city: str = Field(min_length=1)
    country_code: str = Field(default="PL", pattern=r"^[A-Z]{2}$")
    email: str = Field(min_length=3)
    phone: str = Field(min_length=3)
    point: str | None = None


class ShipmentCreateRequest(AllegroRequest):
    # Deprecated in the spec but still the one way to name the buyer's method without delivery-proposals.
    delivery_method_id: str | None = None
    credentials_id: str | None = None
    sender: ShipmentAddress
    receiver: ShipmentAddress
    reference_number: str | None = None
    packages: Annotated[list[PackageRequest], Field(min_length=1)]
    label_format: Literal["PDF", "ZPL"] = "PDF"


class ShipmentCreateCommand(AllegroRequest):
    command_id: str
    input: ShipmentCreateRequest


class CancelInput(AllegroRequest):
    shipment_id: str


class ShipmentCancelCommand(AllegroRequest):
    command_id: str
    input: CancelInput


class CommandStatus(AllegroResponse):
    """Create, cancel and pickup command status: `shipmentId` / `pickupId` only once SUCCESS."""

    command_id: str | None = None
    status: CommandState
    errors: list[dict[str, object]] = Field(default_factory=list)
    shipment_id: str | None = None
    pickup_id: str | None = None
    carrier_pickup_id: str | None = None


class ShipmentPackage(AllegroResponse):
    waybill: str | None = None


class ShipmentDetails(AllegroResponse):
    id: str
    carrier: str | None = None
    packages: list[ShipmentPackage] = Field(default_factory=list)
    canceled_date: str | None = None
    pickup_available: bool | None = None


class LabelRequest(AllegroRequest):
    shipment_ids: Annotated[list[str], Field(min_length=1)]
    page_size: Literal["A4", "A6"] | None = None


class PickupProposalsRequest(AllegroRequest):
    shipment_ids: Annotated[list[str], Field(min_length=1, max_length=100)]
    address: ShipmentAddress


class PickupTime(AllegroRequest):
    date: str
    min_time: str | None = None
    max_time: str | None = None


class PickupInput(AllegroRequest):
    shipment_ids: Annotated[list[str], Field(min_length=1)]
    pickup_date_proposal_id: str  # deprecated in the spec, yet still required
    pickup_time: PickupTime | None = None
    address: ShipmentAddress


class PickupCreateCommand(AllegroRequest):
    command_id: str
    input: PickupInput


class PickupProposal(AllegroResponse):
    shipment_id: str | None = None
    proposal_items: list[dict[str, str]] = Field(default_factory=list)
    pickup_times: list[dict[str, str]] = Field(default_factory=list)


class PickupProposals(AllegroResponse):
    proposals: list[PickupProposal] = Field(default_factory=list)


# --- the seller's side -----------------------------------------------------------------------------------


class PackageDefaults(BaseModel):
    """The parcel a label is bought for when the shop says nothing else (cm, kg)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    length_cm: float = Field(default=30, gt=0)
    width_cm: float = Field(default=20, gt=0)
    height_cm: float = Field(default=10, gt=0)
    weight_kg: float = Field(default=1, gt=0)


class Sender(BaseModel):
    """The seller's dispatch address and contact, printed on every label."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    street: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=10)
    city: str = Field(min_length=1, max_length=60)
    country_code: str = Field(default="PL", pattern=r"^[A-Z]{2}$")
    email: str = Field(min_length=3, max_length=100)
    phone: str = Field(min_length=3, max_length=20)


class LabelRule(BaseModel):
    """A seller's rule: which shop status buys the label, with which service and parcel defaults.

    `status` matches the shop's own status (a WooCommerce status such as `ready-to-ship`) or the Allegro
    fulfillment status the shop set (generic `order.status`). `service` is a delivery method id of
    `GET /shipment-management/delivery-services`; empty means the one the buyer chose in the order.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    account: str
    status: str = Field(default="READY_FOR_SHIPMENT", min_length=1, max_length=40)
    service: str | None = None
    credentials_id: str | None = None
    package: PackageDefaults = PackageDefaults()
    sender: Sender

    def matches(self, status: str | None, shop_status: str | None) -> bool:
        """Whether an order update with this Allegro status / shop status word buys the label."""
        return self.status in {s for s in (status, shop_status) if s}


LabelState = Literal["ordering", "bought", "stored", "tracked", "refused", "cancelled"]


class LabelRecord(BaseModel):
    """One package's label, recorded before and after each step so no retry buys it twice."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    checkout_form_id: str
    package: int = Field(ge=1)
    account: str
    command_id: str
    state: LabelState
    service: str | None = None
    shipment_id: str | None = None
    waybill: str | None = None
    carrier: str | None = None
    label_key: str | None = None
    reason: str | None = None
    updated_at: str = ""


def label_command_id(checkout_form_id: str, package: int) -> str:
    """The create command's id: derived, never random, so every retry names the same purchase."""
    return str(uuid.uuid5(LABEL_NAMESPACE, f"{checkout_form_id}#{package}"))
