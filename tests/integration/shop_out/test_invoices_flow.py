"""`orders invoice ORDER FILE` puts the shop's invoice on the Allegro order once (issue 15, item 2)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.orders.conftest import OrdersWorld
from tests.integration.shop_out.test_fulfillment_back import paid_order, signed_post

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


class _Invoice(BaseHTTPRequestHandler):
    fetched = 0

    def do_GET(self) -> None:
        type(self).fetched += 1
        body = b"%PDF-1.4 FV 7/2026"
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def invoice_url() -> Iterator[str]:
    _Invoice.fetched = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Invoice)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/invoices/fv-7.pdf"
    server.shutdown()


def test_the_shops_order_status_hands_the_invoice_over_once(
    shop_world: OrdersWorld, paid_order: str, invoice_url: str
) -> None:
    shop_world.emulator.marketplace.want_invoice(paid_order)
    base = shop_world.runtime.start_gateway()
    update = {
        "type": "order.status",
        "checkout_form_id": paid_order,
        "invoice_url": invoice_url,
        "invoice_number": "FV 7/2026",
    }

    answers = [signed_post(base, "/webhooks/shop/orders", update, f"inv-{n}").status_code for n in (1, 2)]
    shop_world.runtime.drain()

    assert answers == [202, 202]
    [invoice] = shop_world.emulator.marketplace.state.checkout_forms[paid_order].invoices
    assert invoice["invoiceNumber"] == "FV 7/2026"
    assert invoice["file"]["uploadedAt"]
    assert _Invoice.fetched == 1  # the second update found it on the order and fetched nothing


def test_an_invoice_the_buyer_did_not_ask_for_is_not_sent(
    shop_world: OrdersWorld, paid_order: str, invoice_url: str
) -> None:
    base = shop_world.runtime.start_gateway()
    update = {"type": "order.status", "checkout_form_id": paid_order, "invoice_url": invoice_url}

    signed_post(base, "/webhooks/shop/orders", update, "inv-3")
    shop_world.runtime.drain()

    assert shop_world.emulator.marketplace.state.checkout_forms[paid_order].invoices == []
    assert _Invoice.fetched == 0
