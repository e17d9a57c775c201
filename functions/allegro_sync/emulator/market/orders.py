"""Orders: checkout forms the buyer side (`buy`, `pay`, `cancel`) creates, the order event journal,
fulfillment with revisions, shipments and carriers.

Event journal rules (FACTS.md): ascending ids, `from` is exclusive, at most 1000 per page, 60 days of
retention (#5626, #11417). Faults reproduce what integrators met (#8498, #8623, #3693): events that
show up late, an event served twice with the same id, and a READY_FOR_PROCESSING that is missing at
first and arrives much later under a NEW id. Ids are assigned when an event becomes visible, so a
cursor never skips an event that appears late.

Combined payment (#1111, #1705, #2172): paying several unpaid purchases of one buyer and seller together
creates a NEW form carrying the same line item ids, emits READY_FOR_PROCESSING for it only, and deletes the
earlier forms (404 afterwards) without any cancellation event. After payment the buyer may still change the
delivery address (BUYER_MODIFIED, #3730) or cancel (BUYER_CANCELLED, #3085) within 3 days of the purchase,
while the seller has not started (fulfillment not PROCESSING / READY_FOR_SHIPMENT / SENT) and added no
waybill. Both are faults (`combined_payments`, `post_payment_changes`), on by default.

Cancelling does not give stock back: Allegro leaves the offer as it is (an offer ended by the sale
stays ENDED) and the seller decides whether to restock, so the emulator does the same.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market import marketplaces
from allegro_sync.emulator.market.common import (
    BASE_MARKETPLACE,
    CURRENCY,
    Reject,
    body_object,
    events_page,
    int_arg,
    iso,
    new_uuid,
    ok,
    price,
    time_arg,
)
from allegro_sync.emulator.market.offers import end, set_stock
from allegro_sync.emulator.market.state import ORDER_EVENT_RETENTION, CheckoutForm, EventRecord
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

SELLER_SETTABLE = (
    "NEW",
    "PROCESSING",
    "READY_FOR_SHIPMENT",
    "READY_FOR_PICKUP",
    "SENT",
    "PICKED_UP",
    "CANCELLED",
    "SUSPENDED",
)
AFTER_SENT = ("SENT", "PICKED_UP", "RETURNED", "CANCELLED")
DELIVERY_COST = Decimal("9.99")
POST_PAYMENT_WINDOW = timedelta(days=3)  # #3730, #3085: "w ciągu 3 dni od daty zakupu"
SELLER_STARTED = ("PROCESSING", "READY_FOR_SHIPMENT", "SENT")


def _revise(st: MarketState, form: CheckoutForm) -> None:
    """Every change gets a new revision: fulfillment PUTs with an old one answer 409."""
    form.revision_counter += 1
    form.revision = hashlib.sha1(f"{form.id}:{form.revision_counter}".encode()).hexdigest()[:8]  # noqa: S324
    form.updated_at = st.now()


def form_view(form: CheckoutForm) -> dict[str, Any]:
    """CheckoutForm as `GET /order/checkout-forms/{id}` shows it."""
    sent = {i for s in form.shipments for i in (li["id"] for li in s["lineItems"])}
    items = {li["id"] for li in form.line_items}
    view: dict[str, Any] = {
        "id": form.id,
        "buyer": copy.deepcopy(form.buyer),
        "status": form.status,
        "fulfillment": {
            "status": form.fulfillment_status,
            "shipmentSummary": {"lineItemsSent": "ALL" if sent >= items else "SOME" if sent else "NONE"},
        },
        "delivery": copy.deepcopy(form.delivery),
        "lineItems": copy.deepcopy(form.line_items),
        "surcharges": copy.deepcopy(form.surcharges),
        "marketplace": {"id": form.marketplace},
        "summary": {"totalToPay": price(form.total, form.currency)},
        "updatedAt": iso(form.updated_at),
        "revision": form.revision,
    }
    if form.payment is not None:
        view["payment"] = copy.deepcopy(form.payment)
    view["invoice"] = {"required": form.invoice_required}  # issue 15, item 2
    return view


def _event_order(form: CheckoutForm) -> dict[str, Any]:
    buyer = {k: form.buyer[k] for k in ("id", "email", "login", "guest")}
    items = [
        {
            "id": li["id"],
            "offer": copy.deepcopy(li["offer"]),
            "quantity": li["quantity"],
            "originalPrice": dict(li["originalPrice"]),
            "price": dict(li["price"]),
            "boughtAt": li["boughtAt"],
        }
        for li in form.line_items
    ]
    return {
        "seller": {"id": form.seller_id},
        "buyer": buyer,
        "lineItems": items,
        "checkoutForm": {"id": form.id, "revision": form.revision},
        "marketplace": {"id": form.marketplace},
    }


def emit(st: MarketState, form: CheckoutForm, kind: str) -> None:
    """Journal an order event, honouring the delay, duplicate and skip-then-re-emit faults."""
    occurred_at = st.now()
    order = _event_order(form)
    faults = st.faults

    def publish() -> None:
        record = EventRecord(st.next_order_event_id(), form.seller_id, kind, occurred_at, order)
        st.order_events.append(record)
        if st.chance(faults.order_event_duplicate_rate):
            st.order_events.append(record)  # the same event (same id) served twice

    if kind == "READY_FOR_PROCESSING" and st.chance(faults.order_event_skip_rate):
        st.schedule(faults.order_event_reemit_after_seconds, publish)
        return
    if faults.order_event_delay_seconds > 0:
        st.schedule(faults.order_event_delay_seconds, publish)
    else:
        publish()


# ----------------------------------------------------------------------------- buyer side


def buy(
    st: MarketState, offer_id: str, quantity: int, buyer_login: str, marketplace: str = BASE_MARKETPLACE
) -> str:
    offer = st.offers.get(offer_id)
    if offer is None or offer.archived(st.now()):
        raise KeyError(f"offer {offer_id} not found")
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    if offer.status != "ACTIVE":
        raise ValueError(f"offer {offer_id} is {offer.status}, not ACTIVE")
    if offer.stock < quantity:
        raise ValueError(f"offer {offer_id} has only {offer.stock} items")
    now = st.now()
    form_id = new_uuid(st.rng)
    buyer_id = str(int(hashlib.sha1(buyer_login.encode()).hexdigest()[:8], 16))  # noqa: S324
    # A campaign (#13617) sells at its own price; the offer's sellingMode.price stays the seller's.
    paid = Decimal(offer.campaign["price"]) if offer.campaign else offer.price
    listed, money = offer.price, CURRENCY
    if marketplace != BASE_MARKETPLACE:  # issue 16: a buyer on allegro.cz pays the offer's CZK price
        paid, money = marketplaces.sold_at(offer, marketplace)
        listed = paid
    delivery = DELIVERY_COST if money == CURRENCY else marketplaces.converted(DELIVERY_COST, money)
    unit_price = price(paid, money)
    item = {
        "id": new_uuid(st.rng),
        "offer": {
            "id": offer.id,
            "name": offer.name,
            **({"external": {"id": offer.external_id}} if offer.external_id else {}),
        },
        "quantity": quantity,
        "originalPrice": price(listed, money),
        "price": dict(unit_price),
        "boughtAt": iso(now),
    }
    form = CheckoutForm(
        id=form_id,
        seller_id=offer.seller_id,
        status="BOUGHT",
        buyer={
            "id": buyer_id,
            "email": f"{buyer_login}+{buyer_id}@allegromail.pl",
            "login": buyer_login,
            "firstName": "Jan",
            "lastName": "Kowalski",
            "guest": False,
            "phoneNumber": "+48 500 600 700",
        },
        line_items=[item],
        delivery={
            "address": {
                "firstName": "Jan",
                "lastName": "Kowalski",
                "street": "ul. Marszałkowska 1",
                "city": "Warszawa",
                "zipCode": "00-001",
                "countryCode": "PL",
            },
            "method": {"id": "inpost-paczkomaty", "name": "Allegro Paczkomaty InPost"},
            "cost": price(delivery, money),
        },
        total=paid * quantity + delivery,
        bought_at=now,
        updated_at=now,
        revision="",
        marketplace=marketplace,
        currency=money,
    )
    _revise(st, form)
    st.checkout_forms[form.id] = form
    offer.sales.append((now, quantity))
    set_stock(st, offer, offer.stock - quantity)
    if offer.stock == 0:
        end(st, offer, "EMPTY_STOCK")  # a sell-out ends the offer at once
    emit(st, form, "BOUGHT")
    form.status = "FILLED_IN"
    _revise(st, form)
    emit(st, form, "FILLED_IN")
    return form.id


def _form(st: MarketState, form_id: str) -> CheckoutForm:
    form = st.checkout_forms.get(form_id)
    if form is None:
        raise KeyError(f"checkout form {form_id} not found")
    return form


def pay(st: MarketState, form_id: str) -> None:
    form = _form(st, form_id)
    if form.status not in ("BOUGHT", "FILLED_IN"):
        raise ValueError(f"checkout form {form_id} is {form.status}: it cannot be paid")
    form.status = "READY_FOR_PROCESSING"
    form.payment = {
        "id": new_uuid(st.rng),
        "type": "ONLINE",
        "provider": "P24",
        "finishedAt": iso(st.now()),
        "paidAmount": price(form.total, form.currency),
    }
    _revise(st, form)
    emit(st, form, "READY_FOR_PROCESSING")


def pay_together(st: MarketState, form_ids: list[str]) -> list[str]:
    """The buyer pays several unpaid purchases at once; returns the id(s) of the paid form(s).

    Real Allegro (#1111, #1705, #2172) makes one NEW form with the same line items (same ids, quantities,
    boughtAt), emits READY_FOR_PROCESSING for it only and deletes the earlier forms: no cancellation event,
    their BOUGHT / FILLED_IN events stay in the journal. With `combined_payments` off each form is paid on
    its own, as if the buyer had paid them one by one.
    """
    forms = [_form(st, form_id) for form_id in form_ids]
    if len(forms) < 2 or len({f.id for f in forms}) != len(forms):
        raise ValueError("a combined payment needs at least two different checkout forms")
    if len({(f.seller_id, f.buyer["login"]) for f in forms}) != 1:
        raise ValueError("only purchases of one buyer from one seller can be paid together")
    for form in forms:
        if form.status not in ("BOUGHT", "FILLED_IN"):
            raise ValueError(f"checkout form {form.id} is {form.status}: it cannot be paid")
    if not st.faults.combined_payments:
        for form in forms:
            pay(st, form.id)
        return [f.id for f in forms]
    items = [copy.deepcopy(li) for f in forms for li in f.line_items]
    total = sum((Decimal(li["price"]["amount"]) * li["quantity"] for li in items), Decimal(0))
    money = forms[0].currency  # one buyer, one seller: one marketplace (issue 16)
    delivery = DELIVERY_COST if money == CURRENCY else marketplaces.converted(DELIVERY_COST, money)
    merged = CheckoutForm(
        id=new_uuid(st.rng),
        seller_id=forms[0].seller_id,
        status="BOUGHT",
        buyer=copy.deepcopy(forms[0].buyer),
        line_items=items,
        delivery=copy.deepcopy(forms[-1].delivery),
        total=total + delivery,
        bought_at=min(f.bought_at for f in forms),
        updated_at=st.now(),
        revision="",
        marketplace=forms[0].marketplace,
        currency=money,
    )
    for form in forms:
        del st.checkout_forms[form.id]  # 404 from now on; no event says so
    st.checkout_forms[merged.id] = merged
    pay(st, merged.id)
    return [merged.id]


def _after_payment(st: MarketState, form: CheckoutForm, what: str) -> None:
    """May the buyer still change a paid order? Allegro's conditions (#3730, #3085)."""
    if not st.faults.post_payment_changes:
        raise ValueError(f"checkout form {form.id} is paid: the buyer can no longer {what} it")
    if st.now() - form.bought_at > POST_PAYMENT_WINDOW:
        raise ValueError(f"checkout form {form.id} was bought more than 3 days ago: it cannot be {what}d")
    if form.fulfillment_status in SELLER_STARTED or form.shipments:
        raise ValueError(f"the seller already handles checkout form {form.id}: it cannot be {what}d")


