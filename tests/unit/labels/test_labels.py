"""A label is bought once per package whatever is retried: crashes between every step, lost answers,
a command still in progress, a carrier's refusal."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync.contracts.allegro import CheckoutForm
from allegro_sync.contracts.messages import ShopOrderStatus
from allegro_sync.contracts.shipping import (
    CommandStatus,
    LabelRecord,
    LabelRule,
    PickupCreateCommand,
    PickupProposal,
    PickupProposalsRequest,
    Sender,
    ShipmentCancelCommand,
    ShipmentCreateCommand,
    ShipmentDetails,
    ShipmentPackage,
    label_command_id,
)
from allegro_sync.services.labels import LabelPending, LabelRefused, Labels

FORM = "29738e61-7f6a-11e8-ac45-09db60ede9d6"
RULE = LabelRule(
    account="acc-1",
    sender=Sender(
        name="Sklep", street="Prosta 1", postal_code="00-001", city="Warszawa", email="s@x.pl", phone="500"
    ),
)


class Crash(BaseException):
    """The function dies here (not an Exception: nothing may catch it)."""


class FakeAllegro:
    def __init__(self) -> None:
        self.commands: dict[str, CommandStatus] = {}
        self.created: list[ShipmentCreateCommand] = []
        self.in_progress_reads = 0
        self.refuse = False
        self.lose_create_answer = False
        self.cancels: list[str] = []

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm:
        return CheckoutForm.model_validate(
            {
                "id": checkout_form_id,
                "status": "READY_FOR_PROCESSING",
                "buyer": {"email": "b@example.com", "phoneNumber": "600"},
                "delivery": {
                    "method": {"id": "allegro-kurier-dpd"},
                    "address": {
                        "firstName": "A",
                        "lastName": "B",
                        "street": "S 1",
                        "city": "C",
                        "zipCode": "00-002",
                        "countryCode": "PL",
                    },
                },
            }
        )

    def create_shipment(self, command: ShipmentCreateCommand) -> None:
        if command.command_id in self.commands:
            raise AssertionError("a command id was sent twice")
        self.created.append(command)
        if self.refuse:
            self.commands[command.command_id] = CommandStatus(
                status="ERROR", errors=[{"message": "too heavy"}]
            )
        else:
            self.commands[command.command_id] = CommandStatus(
                status="SUCCESS", shipmentId=f"s-{len(self.created)}"
            )
        if self.lose_create_answer:
            raise Crash("the answer was lost")

    def shipment_command(self, command_id: str) -> CommandStatus | None:
        if command_id in self.commands and self.in_progress_reads > 0:
            self.in_progress_reads -= 1
            return CommandStatus(status="IN_PROGRESS")
        return self.commands.get(command_id)

    def shipment(self, shipment_id: str) -> ShipmentDetails:
        return ShipmentDetails(
            id=shipment_id, carrier="DPD", packages=[ShipmentPackage(waybill=f"W-{shipment_id}")]
        )

    def label(self, shipment_ids: list[str]) -> bytes:
        return b"%PDF " + shipment_ids[0].encode()

    def cancel_shipment(self, command: ShipmentCancelCommand) -> None:
        self.cancels.append(command.input.shipment_id)
        self.commands[command.command_id] = CommandStatus(status="SUCCESS")

    def cancel_command(self, command_id: str) -> CommandStatus | None:
        return self.commands.get(command_id)

    def pickup_proposals(self, request: PickupProposalsRequest) -> list[PickupProposal]:
        return [
            PickupProposal(
                shipmentId=request.shipment_ids[0], proposalItems=[{"id": "2026-12-07", "name": "x"}]
            )
        ]

    def create_pickup(self, command: PickupCreateCommand) -> None:
        self.commands[command.command_id] = CommandStatus(status="SUCCESS", pickupId="p-1")

    def pickup_command(self, command_id: str) -> CommandStatus | None:
        return self.commands.get(command_id)


class FakeBook:
    def __init__(self) -> None:
        self.records: dict[tuple[str, int], LabelRecord] = {}
        self.crash_after_state: str | None = None

    def get(self, checkout_form_id: str, package: int) -> LabelRecord | None:
        return self.records.get((checkout_form_id, package))

    def latest(self, checkout_form_id: str) -> LabelRecord | None:
        mine = [r for (f, _), r in self.records.items() if f == checkout_form_id]
        return max(mine, key=lambda r: r.package) if mine else None

    def save(self, record: LabelRecord, *, expected: str | None) -> bool:
        current = self.records.get((record.checkout_form_id, record.package))
        if (current.state if current else None) != expected:
            return False
        self.records[(record.checkout_form_id, record.package)] = record
        if record.state == self.crash_after_state:
            self.crash_after_state = None
            raise Crash(f"died after recording {record.state}")
        return True


class FakeFiles:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.files[key] = data

    def link(self, key: str, seconds: int) -> str:
        return f"https://labels.example/{key}?expires={seconds}"


class FakeTracking:
    def __init__(self) -> None:
        self.updates: list[ShopOrderStatus] = []

    def apply(self, update: ShopOrderStatus) -> Any:
        self.updates.append(update)


def _world() -> tuple[Labels, FakeAllegro, FakeBook, FakeFiles, FakeTracking]:
    api, book, files, tracking = FakeAllegro(), FakeBook(), FakeFiles(), FakeTracking()
    return (
        Labels(api, book, files, tracking, account="acc-1", sleep=lambda _: None),
        api,
        book,
        files,
        tracking,
    )


def test_an_order_gets_one_label_a_link_and_its_tracking_number() -> None:
    labels, api, _book, files, tracking = _world()

    result = labels.ship(FORM, RULE)

    assert len(api.created) == 1
    assert api.created[0].command_id == label_command_id(FORM, 1)
    assert api.created[0].input.delivery_method_id == "allegro-kurier-dpd"  # the buyer's method
    assert result.record.state == "tracked"
    assert files.files[f"labels/{FORM}/1.pdf"] == b"%PDF s-1"
    assert result.link is not None
    assert result.link.endswith("expires=900")
    assert [p.waybill for u in tracking.updates for p in u.parcels] == ["W-s-1"]


@pytest.mark.parametrize("dies_after", ["ordering", "bought", "stored", "tracked"])
def test_a_crash_after_any_step_never_buys_a_second_label(dies_after: str) -> None:
    labels, api, book, files, _ = _world()
    book.crash_after_state = dies_after

    with pytest.raises(Crash):
        labels.ship(FORM, RULE)
    result = labels.ship(FORM, RULE)
    labels.ship(FORM, RULE)  # and once more, as a duplicate delivery would

    assert len(api.created) == 1
    assert result.record.state == "tracked"
    assert list(files.files) == [f"labels/{FORM}/1.pdf"]


def test_a_lost_answer_to_the_create_is_found_by_its_command_id_not_sent_again() -> None:
    labels, api, _book, _, _ = _world()
    api.lose_create_answer = True

    with pytest.raises(Crash):
        labels.ship(FORM, RULE)
    api.lose_create_answer = False
    result = labels.ship(FORM, RULE)

    assert len(api.created) == 1
    assert result.record.shipment_id == "s-1"


def test_a_command_still_in_progress_is_retried_later_without_a_second_purchase() -> None:
    labels, api, book, _, _ = _world()
    api.in_progress_reads = 10

    with pytest.raises(LabelPending):
        labels.ship(FORM, RULE)
    assert book.get(FORM, 1).state == "ordering"  # type: ignore[union-attr]
    api.in_progress_reads = 0
    result = labels.ship(FORM, RULE)

    assert len(api.created) == 1
    assert result.record.state == "tracked"


def test_a_refused_shipment_is_recorded_for_the_seller_and_bought_again_only_when_asked() -> None:
    labels, api, _book, _, tracking = _world()
    api.refuse = True

    with pytest.raises(LabelRefused, match="too heavy"):
        labels.ship(FORM, RULE)
    with pytest.raises(LabelRefused):
        labels.ship(FORM, RULE)  # a retry does not buy again
    assert len(api.created) == 1
    api.refuse = False
    result = labels.ship(FORM, RULE, again=True)

    assert result.record.package == 2
    assert len(api.created) == 2
    assert tracking.updates


def test_an_order_without_a_delivery_address_is_refused_before_anything_is_bought() -> None:
    labels, api, book, _, _ = _world()
    api.checkout_form = lambda form_id: CheckoutForm(id=form_id, status="READY_FOR_PROCESSING")  # type: ignore[method-assign]

    with pytest.raises(LabelRefused, match=r"names no delivery method|delivery address"):
        labels.ship(FORM, RULE)

    assert api.created == []
    assert book.get(FORM, 1).state == "refused"  # type: ignore[union-attr]


def test_cancel_and_pickup_are_sent_once() -> None:
    labels, api, _, _, _ = _world()
    labels.ship(FORM, RULE)

    assert labels.pickup(FORM, RULE).pickup_id == "p-1"
    assert labels.pickup(FORM, RULE).pickup_id == "p-1"
    labels.cancel(FORM)

    assert api.cancels == ["s-1"]
    with pytest.raises(LabelRefused):
        labels.cancel(FORM)


class _LabelMovesOnAfterTheRead(FakeBook):
    """Another attempt at the label (the queue's retry of `ship`) runs right after the next `latest` read."""

    def __init__(self) -> None:
        super().__init__()
        self.rival: Any = None

    def latest(self, checkout_form_id: str) -> LabelRecord | None:
        found = super().latest(checkout_form_id)
        rival, self.rival = self.rival, None
        if rival is not None:
            rival()
        return found


def test_a_cancel_racing_the_labels_last_step_stays_cancelled_and_a_new_label_can_be_bought() -> None:
    """The seller cancels while the label's retry moves it from stored to tracked: the cancel decided from
    the stored record, so its conditional write lost; the label must still read cancelled (Allegro did
    cancel it) and `ship --again` must buy the replacement."""
    api, book, files, tracking = FakeAllegro(), _LabelMovesOnAfterTheRead(), FakeFiles(), FakeTracking()
    labels = Labels(api, book, files, tracking, account="acc-1", sleep=lambda _: None)
    book.crash_after_state = "stored"
    with pytest.raises(Crash):
        labels.ship(FORM, RULE)

    book.rival = lambda: labels.ship(FORM, RULE)
    cancelled = labels.cancel(FORM)

    assert api.cancels == ["s-1"]
    assert cancelled.state == "cancelled"
    assert book.get(FORM, 1).state == "cancelled"  # type: ignore[union-attr]
    replacement = labels.ship(FORM, RULE, again=True)
    assert replacement.record.package == 2
    assert len(api.created) == 2
