"""The soak's after-sale counters (issue 15): each finds what a seller would pay for or miss, only that."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bench.soak.after_sale import (
    Asked,
    Returned,
    labels_bought_twice,
    refunds_paid_twice,
    returned_units_off,
)


def _shipment(form: str) -> dict[str, Any]:
    return {"id": f"ship-{form}", "referenceNumber": form, "packages": [{"waybill": "1"}]}


def _refund(form: str, line: str, *, units: int = 0, amount: str = "", delivery: str = "") -> dict[str, Any]:
    refund: dict[str, Any] = {"id": "r", "order": {"id": form}, "lineItems": []}
    if units:
        refund["lineItems"].append({"id": line, "type": "QUANTITY", "quantity": units})
    if amount:
        refund["lineItems"].append({"id": line, "type": "AMOUNT", "value": {"amount": amount}})
    if delivery:
        refund["delivery"] = {"value": {"amount": delivery, "currency": "PLN"}}
    return refund


def test_a_second_shipment_for_one_order_is_a_label_bought_twice() -> None:
    once = [_shipment("form-a"), _shipment("form-b")]

    assert labels_bought_twice(once) == []
    assert labels_bought_twice([*once, _shipment("form-b")]) == ["order form-b: 2 shipments bought"]


def test_refunds_beyond_what_was_asked_are_counted_per_line() -> None:
    asked = {"form-a": {"line-1": Asked(units=1)}, "form-b": {"line-2": Asked(amount=Decimal("5.00"))}}
    paid_once = [_refund("form-a", "line-1", units=1), _refund("form-b", "line-2", amount="5.00")]

    assert refunds_paid_twice(asked, paid_once) == []
    twice = [*paid_once, _refund("form-a", "line-1", units=1), _refund("form-b", "line-2", amount="5.00")]
    found = refunds_paid_twice(asked, twice)
    assert len(found) == 2
    assert "form-a line line-1: refunded 2 item(s)" in found[0]
    assert "form-b line line-2: refunded 0 item(s) + 10.00" in found[1]


def test_a_refund_of_something_never_asked_counts_too() -> None:
    asked = {"form-a": {"line-1": Asked(units=1)}}

    found = refunds_paid_twice(asked, [_refund("form-a", "line-1", units=1, delivery="9.99")])

    assert found == ["order form-a line delivery: refunded 0 item(s) + 9.99 for 0 + 0 asked"]


def test_a_returned_unit_credited_never_or_twice_is_counted_and_once_is_not() -> None:
    returned = [Returned("ret-1", "SKU-1", 1), Returned("ret-2", "SKU-2", 1), Returned("ret-3", "SKU-3", 2)]

    found = returned_units_off(returned, {"ret-1": 1, "ret-2": 2})

    assert found == [
        "return ret-2 (SKU-2): 2 unit(s) credited for 1 returned",
        "return ret-3 (SKU-3): 0 unit(s) credited for 2 returned",
    ]
    assert returned_units_off(returned, {"ret-1": 1, "ret-2": 1, "ret-3": 2}) == []
