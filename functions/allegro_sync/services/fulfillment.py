"""Fulfillment back: the shop's order status and tracking numbers onto the Allegro order.

Idempotent by reading before writing: a status Allegro already shows is not set again, and a parcel whose
waybill is already on the order is not added again. The fulfillment PUT carries the form's revision; a 409
means the buyer or Allegro changed the order in between, so it is re-read and retried a few times.

A 409 on `POST .../shipments` is not "already there": the spec says "maximum waybill usage exceeded (e.g.
used in too many orders)". The form is read again: a waybill now on it was added by an earlier delivery of
the same update (a true duplicate, success); otherwise Allegro refused it, and so does a 400 (unknown carrier,
a tracking number of the wrong shape). A refused tracking number never reaches the buyer, so it is written to
the order's journal and flagged for the seller (`allegro-sync orders show ORDER`), never dropped silently.

Allegro moves the status itself too (spec: SENT once a tracking number is added, when the seller enabled
it; RETURNED after a return and refund): a shop status that would move the order back is not sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from allegro_sync.contracts.allegro import AddShipment, Carrier, CheckoutForm, FulfillmentStatus, Shipment
from allegro_sync.contracts.allegro_errors import (
    AllegroApiError,
    AllegroBadRequest,
    AllegroConflict,
    AllegroValidationError,
)
from allegro_sync.contracts.messages import Parcel, ShopOrderStatus
from allegro_sync.contracts.orders import FulfillmentEntry
from allegro_sync.domain.shop_orders import allegro_carrier, moves_back

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


@dataclass(frozen=True)
class RefusedParcel:
    waybill: str
    carrier: str
    reason: str


class FulfillmentJournal(Protocol):
    """Where an order's fulfillment history is kept for the seller (`orders show`)."""

    def add(self, entry: FulfillmentEntry) -> None: ...


class StaleRevision(RuntimeError):
    """The order kept changing under us; the caller retries later."""


@dataclass(frozen=True)
class FulfillmentResult:
    checkout_form_id: str
    status_set: FulfillmentStatus | None = None
    shipments_added: tuple[str, ...] = ()  # waybills
    revision_retries: int = 0
    refused: tuple[RefusedParcel, ...] = ()
    status_kept: str | None = None  # Allegro's own status that the shop's would have moved back


def _said(error: AllegroApiError) -> str:
    return "; ".join(e.describe() for e in getattr(error, "errors", ()))[:300] or type(error).__name__


def _norm(waybill: str) -> str:
    return "".join(waybill.split()).upper()


class Fulfillment:
    def __init__(
        self,
        api: FulfillmentApi,
        journal: FulfillmentJournal | None = None,
        *,
        account: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._api = api
        self._journal = journal
        self._account = account
        self._clock = clock
        self._carrier_ids: frozenset[str] | None = None

    def apply(self, update: ShopOrderStatus) -> FulfillmentResult:
        added, refused = self._add_parcels(update)
        status_set, retries, kept = self._set_status(update)
        result = FulfillmentResult(update.checkout_form_id, status_set, added, retries, refused, kept)
        if self._journal is not None and (added or refused or status_set or kept):
            self._journal.add(
                FulfillmentEntry(
                    checkout_form_id=update.checkout_form_id,
                    account=self._account,
                    at=self._clock().isoformat(timespec="milliseconds"),
                    status_set=status_set,
                    status_kept=kept,
                    added=added,
                    refused=tuple(f"{r.waybill} ({r.carrier}): {r.reason}" for r in refused),
                )
            )
        return result

    def _known_carriers(self) -> frozenset[str]:
        if self._carrier_ids is None:  # GET /order/carriers changes rarely: once per use case instance
            self._carrier_ids = frozenset(c.id for c in self._api.carriers())
        return self._carrier_ids

    def _present(self, form_id: str) -> set[str]:
        return {_norm(s.waybill) for s in self._api.shipments(form_id) if s.waybill}

    def _add_parcels(self, update: ShopOrderStatus) -> tuple[tuple[str, ...], tuple[RefusedParcel, ...]]:
        if not update.parcels:
            return (), ()
        form_id = update.checkout_form_id
        present = self._present(form_id)
        added: list[str] = []
        refused: list[RefusedParcel] = []
        for parcel in update.parcels:
            if _norm(parcel.waybill) in present:
                continue
            reason = self._add(form_id, parcel)
            if reason == "":
                added.append(parcel.waybill)
            elif reason is not None:
                refused.append(RefusedParcel(parcel.waybill, parcel.carrier, reason))
            present.add(_norm(parcel.waybill))
        return tuple(added), tuple(refused)

    def _add(self, form_id: str, parcel: Parcel) -> str | None:
        """Empty: added; None: already on the order (an earlier delivery added it); else why refused."""
        carrier_id, carrier_name = allegro_carrier(parcel.carrier, self._known_carriers())
        try:
            self._api.add_shipment(
                form_id, AddShipment(carrier_id=carrier_id, waybill=parcel.waybill, carrier_name=carrier_name)
            )
        except AllegroConflict as conflict:
            if _norm(parcel.waybill) in self._present(form_id):
                return None  # a true duplicate: our own earlier delivery of this update
            return f"409 maximum waybill usage exceeded ({_said(conflict)})"
        except (AllegroBadRequest, AllegroValidationError) as bad:
            return f"{getattr(bad, 'status', 400)} {_said(bad)}"
        return ""

    def _set_status(self, update: ShopOrderStatus) -> tuple[FulfillmentStatus | None, int, str | None]:
        if update.status is None:
            return None, 0, None
        for attempt in range(MAX_REVISION_ATTEMPTS):
            form = self._api.checkout_form(update.checkout_form_id)
            current = form.fulfillment.status if form.fulfillment is not None else None
            if current == update.status:
                return None, attempt, None
            if moves_back(current, update.status):
                return None, attempt, current  # Allegro set SENT or RETURNED itself: keep it
            try:
                self._api.set_fulfillment(update.checkout_form_id, update.status, revision=form.revision)
            except AllegroConflict:
                continue  # the form changed since we read it: read it again
            return update.status, attempt, None
        raise StaleRevision(
            f"checkout form {update.checkout_form_id} changed {MAX_REVISION_ATTEMPTS} times while setting "
            f"its fulfillment status; try again later"
        )
