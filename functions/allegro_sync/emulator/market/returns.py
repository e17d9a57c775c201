"""Customer returns (`/order/customer-returns`, BETA): what the buyer sends back and the seller's rejection.

The spec serves these three operations only as `application/vnd.allegro.beta.v1+json`; Allegro answers 406
NotAcceptableException to the public type (#4780, #9077, #9800): the server's media-type gate knows
`BETA_PATHS`. A return is opened by the buyer (the admin back door `open_return`) and moves along the
timeline statuses the spec lists (CREATED, DISPATCHED, IN_TRANSIT, DELIVERED, FINISHED, ...) as the parcel
travels (`advance_return`). The list's `from` is "the ID of the last seen customer return": returns created
after it, oldest first; a status change of an older return does not bring it back into `from`, so a
follower must re-read the returns it still waits on (by `customerReturnId`).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.common import (
    Reject,
    beta_ok,
    beta_rejected,
    body_object,
    int_arg,
    iso,
    new_uuid,
    not_found,
    obj,
    parse_time,
)
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

BETA_PATHS = ("/order/customer-returns",)
STATUSES = (
    "CREATED",
    "DISPATCHED",
    "IN_TRANSIT",
    "DELIVERED",
    "FINISHED",
    "FINISHED_APT",
    "REJECTED",
    "COMMISSION_REFUND_CLAIMED",
    "COMMISSION_REFUNDED",
    "WAREHOUSE_DELIVERED",
    "WAREHOUSE_VERIFICATION",
)


# ------------------------------------------------------------------------------------------ buyer side


def open_return(st: MarketState, form_id: str, items: dict[str, int], reason: str) -> str:
    """The buyer registers a return of `items` (line item id -> quantity) of a sent order; its id."""
    form = st.checkout_forms.get(form_id)
    if form is None:
        raise KeyError(f"checkout form {form_id} not found")
    if form.payment is None:
        raise ValueError(f"checkout form {form_id} was never paid: there is nothing to return")
    lines = {li["id"]: li for li in form.line_items}
    if not items:
        raise ValueError("a return names at least one line item")
    returned: list[dict[str, Any]] = []
    for line_id, quantity in items.items():
        line = lines.get(line_id)
        if line is None:
            raise KeyError(f"line item {line_id} is not part of checkout form {form_id}")
        already = sum(
            i["quantity"]
            for r in st.customer_returns.values()
            if r["orderId"] == form_id and r["status"] != "REJECTED"
            for i in r["items"]
            if i["offerId"] == line["offer"]["id"]
        )
        if not 1 <= quantity <= line["quantity"] - already:
            raise ValueError(
                f"line item {line_id}: {line['quantity'] - already} item(s) can still be returned"
            )
        returned.append(
            {
                "offerId": line["offer"]["id"],
                "quantity": quantity,
                "name": line["offer"].get("name", ""),
                "price": dict(line["price"]),
                "url": f"https://allegro.pl/oferta/{line['offer']['id']}",
                "reason": {"type": reason, "userComment": ""},
            }
        )
    ident = new_uuid(st.rng)
    st.customer_returns[ident] = {
        "id": ident,
        "isFulfillment": False,
        "createdAt": iso(st.now()),
        "referenceNumber": f"ZW{len(st.customer_returns) + 1:08d}",
        "orderId": form_id,
        "buyer": {"email": form.buyer["email"], "login": form.buyer["login"]},
        "items": returned,
        "parcels": [],
        "marketplaceId": "allegro-pl",
        "status": "CREATED",
    }
    return ident


def advance_return(st: MarketState, return_id: str, status: str) -> None:
    """The parcel moves on (or the seller finishes the return in the panel): the timeline status changes."""
    found = st.customer_returns.get(return_id)
    if found is None:
        raise KeyError(f"customer return {return_id} not found")
    if status not in STATUSES or status == "REJECTED":
        raise ValueError(f"status must be one of {', '.join(s for s in STATUSES if s != 'REJECTED')}")
    if found["status"] == "REJECTED":
        raise ValueError(f"customer return {return_id} was rejected")
    if status in ("DISPATCHED", "IN_TRANSIT") and not found["parcels"]:
        found["parcels"].append(
            {
                "createdAt": iso(st.now()),
                "waybill": f"RET{len(st.customer_returns):010d}",
                "transportingWaybill": None,
                "carrierId": "INPOST",
                "transportingCarrierId": None,
                "sender": {"phoneNumber": "+48 500 600 700"},
            }
        )
    found["status"] = status


# ----------------------------------------------------------------------------------------- seller side


def _mine(st: MarketState, request: EmulatorRequest) -> list[dict[str, Any]]:
    assert request.seller_id is not None
    return [
        r
        for r in st.customer_returns.values()
        if (form := st.checkout_forms.get(r["orderId"])) is not None and form.seller_id == request.seller_id
    ]


def list_returns(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    try:
        found = _mine(st, request)
        after = request.arg("from")
        if after is not None:
            ids = [r["id"] for r in found]
            found = found[ids.index(after) + 1 :] if after in ids else []
        for name, key in (("customerReturnId", "id"), ("orderId", "orderId"), ("status", "status")):
            wanted = request.query.get(name)
            if wanted:
                accepted = {v for raw in wanted for v in raw.split(",")}
                found = [r for r in found if r[key] in accepted]
        created = _created_bounds(request)
        found = [r for r in found if created[0] <= r["createdAt"] <= created[1]]
        offset = int_arg(request, "offset", 0, 0, 1_000_000)
        limit = int_arg(request, "limit", 100, 1, 1000)
    except Reject as rejected:
        return beta_rejected(rejected)
    page = found[offset : offset + limit]
    return beta_ok({"count": len(page), "customerReturns": copy.deepcopy(page)})


def _created_bounds(request: EmulatorRequest) -> tuple[str, str]:
    """`createdAt.gte` / `.lte` as comparable ISO strings (Allegro's own format, UTC, milliseconds)."""
    bounds = []
    for name, default in (("createdAt.gte", "0000"), ("createdAt.lte", "9999")):
        raw = request.arg(name)
        if raw is None:
            bounds.append(default)
            continue
        moment = parse_time(raw)
        if moment is None:
            raise Reject.one(400, "VALIDATION_ERROR", f"{name} must be an ISO 8601 time", path=name)
        bounds.append(iso(moment))
    return bounds[0], bounds[1]


def get_return(st: MarketState, request: EmulatorRequest, return_id: str) -> EmulatorResponse:
    found = next((r for r in _mine(st, request) if r["id"] == return_id), None)
    if found is None:
        return beta_rejected(not_found("Customer return", return_id))
    return beta_ok(copy.deepcopy(found))


def reject_return(st: MarketState, request: EmulatorRequest, return_id: str) -> EmulatorResponse:
    """The seller refuses the refund of a return; a second rejection answers 422 (spec)."""
    found = next((r for r in _mine(st, request) if r["id"] == return_id), None)
    if found is None:
        return beta_rejected(Reject.one(403, "ACCESS_DENIED", f"Customer return {return_id} is not yours"))
    rejection = obj(body_object(request).get("rejection"))
    if found["status"] == "REJECTED":
        return beta_rejected(
            Reject.one(
                422, "CUSTOMER_RETURN_ALREADY_REJECTED", f"Customer return {return_id} is already rejected"
            )
        )
    if found["status"] in ("FINISHED", "FINISHED_APT", "COMMISSION_REFUND_CLAIMED", "COMMISSION_REFUNDED"):
        return beta_rejected(
            Reject.one(422, "CUSTOMER_RETURN_FINISHED", f"Customer return {return_id} is already finished")
        )
    found["status"] = "REJECTED"
    found["rejection"] = {
        "code": rejection.get("code"),
        **({"reason": rejection["reason"]} if rejection.get("reason") else {}),
        "createdAt": iso(st.now()),
    }
    return beta_ok(copy.deepcopy(found))
