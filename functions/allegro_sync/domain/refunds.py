"""A payment refund planned against what the buyer paid (issue 15, item 3): pure, every rule tested here.

What may still be given back is the order's own figures minus every earlier refund Allegro lists for it (made
by us or in Allegro's panel; CANCELED ones gave nothing back). A request for more, for an unknown line or for
an unpaid order raises `RefundRefused` with the reason, and nothing is sent. No lines means "the whole rest of
the order": every line's remainder and the rest of the delivery. The command id is derived from the request's
key, so the same request always becomes the same Allegro command (Allegro's idempotency does the rest).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from allegro_sync.contracts.after_sale import (
    InitializeRefund,
    RefundDetails,
    RefundLineIn,
    RefundRefused,
    RefundRequest,
    RefundValueIn,
)
from allegro_sync.contracts.allegro import CheckoutForm, IdRefIn, PriceIn

_NAMESPACE = uuid.UUID("5b0f3a4e-7f7c-4c8e-9d51-0c3b2a6f1e15")
CENT = Decimal("0.01")


def command_id(request: RefundRequest) -> str:
    """The Allegro `commandId` of a request: the same account, order and key give the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{request.account}|{request.checkout_form_id}|{request.key}"))


@dataclass(frozen=True)
class _Line:
    unit: Decimal
    quantity: int
    left: Decimal  # money that may still be given back for this line
    left_items: int  # whole items not refunded yet (by quantity or by amount)


def _amount(raw: object, what: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise RefundRefused(f"{what} is not an amount: {raw!r}") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(CENT):
        raise RefundRefused(f"{what} must be a positive amount with at most 2 decimals, got {raw!r}")
    return value


def _remaining(form: CheckoutForm, earlier: Sequence[RefundDetails]) -> tuple[dict[str, _Line], Decimal]:
    given_items: dict[str, int] = {}
    given_money: dict[str, Decimal] = {}
    delivery_given = Decimal(0)
    for refund in earlier:
        if refund.status == "CANCELED":
            continue
        for line in refund.line_items:
            if line.type == "QUANTITY" and line.quantity is not None:
                given_items[line.id] = given_items.get(line.id, 0) + int(line.quantity)
            elif line.value is not None:
                given_money[line.id] = given_money.get(line.id, Decimal(0)) + Decimal(line.value.amount)
        if refund.delivery is not None:
            delivery_given += Decimal(refund.delivery.value.amount)
    lines: dict[str, _Line] = {}
    for item in form.line_items:
        unit = Decimal(item.price.amount) if item.price else Decimal(0)
        left = unit * (item.quantity - given_items.get(item.id, 0)) - given_money.get(item.id, Decimal(0))
        untouched = item.quantity - given_items.get(item.id, 0) - (1 if item.id in given_money else 0)
        lines[item.id] = _Line(unit, item.quantity, max(left, Decimal(0)), max(untouched, 0))
    cost = (form.delivery or {}).get("cost") or {}
    delivery_left = Decimal(str(cost.get("amount", "0"))) - delivery_given
    return lines, max(delivery_left, Decimal(0))


def plan_refund(
    request: RefundRequest, form: CheckoutForm, earlier: Sequence[RefundDetails]
) -> tuple[InitializeRefund, Decimal]:
    """The InitializeRefund for `request` and the money it gives back, or RefundRefused (nothing sent)."""
    payment = form.payment or {}
    if not payment.get("id") or form.status not in ("READY_FOR_PROCESSING", "CANCELLED"):
        raise RefundRefused(f"order {form.id} was not paid ({form.status}): there is nothing to refund")
    currency = str((payment.get("paidAmount") or {}).get("currency", "PLN"))
    lines, delivery_left = _remaining(form, earlier)
    delivery: RefundValueIn | None = None
    if request.lines:
        chosen, total = _asked(form.id, request, lines, currency)
    else:  # the whole order: what is left of every line, and of the delivery
        chosen, total = _whole(lines, currency)
        if delivery_left > 0:
            delivery = RefundValueIn(value=_price(delivery_left, currency))
            total += delivery_left
    if total <= 0:
        raise RefundRefused(f"order {form.id} has nothing left to refund")
    paid = Decimal(str((payment.get("paidAmount") or {}).get("amount", "0")))
    given = sum((Decimal(r.total_value.amount) for r in earlier if r.status != "CANCELED"), Decimal(0))
    if total + given > paid:
        raise RefundRefused(
            f"order {form.id}: {total:.2f} {currency} asked, {paid - given:.2f} {currency} of the "
            f"{paid:.2f} {currency} paid is not refunded yet"
        )
    body = InitializeRefund(
        payment=IdRefIn(id=str(payment["id"])),
        order=IdRefIn(id=form.id),
        command_id=command_id(request),
        reason=request.reason,
        line_items=chosen or None,
        delivery=delivery,
    )
    return body, total


def _whole(lines: dict[str, _Line], currency: str) -> tuple[list[RefundLineIn], Decimal]:
    chosen: list[RefundLineIn] = []
    for line_id, line in lines.items():
        if line.left_items == line.quantity and line.left > 0:
            chosen.append(RefundLineIn(id=line_id, type="QUANTITY", quantity=line.quantity))
        elif line.left > 0:
            chosen.append(RefundLineIn(id=line_id, type="AMOUNT", value=_price(line.left, currency)))
    return chosen, sum((line.left for line in lines.values()), Decimal(0))


def _asked(
    form_id: str, request: RefundRequest, lines: dict[str, _Line], currency: str
) -> tuple[list[RefundLineIn], Decimal]:
    chosen: list[RefundLineIn] = []
    total = Decimal(0)
    for wanted in request.lines:
        line = lines.get(wanted.line_item_id)
        if line is None:
            raise RefundRefused(f"order {form_id} has no line {wanted.line_item_id}")
        if (wanted.quantity is None) == (wanted.amount is None):
            raise RefundRefused(f"line {wanted.line_item_id}: give either a quantity or an amount")
        if wanted.quantity is not None:
            if not 1 <= wanted.quantity <= line.left_items:
                raise RefundRefused(
                    f"line {wanted.line_item_id}: {wanted.quantity} item(s) asked, "
                    f"{line.left_items} of {line.quantity} not refunded yet"
                )
            money = line.unit * wanted.quantity
            chosen.append(RefundLineIn(id=wanted.line_item_id, type="QUANTITY", quantity=wanted.quantity))
        else:
            money = _amount(wanted.amount, f"line {wanted.line_item_id}'s amount")
            chosen.append(RefundLineIn(id=wanted.line_item_id, type="AMOUNT", value=_price(money, currency)))
        if money > line.left:
            raise RefundRefused(
                f"line {wanted.line_item_id}: {money:.2f} {currency} asked, {line.left:.2f} {currency} "
                "paid and not refunded yet"
            )
        total += money
    return chosen, total


def _price(amount: Decimal, currency: str) -> PriceIn:
    return PriceIn(amount=str(amount.quantize(CENT)), currency=currency)
