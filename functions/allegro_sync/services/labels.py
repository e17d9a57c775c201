"""Shipping labels through Ship with Allegro: buy once, store the PDF, put the tracking number on the order.

A label costs the seller money, so "exactly once" is the whole design. Each package has one record in
the `orders` table, written before and after every step with a condition on the state it leaves:

    ordering -> bought (shipmentId) -> stored (label in S3) -> tracked (waybill on the order)

The create command's id is derived from the order and the package (`label_command_id`), never random, and
is recorded (`ordering`) before the POST. A retry in `ordering` asks Allegro for that command's status
first: found means the earlier POST arrived (its answer was lost, or the function died after it), so it is
never sent again; 404 means it never arrived, so it is sent now, under the same id. A command still
IN_PROGRESS raises `LabelPending` and the queue retries later; ERROR records the carrier's reason
(`refused`) for the seller, and a new try needs `orders ship --again` (the next package number).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from allegro_sync.contracts.allegro import CheckoutForm
from allegro_sync.contracts.messages import OrderLabel, Parcel, ShopOrderStatus
from allegro_sync.contracts.shipping import (
    CancelInput,
    CommandStatus,
    Dimension,
    LabelRecord,
    LabelRule,
    PackageDefaults,
    PackageRequest,
    PickupCreateCommand,
    PickupInput,
    PickupProposal,
    PickupProposalsRequest,
    PickupTime,
    ShipmentAddress,
    ShipmentCancelCommand,
    ShipmentCreateCommand,
    ShipmentCreateRequest,
    ShipmentDetails,
    Weight,
    label_command_id,
)

LINK_SECONDS = 900  # a label link lives 15 minutes: long enough to print, too short to leak for long
STATUS_READS = 3  # reads of an IN_PROGRESS command within one call before the queue retries it
CANCEL_WRITES = 4  # a label passes through four states (ordering ... tracked): so many moves can overtake


class ShippingApi(Protocol):
    """The Allegro calls this use case makes (`AllegroClient` has them)."""

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm: ...

    def create_shipment(self, command: ShipmentCreateCommand) -> None: ...

    def shipment_command(self, command_id: str) -> CommandStatus | None: ...

    def shipment(self, shipment_id: str) -> ShipmentDetails: ...

    def label(self, shipment_ids: list[str]) -> bytes: ...

    def cancel_shipment(self, command: ShipmentCancelCommand) -> None: ...

    def cancel_command(self, command_id: str) -> CommandStatus | None: ...

    def pickup_proposals(self, request: PickupProposalsRequest) -> list[PickupProposal]: ...

    def create_pickup(self, command: PickupCreateCommand) -> None: ...

    def pickup_command(self, command_id: str) -> CommandStatus | None: ...


class LabelBook(Protocol):
    """Each package's label record; `save` is conditional on the state the caller last read."""

    def get(self, checkout_form_id: str, package: int) -> LabelRecord | None: ...

    def latest(self, checkout_form_id: str) -> LabelRecord | None: ...

    def save(self, record: LabelRecord, *, expected: str | None) -> bool:
        """Write `record` if the stored state is `expected` (None: no record yet); False if it is not."""
        ...


class LabelFiles(Protocol):
    """Where label PDFs are kept (S3: encrypted, expired by a lifecycle rule)."""

    def put(self, key: str, data: bytes) -> None: ...

    def link(self, key: str, seconds: int) -> str: ...


class Tracking(Protocol):
    """The existing tracking path to Allegro (`services/fulfillment.Fulfillment`)."""

    def apply(self, update: ShopOrderStatus) -> Any: ...


class LabelOutbox(Protocol):
    """The shop outbox: the stored label goes to the shop as a link (`order.label`, once per message id)."""

    def publish_label(self, message: OrderLabel) -> None: ...


class LabelPending(RuntimeError):
    """Allegro is still creating the shipment: retry later (the record keeps the command id)."""


class LabelRefused(RuntimeError):
    """Allegro refused the shipment, or the order cannot be shipped: the reason is for the seller."""


@dataclass(frozen=True)
class LabelResult:
    record: LabelRecord
    link: str | None = None
    steps: tuple[str, ...] = ()  # what this call did, for the log line ("created", "stored", ...)


