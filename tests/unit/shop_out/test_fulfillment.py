"""Fulfillment back on a fake Allegro: status with stale-revision retries, parcels once, carrier mapping."""

from __future__ import annotations

import json

import pytest

from allegro_sync.adapters.shop import signing, woocommerce
from allegro_sync.adapters.shop.errors import WebhookRejected
from allegro_sync.adapters.shop.fulfillment_in import parse_generic_status, parse_woocommerce_order
from allegro_sync.contracts.allegro import AddShipment, Carrier, CheckoutForm, FulfillmentStatus, Shipment
from allegro_sync.contracts.allegro_errors import AllegroConflict
from allegro_sync.contracts.messages import Parcel, ShopOrderStatus
from allegro_sync.contracts.orders import FulfillmentEntry
from allegro_sync.domain.shop_orders import allegro_carrier
from allegro_sync.services.fulfillment import Fulfillment, StaleRevision

FORM = "29738e61-7f6a-11e8-ac45-09db60ede9d6"
CARRIERS = ("INPOST", "DPD", "DHL", "POCZTA_POLSKA", "ALLEGRO", "OTHER")


def conflict() -> AllegroConflict:
    return AllegroConflict.__new__(AllegroConflict)


class FakeAllegro:
    """A checkout form whose revision moves on every change; `changes_before_put` simulates a busy order."""

    def __init__(self, changes_before_put: int = 0) -> None:
        self.status = "NEW"
        self.revision = 1
        self.parcels: list[Shipment] = []
        self.changes_before_put = changes_before_put
        self.puts: list[tuple[str, str | None]] = []
        self.carrier_calls = 0

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm:
        return CheckoutForm.model_validate(
            {
                "id": checkout_form_id,
                "status": "READY_FOR_PROCESSING",
                "revision": str(self.revision),
                "fulfillment": {"status": self.status},
            }
        )

    def set_fulfillment(
        self, checkout_form_id: str, status: FulfillmentStatus, *, revision: str | None = None
    ) -> None:
        self.puts.append((status, revision))
        if self.changes_before_put:
            self.changes_before_put -= 1
            self.revision += 1  # the buyer changed something in between
        if revision != str(self.revision):
            raise conflict()
        self.status = status
        self.revision += 1

    def carriers(self) -> list[Carrier]:
        self.carrier_calls += 1
        return [Carrier(id=c, name=c.title()) for c in CARRIERS]

    def shipments(self, checkout_form_id: str) -> list[Shipment]:
        return list(self.parcels)

    def add_shipment(self, checkout_form_id: str, shipment: AddShipment) -> Shipment:
        if any(s.waybill == shipment.waybill for s in self.parcels):
            raise conflict()
        added = Shipment(
            id=str(len(self.parcels)),
            waybill=shipment.waybill,
            carrier_id=shipment.carrier_id,
            carrier_name=shipment.carrier_name,
        )
        self.parcels.append(added)
        self.revision += 1
        return added


def update(status: str | None = "SENT", *parcels: tuple[str, str]) -> ShopOrderStatus:
    return ShopOrderStatus.model_validate(
        {
            "checkout_form_id": FORM,
            "status": status,
            "parcels": [{"carrier": c, "waybill": w} for c, w in parcels],
        }
    )


def test_status_and_parcel_reach_allegro_and_a_repeat_changes_nothing() -> None:
    allegro = FakeAllegro()
    service = Fulfillment(allegro)

    first = service.apply(update("SENT", ("InPost", "620000000000000000000001")))
    second = service.apply(update("SENT", ("InPost", "620000000000000000000001")))

    assert (allegro.status, [(s.carrier_id, s.waybill) for s in allegro.parcels]) == (
        "SENT",
        [("INPOST", "620000000000000000000001")],
    )
    assert (first.status_set, first.shipments_added) == ("SENT", ("620000000000000000000001",))
    assert (second.status_set, second.shipments_added) == (None, ())
    assert len(allegro.puts) == 1
    assert allegro.carrier_calls == 1


