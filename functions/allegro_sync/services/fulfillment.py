"""Fulfillment back: the shop's order status and tracking numbers onto the Allegro order.

Idempotent by reading before writing: a status Allegro already shows is not set again, and a parcel whose
waybill is already on the order is not added again (Allegro itself answers 409 for a duplicate waybill,
which counts as "already there"). The fulfillment PUT carries the form's revision; a 409 means the buyer
or Allegro changed the order in between, so it is re-read and retried a few times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from allegro_sync.contracts.allegro import AddShipment, Carrier, CheckoutForm, FulfillmentStatus, Shipment
from allegro_sync.contracts.allegro_errors import AllegroConflict
from allegro_sync.contracts.messages import ShopOrderStatus
from allegro_sync.domain.shop_orders import allegro_carrier

MAX_REVISION_ATTEMPTS = 5


class FulfillmentApi(Protocol):
    """The Allegro calls this use case needs (`AllegroClient` has them)."""

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm: ...

    def set_fulfillment(
        self, checkout_form_id: str, status: FulfillmentStatus, *, revision: str | None = None
    ) -> None: ...

    def carriers(self) -> list[Carrier]: ...

    def shipments(self, checkout_form_id: str) -> list[Shipment]: ...

    def add_shipment(self, checkout_form_id: str, shipment: AddShipment) -> Shipment: ...


class StaleRevision(RuntimeError):
    """The order kept changing under us; the caller retries later."""


@dataclass(frozen=True)
class FulfillmentResult:
    checkout_form_id: str
    status_set: FulfillmentStatus | None = None
    shipments_added: tuple[str, ...] = ()  # waybills
    revision_retries: int = 0


def _norm(waybill: str) -> str:
    return "".join(waybill.split()).upper()


class Fulfillment:
    def __init__(self, api: FulfillmentApi) -> None:
        self._api = api
        self._carrier_ids: frozenset[str] | None = None

    def apply(self, update: ShopOrderStatus) -> FulfillmentResult:
        added = self._add_parcels(update)
        status_set, retries = self._set_status(update)
        return FulfillmentResult(update.checkout_form_id, status_set, added, retries)

    def _known_carriers(self) -> frozenset[str]:
        if self._carrier_ids is None:  # GET /order/carriers changes rarely: once per use case instance
            self._carrier_ids = frozenset(c.id for c in self._api.carriers())
        return self._carrier_ids

    def _add_parcels(self, update: ShopOrderStatus) -> tuple[str, ...]:
        if not update.parcels:
            return ()
        form_id = update.checkout_form_id
        present = {_norm(s.waybill) for s in self._api.shipments(form_id) if s.waybill}
        added: list[str] = []
        for parcel in update.parcels:
            if _norm(parcel.waybill) in present:
                continue
            carrier_id, carrier_name = allegro_carrier(parcel.carrier, self._known_carriers())
            try:
                self._api.add_shipment(
                    form_id,
                    AddShipment(carrier_id=carrier_id, waybill=parcel.waybill, carrier_name=carrier_name),
                )
            except AllegroConflict:
                pass  # added by an earlier delivery of the same update: already there
            else:
                added.append(parcel.waybill)
            present.add(_norm(parcel.waybill))
        return tuple(added)

    def _set_status(self, update: ShopOrderStatus) -> tuple[FulfillmentStatus | None, int]:
        if update.status is None:
            return None, 0
        for attempt in range(MAX_REVISION_ATTEMPTS):
            form = self._api.checkout_form(update.checkout_form_id)
            if form.fulfillment is not None and form.fulfillment.status == update.status:
                return None, attempt
            try:
                self._api.set_fulfillment(update.checkout_form_id, update.status, revision=form.revision)
            except AllegroConflict:
                continue  # the form changed since we read it: read it again
            return update.status, attempt
        raise StaleRevision(
            f"checkout form {update.checkout_form_id} changed {MAX_REVISION_ATTEMPTS} times while setting "
            f"its fulfillment status; try again later"
        )
