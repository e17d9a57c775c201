"""`orders invoice ORDER FILE` puts the shop's invoice on the Allegro order once (issue 15, item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.orders.conftest import OrdersWorld
from tests.integration.shop_out.test_fulfillment_back import paid_order

pytestmark = pytest.mark.integration
__all__ = ["paid_order"]  # the fixture, used by name


def test_the_invoice_the_buyer_asked_for_is_uploaded_once(
    shop_world: OrdersWorld, paid_order: str, tmp_path: Path
) -> None:
    shop_world.emulator.marketplace.want_invoice(paid_order)
    pdf = tmp_path / "FV-1.pdf"
    pdf.write_bytes(b"%PDF-1.4 FV 1/2026")

    first = shop_world.stack.cli("orders", "invoice", paid_order, str(pdf), "--number", "FV 1/2026")
    again = shop_world.stack.cli("orders", "invoice", paid_order, str(pdf))
    status = shop_world.stack.cli("orders", "invoice", paid_order)

    assert first.exit_code == 0, first.output
    assert "invoice uploaded" in first.output
    assert "invoice already" in again.output
    assert "asked for: uploaded" in status.output
    [invoice] = shop_world.emulator.marketplace.state.checkout_forms[paid_order].invoices
    assert invoice["invoiceNumber"] == "FV 1/2026"
    assert invoice["file"]["uploadedAt"]