def test_a_stale_revision_is_re_read_and_retried() -> None:
    allegro = FakeAllegro(changes_before_put=2)
    result = Fulfillment(allegro).apply(update("PROCESSING"))
    assert (allegro.status, result.revision_retries, len(allegro.puts)) == ("PROCESSING", 2, 3)


def test_an_order_that_never_settles_raises_for_a_later_retry() -> None:
    allegro = FakeAllegro(changes_before_put=99)
    with pytest.raises(StaleRevision):
        Fulfillment(allegro).apply(update("SENT"))
    assert allegro.status == "NEW"


def test_a_waybill_added_meanwhile_counts_as_present() -> None:
    allegro = FakeAllegro()
    service = Fulfillment(allegro)

    allegro.parcels.append(Shipment(id="x", waybill="00340434161094042557", carrier_id="DPD"))
    result = service.apply(update(None, ("DPD", "0034 0434 1610 9404 2557"), ("dhl", "JJD000390007482")))
    assert result.shipments_added == ("JJD000390007482",)
    assert [s.carrier_id for s in allegro.parcels] == ["DPD", "DHL"]


@pytest.mark.parametrize(
    ("shop_name", "expected"),
    [
        ("InPost Paczkomaty", ("OTHER", "InPost Paczkomaty")),
        ("Paczkomaty", ("INPOST", None)),
        ("Poczta Polska", ("POCZTA_POLSKA", None)),
        ("DPD", ("DPD", None)),
        ("GLS", ("OTHER", "GLS")),
        ("Kurier Pocztex Ekspres 24 z bardzo długą nazwą", ("OTHER", "Kurier Pocztex Ekspres 24 z ba")),
    ],
)
def test_shop_carrier_names_map_to_allegro_ids_or_other(
    shop_name: str, expected: tuple[str, str | None]
) -> None:
    assert allegro_carrier(shop_name, frozenset(CARRIERS)) == expected


def test_a_carrier_allegro_does_not_offer_goes_as_other() -> None:
    assert allegro_carrier("DHL", frozenset({"OTHER"})) == ("OTHER", "DHL")


# --- intake parsing -------------------------------------------------------------------------------------

SECRET = "fulfil-secret-0123456789"
NOW = 1_795_000_000