class Labels:
    def __init__(
        self,
        api: ShippingApi,
        book: LabelBook,
        files: LabelFiles,
        tracking: Tracking,
        *,
        account: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        outbox: LabelOutbox | None = None,
    ) -> None:
        self._api, self._book, self._files, self._tracking = api, book, files, tracking
        self._outbox = outbox
        self._account = account
        self._clock = clock
        self._sleep = sleep

    # -- buying ------------------------------------------------------------------------------------------

    def ship(
        self,
        checkout_form_id: str,
        rule: LabelRule,
        *,
        service: str | None = None,
        package: PackageDefaults | None = None,
        again: bool = False,
    ) -> LabelResult:
        """Buy (or finish buying) the order's label and return a short-lived link to it."""
        latest = self._book.latest(checkout_form_id)
        if latest is None or (again and latest.state in ("refused", "cancelled")):
            number = 1 if latest is None else latest.package + 1
            record = self._begin(checkout_form_id, number, service or rule.service)
        else:
            record = latest
        steps: list[str] = []
        if record.state == "ordering":
            record = self._order(record, rule, package or rule.package, steps)
        if record.state == "bought":
            record = self._store(record, steps)
        if record.state == "stored":
            record = self._track(record, steps)
        if record.state in ("refused", "cancelled"):
            raise LabelRefused(f"label of order {checkout_form_id}: {record.state} ({record.reason or ''})")
        return LabelResult(record, self.link(record), tuple(steps))

    def latest(self, checkout_form_id: str) -> LabelRecord | None:
        return self._book.latest(checkout_form_id)

    def link(self, record: LabelRecord) -> str | None:
        return self._files.link(record.label_key, LINK_SECONDS) if record.label_key else None

    def _now(self) -> str:
        return self._clock().isoformat(timespec="milliseconds")

    def _begin(self, form_id: str, number: int, service: str | None) -> LabelRecord:
        record = LabelRecord(
            checkout_form_id=form_id,
            package=number,
            account=self._account,
            command_id=label_command_id(form_id, number),
            state="ordering",
            service=service,
            updated_at=self._now(),
        )
        if self._book.save(record, expected=None):
            return record
        found = self._book.get(form_id, number)  # another attempt began it: carry on from its state
        assert found is not None
        return found

    def _advance(self, record: LabelRecord, **changes: Any) -> LabelRecord:
        after = record.model_copy(update={**changes, "updated_at": self._now()})
        if self._book.save(after, expected=record.state):
            return after
        found = self._book.get(record.checkout_form_id, record.package)  # someone else moved it on
        assert found is not None
        return found

    def _order(
        self, record: LabelRecord, rule: LabelRule, package: PackageDefaults, steps: list[str]
    ) -> LabelRecord:
        status = self._api.shipment_command(record.command_id)
        if status is None:  # never reached Allegro: send it now, under the recorded id
            form = self._api.checkout_form(record.checkout_form_id)
            try:
                command = _command(record, rule, form, package)
            except LabelRefused as refused:  # nothing was sent: the seller fixes the order or the rule
                return self._advance(record, state="refused", reason=str(refused))
            self._api.create_shipment(command)
            steps.append("created")
            status = self._api.shipment_command(record.command_id)
        for attempt in range(STATUS_READS):
            if status is not None and status.status != "IN_PROGRESS":
                break
            self._sleep(0.5 * (attempt + 1))
            status = self._api.shipment_command(record.command_id)
        if status is None or status.status == "IN_PROGRESS":
            raise LabelPending(f"shipment command {record.command_id} is still in progress")
        if status.status == "ERROR" or not status.shipment_id:
            reason = "; ".join(str(e.get("message") or e.get("code")) for e in status.errors)[:300]
            return self._advance(record, state="refused", reason=reason or "refused by Allegro")
        return self._advance(record, state="bought", shipment_id=status.shipment_id)

    def _store(self, record: LabelRecord, steps: list[str]) -> LabelRecord:
        assert record.shipment_id is not None
        shipment = self._api.shipment(record.shipment_id)
        waybill = next((p.waybill for p in shipment.packages if p.waybill), None)
        key = f"labels/{record.checkout_form_id}/{record.package}.pdf"  # `buyers forget` erases by order
        self._files.put(key, self._api.label([record.shipment_id]))  # the same key on a retry: overwritten
        steps.append("stored")
        if self._outbox is not None:  # before `stored`: a crash repeats it under the same id (de-duplicated)
            ids = record.model_dump(include={"account", "checkout_form_id", "package"})
            message_id = f"label:{record.checkout_form_id}:{record.package}"
            label = OrderLabel(
                message_id=message_id, waybill=waybill, carrier=shipment.carrier, label_key=key, **ids
            )
            self._outbox.publish_label(label)
            steps.append("sent to the shop")
        return self._advance(record, state="stored", label_key=key, waybill=waybill, carrier=shipment.carrier)

    def _track(self, record: LabelRecord, steps: list[str]) -> LabelRecord:
        if record.waybill:  # the tracking path skips a waybill already on the order
            parcel = Parcel(carrier=record.carrier or "ALLEGRO", waybill=record.waybill)
            self._tracking.apply(ShopOrderStatus(checkout_form_id=record.checkout_form_id, parcels=(parcel,)))
            steps.append("tracked")
        return self._advance(record, state="tracked")

    # -- after buying ------------------------------------------------------------------------------------

    def cancel(self, checkout_form_id: str) -> LabelRecord:
        """Cancel the order's shipment (a label not used); the command id is derived like the create's."""
        record = self._book.latest(checkout_form_id)
        if record is None or record.shipment_id is None or record.state == "cancelled":
            raise LabelRefused(f"order {checkout_form_id} has no shipment to cancel")
        command_id = label_command_id(checkout_form_id, -record.package)
        if self._api.cancel_command(command_id) is None:
            cancel = ShipmentCancelCommand(
                command_id=command_id, input=CancelInput(shipment_id=record.shipment_id)
            )
            self._api.cancel_shipment(cancel)
        # The record read above may be moved on meanwhile by the label's own attempt (stored -> tracked):
        # the shipment is cancelled all the same, so the cancellation is written over whatever state the
        # other attempt left; kept stale, it would hide the cancelled label and refuse `ship --again`.
        for _ in range(CANCEL_WRITES):
            record = self._advance(record, state="cancelled", reason="cancelled by the seller")
            if record.state == "cancelled":
                break
        return record

    def pickup(self, checkout_form_id: str, rule: LabelRule) -> CommandStatus:
        """Order a courier to collect the order's parcel on the first day Allegro proposes."""
        record = self._book.latest(checkout_form_id)
        if record is None or record.shipment_id is None or record.state in ("refused", "cancelled"):
            raise LabelRefused(f"order {checkout_form_id} has no shipment to collect")
        address = _sender(rule)
        ids = [record.shipment_id]
        proposals = self._api.pickup_proposals(PickupProposalsRequest(shipment_ids=ids, address=address))
        first = next((p for p in proposals if p.proposal_items), None)
        if first is None:
            raise LabelRefused(
                f"no pickup is offered for order {checkout_form_id} (a parcel locker drop-off?)"
            )
        command_id = label_command_id(checkout_form_id, 1000 + record.package)
        status = self._api.pickup_command(command_id)
        if status is None:
            times = first.pickup_times[0] if first.pickup_times else None
            pickup_input = PickupInput(
                shipment_ids=ids,
                pickup_date_proposal_id=first.proposal_items[0]["id"],
                pickup_time=PickupTime.model_validate(times) if times else None,
                address=address,
            )
            self._api.create_pickup(PickupCreateCommand(command_id=command_id, input=pickup_input))
            status = self._api.pickup_command(command_id)
        if status is None:
            raise LabelPending(f"pickup command {command_id} is not visible yet")
        return status