def modify(st: MarketState, form_id: str, *, city: str) -> None:
    """The buyer changes the delivery address: BUYER_MODIFIED with a new revision (after payment too)."""
    form = _form(st, form_id)
    if form.status == "READY_FOR_PROCESSING":
        _after_payment(st, form, "change")
    elif form.status not in ("BOUGHT", "FILLED_IN"):
        raise ValueError(f"checkout form {form_id} is {form.status}: the buyer can no longer change it")
    form.delivery["address"]["city"] = city
    form.delivery["address"]["modifiedAt"] = iso(st.now())
    _revise(st, form)
    emit(st, form, "BUYER_MODIFIED")


def surcharge(st: MarketState, form_id: str, amount: Decimal) -> None:
    """The buyer pays an extra amount (e.g. a dearer delivery): READY_FOR_PROCESSING comes again (#2087)."""
    form = _form(st, form_id)
    if form.status != "READY_FOR_PROCESSING":
        raise ValueError(f"checkout form {form_id} is {form.status}: only a paid order takes a surcharge")
    if amount <= 0:
        raise ValueError("a surcharge must be positive")
    form.surcharges.append(
        {
            "id": new_uuid(st.rng),
            "type": "ONLINE",
            "provider": "P24",
            "finishedAt": iso(st.now()),
            "paidAmount": price(amount, form.currency),
        }
    )
    form.total += amount
    _revise(st, form)
    emit(st, form, "READY_FOR_PROCESSING")


