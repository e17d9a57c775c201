"""Payment refunds (`/payments/refunds`) and commission refund claims (`/order/refund-claims`).

A refund names the order and its payment and what is given back: line items by QUANTITY or AMOUNT and the
delivery. The emulator refuses (422, nothing paid) more than was paid for a line or the delivery, counting
what earlier refunds already gave back, and a payment that does not belong to the order. `commandId` makes
the call idempotent (spec: "If empty, idempotency will not be supported"): a repeat answers the refund the
first call made, so a retried POST never pays twice.

A commission refund claim is one per line item: a second answers ClaimExistsException (#9992); a line that
cost no commission answers CommissionAmountException (#6744). The spec does not publish the other
conditions; the emulator allows a claim only for an order that was cancelled or never paid, or for items
whose payment was refunded, and answers 422 otherwise ("provided conditions not correct").
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.common import (
    Reject,
    body_object,
    int_arg,
    iso,
    money,
    new_uuid,
    not_found,
    obj,
    ok,
    parse_decimal,
    price,
    seq,
)
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import CheckoutForm, MarketState

COMMISSION_RATE = Decimal("0.10")  # the emulated sale commission per item price


def _refused(message: str, path: str | None = None) -> Reject:
    return Reject.one(422, "VALIDATION_ERROR", message, path=path)


def _form_of(st: MarketState, seller_id: str, order_id: str) -> CheckoutForm:
    form = st.checkout_forms.get(order_id)
    if form is None or form.seller_id != seller_id:
        raise Reject.one(404, "NOT_FOUND", f"Payment for order {order_id} not found", path="order.id")
    return form


def refunded_of(st: MarketState, order_id: str) -> tuple[dict[str, int], dict[str, Decimal], Decimal]:
    """What earlier refunds of the order gave back: quantities and amounts per line, and the delivery."""
    quantities: dict[str, int] = {}
    amounts: dict[str, Decimal] = {}
    delivery = Decimal(0)
    for refund in st.refunds.values():
        if refund["order"]["id"] != order_id:
            continue
        for line in refund.get("lineItems", []):
            if line["type"] == "QUANTITY":
                quantities[line["id"]] = quantities.get(line["id"], 0) + int(line["quantity"])
            else:
                amounts[line["id"]] = amounts.get(line["id"], Decimal(0)) + Decimal(line["value"]["amount"])
        if "delivery" in refund:
            delivery += Decimal(refund["delivery"]["value"]["amount"])
    return quantities, amounts, delivery


def _line_total(st: MarketState, form: CheckoutForm, raw: Any, index: int) -> Decimal:
    line_in = obj(raw)
    path = f"lineItems[{index}]"
    lines = {li["id"]: li for li in form.line_items}
    line = lines.get(line_in.get("id"))
    if line is None:
        raise _refused(f"line item {line_in.get('id')} is not part of order {form.id}", f"{path}.id")
    unit = Decimal(line["price"]["amount"])
    quantities, amounts, _ = refunded_of(st, form.id)
    left = (
        unit * line["quantity"] - unit * quantities.get(line["id"], 0) - amounts.get(line["id"], Decimal(0))
    )
    if line_in.get("type") == "QUANTITY":
        quantity = line_in.get("quantity")
        if not isinstance(quantity, int | float) or quantity < 1 or int(quantity) != quantity:
            raise _refused("quantity must be a whole number of at least 1", f"{path}.quantity")
        total = unit * int(quantity)
    else:
        total = parse_decimal(obj(line_in.get("value")).get("amount")) or Decimal(-1)
        if total <= 0:
            raise _refused("value.amount must be a positive amount", f"{path}.value.amount")
    if total > left:
        raise _refused(f"line item {line['id']}: at most {money(left)} can still be refunded", path)
    return total


def initiate(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    body = body_object(request)
    command_id = body.get("commandId")
    if command_id:
        earlier = next((r for r in st.refunds.values() if r["_command"] == command_id), None)
        if earlier is not None:  # idempotent: the refund the first call made, nothing paid again
            return ok(_shown(earlier))
    form = _form_of(st, request.seller_id, str(obj(body.get("order")).get("id")))
    payment_id = obj(body.get("payment")).get("id")
    if form.payment is None or form.payment["id"] != payment_id:
        raise Reject.one(
            404, "NOT_FOUND", f"Payment {payment_id} of order {form.id} not found", path="payment.id"
        )
    total = sum(
        (_line_total(st, form, raw, i) for i, raw in enumerate(seq(body.get("lineItems")))), Decimal(0)
    )
    if "delivery" in body:
        amount = parse_decimal(obj(obj(obj(body["delivery"]).get("value"))).get("amount")) or Decimal(-1)
        _, _, delivered = refunded_of(st, form.id)
        cost = Decimal(form.delivery["cost"]["amount"])
        if not 0 < amount <= cost - delivered:
            raise _refused(f"at most {money(cost - delivered)} of the delivery can be refunded", "delivery")
        total += amount
    if total <= 0:
        raise _refused("a refund gives back at least one line item or the delivery")
    refund_id = new_uuid(st.rng)
    refund: dict[str, Any] = {
        "id": refund_id,
        "payment": {"id": payment_id},
        "order": {"id": form.id},
        "reason": body.get("reason"),
        "status": "NEW",
        "createdAt": iso(st.now()),
        "totalValue": price(total),
        "_command": command_id or None,
    }
    for key in ("lineItems", "delivery", "sellerComment"):
        if key in body:
            refund[key] = copy.deepcopy(body[key])
    st.refunds[refund_id] = refund
    st.schedule(0, lambda: refund.update(status="SUCCESS"))
    return ok(_shown(refund))


def _shown(refund: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in refund.items() if not k.startswith("_")}


def list_refunds(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    found = [
        r
        for r in st.refunds.values()
        if (form := st.checkout_forms.get(r["order"]["id"])) is not None
        and form.seller_id == request.seller_id
    ]
    for name, key in (("id", ("id",)), ("order.id", ("order", "id")), ("payment.id", ("payment", "id"))):
        wanted = request.arg(name)
        if wanted is not None:
            found = [r for r in found if _dig(r, key) == wanted]
    statuses = request.query.get("status")
    if statuses:
        found = [r for r in found if r["status"] in statuses]
    offset = int_arg(request, "offset", 0, 0, 1_000_000)
    limit = int_arg(request, "limit", 50, 1, 100)
    page = found[offset : offset + limit]
    return ok({"refunds": [_shown(r) for r in page], "count": len(page), "totalCount": len(found)})


def _dig(refund: dict[str, Any], key: tuple[str, ...]) -> Any:
    node: Any = refund
    for part in key:
        node = node.get(part) if isinstance(node, dict) else None
    return node


# ------------------------------------------------------------------------------- commission refund claims


def create_claim(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    body = body_object(request)
    line_id = obj(body.get("lineItem")).get("id")
    quantity = body.get("quantity")
    found = [
        (form, li)
        for form in st.checkout_forms.values()
        if form.seller_id == request.seller_id
        for li in form.line_items
        if li["id"] == line_id
    ]
    if not found:
        raise Reject.one(404, "NOT_FOUND", f"Line item {line_id} not found", path="lineItem.id")
    form, line = found[0]
    if not isinstance(quantity, int) or not 1 <= quantity <= line["quantity"]:
        raise _refused(f"quantity must be 1..{line['quantity']}", "quantity")
    claimed = any(c["lineItem"]["id"] == line_id for c in st.refund_claims.values())
    if claimed and st.faults.refund_claim_once:  # #9992
        raise Reject.one(422, "ClaimExistsException", f"Claim exists for line item id {line_id}.")
    commission = Decimal(line["price"]["amount"]) * COMMISSION_RATE * quantity
    if commission <= 0:  # #6744
        raise Reject.one(
            422, "CommissionAmountException", f"Invalid commission amount of line item id {line_id}."
        )
    refunded, _, _ = refunded_of(st, form.id)
    allowed = form.status == "CANCELLED" or form.payment is None or refunded.get(line["id"], 0) >= quantity
    if not allowed:
        raise Reject.one(
            400,
            "ClaimNotAllowedException",
            f"Order {form.id} was paid and not cancelled: no commission refund for line item {line_id}",
        )
    claim_id = new_uuid(st.rng)
    claim: dict[str, Any] = {
        "id": claim_id,
        "status": "IN_PROGRESS",
        "quantity": quantity,
        "commission": {"amount": float(money(commission)), "currency": "PLN"},
        "buyer": {"id": form.buyer["id"]},
        "createdAt": iso(st.now()),
        "lineItem": {
            "id": line_id,
            "quantity": line["quantity"],
            "boughtAt": line["boughtAt"],
            "offer": {"id": line["offer"]["id"]},
        },
        "type": "MANUAL",
    }
    st.refund_claims[claim_id] = claim
    return ok({"id": claim_id}, 201)


def list_claims(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    mine = [c for c in st.refund_claims.values() if _claim_seller(st, c) == request.seller_id]
    offer = request.arg("lineItem.offer.id")
    if offer is not None:
        mine = [c for c in mine if c["lineItem"]["offer"]["id"] == offer]
    offset = int_arg(request, "offset", 0, 0, 1_000_000)
    limit = int_arg(request, "limit", 25, 1, 100)
    page = mine[offset : offset + limit]
    return ok({"refundClaims": copy.deepcopy(page), "count": len(page)})


def get_claim(st: MarketState, request: EmulatorRequest, claim_id: str) -> EmulatorResponse:
    claim = st.refund_claims.get(claim_id)
    if claim is None:
        raise not_found("Refund application", claim_id)
    if _claim_seller(st, claim) != request.seller_id:
        raise Reject.one(403, "ACCESS_DENIED", "Refund application does not belong to you")
    return ok(copy.deepcopy(claim))


def _claim_seller(st: MarketState, claim: dict[str, Any]) -> str | None:
    for form in st.checkout_forms.values():
        if any(li["id"] == claim["lineItem"]["id"] for li in form.line_items):
            return form.seller_id
    return None