def _sender(rule: LabelRule) -> ShipmentAddress:
    return ShipmentAddress.model_validate(rule.sender.model_dump())


def _receiver(form: CheckoutForm) -> ShipmentAddress:
    """The buyer's delivery address, sent to Allegro and never stored by us (docs/privacy.md)."""
    delivery = form.delivery or {}
    address = delivery.get("address") or {}
    buyer = form.buyer or {}
    point = (delivery.get("pickupPoint") or {}).get("id")
    name = " ".join(str(address.get(k) or "") for k in ("firstName", "lastName")).strip()
    try:
        return ShipmentAddress(
            name=name or None,
            company=address.get("companyName"),
            street=address.get("street") or "",
            postal_code=address.get("zipCode") or "",
            city=address.get("city") or "",
            country_code=address.get("countryCode") or "PL",
            email=buyer.get("email") or "",
            phone=address.get("phoneNumber") or buyer.get("phoneNumber") or "",
            point=point,
        )
    except ValueError:
        raise LabelRefused(f"order {form.id} lacks a complete delivery address for a label") from None


def _command(
    record: LabelRecord, rule: LabelRule, form: CheckoutForm, package: PackageDefaults
) -> ShipmentCreateCommand:
    method = record.service or ((form.delivery or {}).get("method") or {}).get("id")
    if not method:
        raise LabelRefused(f"order {form.id} names no delivery method and the rule no service")
    parcel = PackageRequest(
        length=Dimension(value=package.length_cm),
        width=Dimension(value=package.width_cm),
        height=Dimension(value=package.height_cm),
        weight=Weight(value=package.weight_kg),
    )
    return ShipmentCreateCommand(
        command_id=record.command_id,
        input=ShipmentCreateRequest(
            delivery_method_id=method,
            credentials_id=rule.credentials_id,
            sender=_sender(rule),
            receiver=_receiver(form),
            reference_number=form.id,
            packages=[parcel],
        ),
    )
