"""A refund planned against what the buyer paid (domain/refunds.py): every refusal sends nothing."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync.contracts.after_sale import RefundDetails, RefundLine, RefundRefused, RefundRequest
from allegro_sync.contracts.allegro import CheckoutForm
from allegro_sync.domain.refunds import command_id, plan_refund


def form(status: str = "READY_FOR_PROCESSING", paid: str = "209.99") -> CheckoutForm:
    raw: dict[str, Any] = {
        "id": "form-1",
        "status": status,
        "lineItems": [
            {
                "id": "li-a",
                "offer": {"id": "1"},
                "quantity": 2,
                "price": {"amount": "50.00", "currency": "PLN"},
            },
            {
                "id": "li-b",
                "offer": {"id": "2"},
                "quantity": 1,
                "price": {"amount": "100.00", "currency": "PLN"},
            },
        ],
        "delivery": {"cost": {"amount": "9.99", "currency": "PLN"}},
    }
    if paid:
        raw["payment"] = {"id": "pay-1", "paidAmount": {"amount": paid, "currency": "PLN"}}
    return CheckoutForm.model_validate(raw)


def request(*lines: RefundLine, key: str = "k1") -> RefundRequest:
    return RefundRequest(account="shop1", checkout_form_id="form-1", key=key, lines=lines)


def earlier(total: str, *lines: dict[str, Any], delivery: str | None = None) -> RefundDetails:
    value = {"amount": total, "currency": "PLN"}
    raw: dict[str, Any] = {"id": "r-0", "status": "SUCCESS", "totalValue": value, "lineItems": list(lines)}
    if delivery:
        raw["delivery"] = {"value": {"amount": delivery, "currency": "PLN"}}
    return RefundDetails.model_validate(raw)


def test_the_whole_order_is_every_line_and_the_delivery() -> None:
    body, total = plan_refund(request(), form(), [])

    assert str(total) == "209.99"
    assert [(x.id, x.type, x.quantity) for x in body.line_items or []] == [
        ("li-a", "QUANTITY", 2),
        ("li-b", "QUANTITY", 1),
    ]
    assert body.delivery is not None
    assert body.delivery.value.amount == "9.99"
    assert body.to_json()["commandId"] == command_id(request())


def test_what_earlier_refunds_gave_back_is_not_given_again() -> None:
    before = earlier("59.99", {"id": "li-a", "type": "QUANTITY", "quantity": 1}, delivery="9.99")
    before_amount = earlier(
        "10.00", {"id": "li-b", "type": "AMOUNT", "value": {"amount": "10.00", "currency": "PLN"}}
    )

    body, total = plan_refund(request(), form(), [before, before_amount])

    assert str(total) == "140.00"  # li-a: 1 x 50.00 left, li-b: 90.00 left, delivery: nothing
    assert [(x.id, x.type, x.quantity, x.value and x.value.amount) for x in body.line_items or []] == [
        ("li-a", "AMOUNT", None, "50.00"),
        ("li-b", "AMOUNT", None, "90.00"),
    ]
    assert body.delivery is None


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        ((RefundLine("li-a", quantity=3),), r"3 item\(s\) asked, 2 of 2 not refunded yet"),
        ((RefundLine("li-b", amount="100.01"),), "100.01 PLN asked, 100.00 PLN paid and not refunded yet"),
        ((RefundLine("li-x", quantity=1),), "no line li-x"),
        ((RefundLine("li-a"),), "give either a quantity or an amount"),
        ((RefundLine("li-a", amount="-5"),), "positive amount"),
        ((RefundLine("li-a", amount="1.001"),), "at most 2 decimals"),
    ],
)
def test_a_request_beyond_what_was_paid_is_refused(lines: tuple[RefundLine, ...], why: str) -> None:
    with pytest.raises(RefundRefused, match=why):
        plan_refund(request(*lines), form(), [])


def test_an_unpaid_order_has_nothing_to_refund() -> None:
    with pytest.raises(RefundRefused, match="was not paid"):
        plan_refund(request(), form(status="FILLED_IN", paid=""), [])


def test_the_paid_total_bounds_the_refund_whatever_the_lines_say() -> None:
    with pytest.raises(RefundRefused, match="not refunded yet"):
        plan_refund(request(RefundLine("li-b", quantity=1)), form(paid="60.00"), [])


def test_the_same_request_is_the_same_command_and_a_new_key_a_new_one() -> None:
    assert command_id(request()) == command_id(request())
    assert command_id(request()) != command_id(request(key="k2"))
