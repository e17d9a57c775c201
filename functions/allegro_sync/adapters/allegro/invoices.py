"""Seller invoices on orders: `POST /order/checkout-forms/{id}/invoices` (metadata), then the PDF with
`PUT .../invoices/{invoiceId}/file` (`application/pdf`). The POST is not repeated by the client after a
possibly delivered attempt: the use case lists the order's invoices first (`services/invoices.py`)."""

from __future__ import annotations

from allegro_sync.adapters.allegro.core import AllegroCore, _segment
from allegro_sync.contracts.invoices import OrderInvoice, OrderInvoices

EN = "en-US"  # the spec allows only en-US on these operations


class InvoicesApi(AllegroCore):
    def order_invoices(self, checkout_form_id: str) -> list[OrderInvoice]:
        path = f"/order/checkout-forms/{_segment(checkout_form_id)}/invoices"
        answer = self.request("GET", path, language=EN)
        return OrderInvoices.model_validate(answer.json()).invoices

    def add_invoice(self, checkout_form_id: str, file_name: str, number: str | None) -> str:
        body: dict[str, object] = {"file": {"name": file_name}}
        if number:
            body["invoiceNumber"] = number
        path = f"/order/checkout-forms/{_segment(checkout_form_id)}/invoices"
        return str(self.request("POST", path, json_body=body, language=EN).json()["id"])

    def upload_invoice_file(self, checkout_form_id: str, invoice_id: str, pdf: bytes) -> None:
        form, invoice = _segment(checkout_form_id), _segment(invoice_id)
        path = f"/order/checkout-forms/{form}/invoices/{invoice}/file"
        self.request("PUT", path, content=pdf, content_type="application/pdf", language=EN)
