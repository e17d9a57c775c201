"""Lenient on what Allegro sends, strict on what we send."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from allegro_sync.contracts.allegro import AddShipment, CheckoutForm, PriceIn, QuantityModification


def test_a_new_allegro_field_does_not_break_parsing() -> None:
    form = CheckoutForm.model_validate(
        {
            "id": "cf-1",
            "status": "READY_FOR_PROCESSING",
            "lineItems": [
                {
                    "id": "li-1",
                    "offer": {"id": "1", "name": "Kubek", "external": {"id": "SKU-1"}, "brandNewField": 1},
                    "quantity": 2,
                    "price": {"amount": "10.50", "currency": "PLN"},
                }
            ],
            "someFutureSection": {"x": 1},
        }
    )
    assert form.line_items[0].price is not None
    assert form.line_items[0].price.amount == "10.50"  # money stays a string, never a float
    assert form.model_extra == {"someFutureSection": {"x": 1}}


def test_a_typo_in_what_we_send_fails_before_reaching_allegro() -> None:
    with pytest.raises(ValidationError, match="changetype"):
        QuantityModification.model_validate({"changeType": "FIXED", "value": 1, "changetype": "GAIN"})
    with pytest.raises(ValidationError):
        AddShipment(carrier_id="INPOST", waybill="x" * 65)  # Allegro's limit is 64
    with pytest.raises(ValidationError):
        PriceIn(amount="12.345")