def signed(body: dict[str, object], secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    return (
        {
            "content-type": "application/json",
            signing.DELIVERY_HEADER.lower(): "d-1",
            signing.TIMESTAMP_HEADER.lower(): str(NOW),
            signing.SIGNATURE_HEADER.lower(): signing.sign(secret, NOW, "d-1", raw),
        },
        raw,
    )


def test_generic_order_status_is_verified_and_parsed() -> None:
    headers, body = signed(
        {
            "type": "order.status",
            "checkout_form_id": FORM,
            "status": "SENT",
            "parcels": [{"carrier": "InPost", "waybill": "6200001"}],
        }
    )
    parsed = parse_generic_status(headers, body, [SECRET], now=NOW, replay_window=300)
    assert parsed == ShopOrderStatus(
        checkout_form_id=FORM, status="SENT", parcels=(Parcel(carrier="InPost", waybill="6200001"),)
    )


@pytest.mark.parametrize(
    ("body", "secret", "status"),
    [
        ({"type": "order.status", "checkout_form_id": FORM, "status": "SENT"}, "wrong-secret-xxxxxxxx", 401),
        ({"type": "order.status", "checkout_form_id": FORM, "status": "DELIVERED"}, SECRET, 422),
        ({"type": "order.status", "checkout_form_id": FORM}, SECRET, 422),
        ({"type": "order.status", "checkout_form_id": "../x", "status": "SENT"}, SECRET, 422),
    ],
)
def test_generic_order_status_refusals(body: dict[str, object], secret: str, status: int) -> None:
    headers, raw = signed(body, secret)
    with pytest.raises(WebhookRejected) as refused:
        parse_generic_status(headers, raw, [SECRET], now=NOW, replay_window=300)
    assert refused.value.status == status


def woo_headers(raw: bytes, topic: str = "order.updated") -> dict[str, str]:
    return {woocommerce.TOPIC_HEADER: topic, woocommerce.SIGNATURE_HEADER: woocommerce.sign(SECRET, raw)}


def test_woocommerce_order_updated_with_our_meta_and_shipment_tracking() -> None:
    order = {
        "id": 812,
        "status": "completed",
        "meta_data": [
            {"id": 1, "key": "_allegro_checkout_form_id", "value": FORM},
            {
                "id": 2,
                "key": "_wc_shipment_tracking_items",
                "value": [
                    {
                        "tracking_provider": "dpd",
                        "custom_tracking_provider": "",
                        "tracking_number": "0034043416",
                    }
                ],
            },
        ],
    }
    raw = woocommerce.dumps(order)
    parsed = parse_woocommerce_order(woo_headers(raw), raw, [SECRET])
    assert parsed == ShopOrderStatus(
        checkout_form_id=FORM,
        status="SENT",
        parcels=(Parcel(carrier="dpd", waybill="0034043416"),),
        shop_status="completed",  # issue 15: a label rule may name the shop's own status word
        shop_order_id=812,  # issue 15: the order whose refunds the worker reads
    )


def test_woocommerce_own_orders_are_ignored_and_forgeries_refused() -> None:
    raw = woocommerce.dumps({"id": 9, "status": "completed", "meta_data": []})
    assert parse_woocommerce_order(woo_headers(raw), raw, [SECRET]) is None
    with pytest.raises(WebhookRejected) as refused:
        parse_woocommerce_order({**woo_headers(raw), woocommerce.SIGNATURE_HEADER: "AAAA"}, raw, [SECRET])
    assert refused.value.status == 401


# --- issue 14, item 6 (allegro-misc): 409 is not "already there" ------------------------------------------


class WaybillLimit(FakeAllegro):
    """Allegro's 409 "maximum waybill usage exceeded": `used_elsewhere` waybills are refused; `racing` ones
    were added by another delivery of the same update just before ours (a true duplicate)."""

    def __init__(self, used_elsewhere: set[str], racing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        super().__init__()
        self.used_elsewhere, self.racing = used_elsewhere, set(racing)

    def add_shipment(self, checkout_form_id: str, shipment: AddShipment) -> Shipment:
        if shipment.waybill in self.racing:
            self.racing.discard(shipment.waybill)
            super().add_shipment(checkout_form_id, shipment)  # the other delivery won
            raise conflict()
        if shipment.waybill in self.used_elsewhere:
            raise conflict()
        return super().add_shipment(checkout_form_id, shipment)


class Journal:
    def __init__(self) -> None:
        self.entries: list[FulfillmentEntry] = []

    def add(self, entry: FulfillmentEntry) -> None:
        self.entries.append(entry)


def test_a_refused_tracking_number_is_reported_and_a_true_duplicate_is_success() -> None:
    allegro, journal = WaybillLimit({"REUSED-1"}, racing={"RACE-2"}), Journal()
    result = Fulfillment(allegro, journal, account="acc").apply(
        update(None, ("DPD", "REUSED-1"), ("DPD", "RACE-2"), ("DPD", "NEW-3"))
    )

    assert [r.waybill for r in result.refused] == ["REUSED-1"]
    assert "409" in result.refused[0].reason
    assert result.shipments_added == ("NEW-3",)  # RACE-2 is on the order: not refused, not added twice
    assert [s.waybill for s in allegro.parcels] == ["RACE-2", "NEW-3"]
    (entry,) = journal.entries
    assert entry.account == "acc"
    assert entry.added == ("NEW-3",)
    assert entry.refused[0].startswith("REUSED-1 (DPD): 409")


def test_a_status_allegro_moved_on_itself_is_not_moved_back() -> None:
    """Allegro sets SENT once a tracking number is added (and RETURNED after a return): spec."""
    allegro = FakeAllegro()
    allegro.status = "SENT"
    result = Fulfillment(allegro).apply(update("PROCESSING"))
    assert (allegro.status, allegro.puts, result.status_kept) == ("SENT", [], "SENT")
    allegro.status = "RETURNED"
    assert Fulfillment(allegro).apply(update("SENT")).status_kept == "RETURNED"
    assert allegro.puts == []