def cancel(st: MarketState, form_id: str, *, auto: bool) -> None:
    form = _form(st, form_id)
    if form.status == "CANCELLED":
        raise ValueError(f"checkout form {form_id} is already cancelled")
    if form.status == "READY_FOR_PROCESSING" and not auto:
        _after_payment(st, form, "cancel")
    form.status = "CANCELLED"
    _revise(st, form)
    emit(st, form, "AUTO_CANCELLED" if auto else "BUYER_CANCELLED")


# ----------------------------------------------------------------------------- seller side


def _visible_events(st: MarketState, seller_id: str) -> list[EventRecord]:
    horizon = st.now() - ORDER_EVENT_RETENTION
    return [e for e in st.order_events if e.seller_id == seller_id and e.occurred_at >= horizon]


def _event_view(event: EventRecord) -> dict[str, Any]:
    return {
        "id": event.id,
        "order": copy.deepcopy(event.payload),
        "type": event.type,
        "occurredAt": iso(event.occurred_at),
    }


def list_events(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    events = events_page(request, _visible_events(st, request.seller_id))
    return ok({"events": [_event_view(e) for e in events]})


def event_stats(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    events = _visible_events(st, request.seller_id)
    if not events:
        return ok({})
    latest = events[-1]
    return ok({"latestEvent": {"id": latest.id, "occurredAt": iso(latest.occurred_at)}})


def _own_form(st: MarketState, seller_id: str, form_id: str) -> CheckoutForm:
    form = st.checkout_forms.get(form_id)
    if form is None or form.seller_id != seller_id:
        raise Reject.one(404, "NOT_FOUND", f"Checkout form {form_id} not found")
    return form


def _between(moment: datetime, low: datetime | None, high: datetime | None) -> bool:
    return (low is None or moment >= low) and (high is None or moment <= high)


def list_forms(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """Filters by status, updatedAt and boughtAt ranges and buyer login; newest purchase first."""
    assert request.seller_id is not None
    limit = int_arg(request, "limit", 100, 1, 100)
    offset = int_arg(request, "offset", 0, 0, 10_000)
    status = request.arg("status")
    login = request.arg("buyer.login")
    updated = time_arg(request, "updatedAt.gte"), time_arg(request, "updatedAt.lte")
    bought = time_arg(request, "lineItems.boughtAt.gte"), time_arg(request, "lineItems.boughtAt.lte")
    found = [
        f
        for f in st.checkout_forms.values()
        if f.seller_id == request.seller_id
        and (status is None or f.status == status)
        and (login is None or f.buyer["login"] == login)
        and _between(f.updated_at, *updated)
        and _between(f.bought_at, *bought)
    ]
    sort = request.arg("sort") or "-lineItems.boughtAt"
    key = (lambda f: f.updated_at) if sort.lstrip("-") == "updatedAt" else (lambda f: f.bought_at)
    found.sort(key=key, reverse=sort.startswith("-"))
    page = found[offset : offset + limit]
    return ok({"checkoutForms": [form_view(f) for f in page], "count": len(page), "totalCount": len(found)})


def get_form(st: MarketState, request: EmulatorRequest, form_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    return ok(form_view(_own_form(st, request.seller_id, form_id)))


def put_fulfillment(st: MarketState, request: EmulatorRequest, form_id: str) -> EmulatorResponse:
    """Optimistic locking: `checkoutForm.revision` other than the current one answers 409."""
    assert request.seller_id is not None
    form = _own_form(st, request.seller_id, form_id)
    revision = request.arg("checkoutForm.revision")
    if revision is not None and revision != form.revision:
        raise Reject.one(
            409,
            "REVISION_MISMATCH",
            f"The checkout form changed (revision {form.revision}, you sent {revision}): read it again",
        )
    status = body_object(request).get("status")
    if status not in SELLER_SETTABLE:
        raise Reject.one(
            422, "VALIDATION_ERROR", f"A seller cannot set fulfillment status {status}", path="status"
        )
    if status != form.fulfillment_status:
        form.fulfillment_status = status
        _revise(st, form)
        emit(st, form, "FULFILLMENT_STATUS_CHANGED")
    return EmulatorResponse(204, None, {})


def carriers(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    return ok({"carriers": [dict(c) for c in st.catalogue.carriers]})


def _shipment_view(shipment: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(shipment)


def _waybill_uses(st: MarketState, seller_id: str, carrier_id: str, waybill: str) -> int:
    """On how many of the seller's checkout forms this waybill already is."""
    return sum(
        1
        for f in st.checkout_forms.values()
        if f.seller_id == seller_id
        and any(s["waybill"] == waybill and s["carrierId"] == carrier_id for s in f.shipments)
    )


def add_shipment(st: MarketState, request: EmulatorRequest, form_id: str) -> EmulatorResponse:
    """The spec's answers: 400 for an unknown carrier or a bad waybill, 409 "maximum waybill usage exceeded
    (e.g. used in too many orders)", 422 for line items not on the order. The spec does not say what a waybill
    already on this very form answers; the emulator counts it as one more use and answers 409 too."""
    assert request.seller_id is not None
    form = _own_form(st, request.seller_id, form_id)
    body = body_object(request)
    carrier_id, waybill, carrier_name = body.get("carrierId"), body.get("waybill"), body.get("carrierName")
    known = {c["id"]: c["name"] for c in st.catalogue.carriers}
    if not isinstance(carrier_id, str) or carrier_id not in known:
        raise Reject.one(
            400,
            "VALIDATION_ERROR",
            f"Unknown carrier {carrier_id}: see GET /order/carriers",
            path="carrierId",
        )
    if carrier_id == "OTHER" and not carrier_name:
        raise Reject.one(
            400, "VALIDATION_ERROR", "carrierName is required for carrier OTHER", path="carrierName"
        )
    if not isinstance(waybill, str) or not waybill.strip() or len(waybill) > 64:
        raise Reject.one(400, "VALIDATION_ERROR", "waybill must have 1 to 64 characters", path="waybill")
    items = {li["id"] for li in form.line_items}
    given = body.get("lineItems") or [{"id": i} for i in sorted(items)]
    if not isinstance(given, list) or not all(isinstance(li, dict) for li in given):
        raise Reject.one(422, "VALIDATION_ERROR", "lineItems must be a list of {id}", path="lineItems")
    wanted = [li.get("id") for li in given]
    unknown = [i for i in wanted if i not in items]
    if unknown:
        raise Reject.one(422, "VALIDATION_ERROR", f"Unknown line items {unknown}", path="lineItems")
    here = any(s["waybill"] == waybill and s["carrierId"] == carrier_id for s in form.shipments)
    if here or _waybill_uses(st, form.seller_id, carrier_id, waybill) >= st.faults.waybill_max_orders:
        raise Reject.one(
            409, "CONFLICT", f"Maximum waybill usage exceeded: {waybill} is used in too many orders"
        )
    shipment = {
        "id": new_uuid(st.rng),
        "waybill": waybill,
        "carrierId": carrier_id,
        "carrierName": carrier_name or known[carrier_id],
        "lineItems": [{"id": i} for i in wanted],
        "createdAt": iso(st.now()),
    }
    form.shipments.append(shipment)
    _revise(st, form)
    sent = {i for s in form.shipments for i in (li["id"] for li in s["lineItems"])}
    if st.faults.shipment_sets_sent and sent >= items and form.fulfillment_status not in AFTER_SENT:
        form.fulfillment_status = "SENT"  # Allegro may mark the order sent itself (orders tutorial)
        _revise(st, form)
        emit(st, form, "FULFILLMENT_STATUS_CHANGED")
    return ok(_shipment_view(shipment), 201)


def return_parcel(st: MarketState, form_id: str) -> None:
    """The parcel came back: only Allegro sets RETURNED (a seller cannot, see SELLER_SETTABLE)."""
    form = _form(st, form_id)
    form.fulfillment_status = "RETURNED"
    _revise(st, form)
    emit(st, form, "FULFILLMENT_STATUS_CHANGED")


def list_shipments(st: MarketState, request: EmulatorRequest, form_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    form = _own_form(st, request.seller_id, form_id)
    return ok({"shipments": [_shipment_view(s) for s in form.shipments]})
