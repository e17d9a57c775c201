"""The shop's invoice reaches the Allegro order once, whatever is retried; only when the buyer asked."""

from __future__ import annotations

import pytest

from allegro_sync.contracts.allegro import CheckoutForm
from allegro_sync.contracts.invoices import InvoiceFile, OrderInvoice
from allegro_sync.services.invoices import InvoiceRefused, Invoices

PDF = b"%PDF-1.4 FV 1/2026"


class FakeAllegro:
    def __init__(self, *, asked: bool = True) -> None:
        self.asked = asked
        self.invoices: list[OrderInvoice] = []
        self.posts = 0
        self.puts = 0
        self.lose_put = False

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm:
        return CheckoutForm.model_validate(
            {"id": checkout_form_id, "status": "READY_FOR_PROCESSING", "invoice": {"required": self.asked}}
        )

    def order_invoices(self, checkout_form_id: str) -> list[OrderInvoice]:
        return list(self.invoices)

    def add_invoice(self, checkout_form_id: str, file_name: str, number: str | None) -> str:
        self.posts += 1
        self.invoices.append(OrderInvoice(id=f"inv-{self.posts}", file=InvoiceFile(name=file_name)))
        return f"inv-{self.posts}"

    def upload_invoice_file(self, checkout_form_id: str, invoice_id: str, pdf: bytes) -> None:
        if self.lose_put:
            self.lose_put = False
            raise ConnectionError("the function died before the PUT")
        self.puts += 1
        [found] = [i for i in self.invoices if i.id == invoice_id]
        found.file = InvoiceFile(
            name=found.file.name if found.file else None, uploadedAt="2026-12-06T12:00:00Z"
        )


def test_an_asked_for_invoice_is_uploaded_once() -> None:
    api = FakeAllegro()
    invoices = Invoices(api)

    first = invoices.upload("f1", PDF, number="FV 1/2026")
    again = invoices.upload("f1", PDF, number="FV 1/2026")

    assert (first.outcome, again.outcome) == ("uploaded", "already")
    assert (api.posts, api.puts) == (1, 1)
    assert invoices.status("f1") == "invoice asked for: uploaded"


def test_a_crash_between_the_metadata_and_the_file_sends_the_file_to_the_same_invoice() -> None:
    api = FakeAllegro()
    api.lose_put = True
    invoices = Invoices(api)

    with pytest.raises(ConnectionError):
        invoices.upload("f1", PDF)
    result = invoices.upload("f1", PDF)

    assert result.invoice_id == "inv-1"
    assert (api.posts, api.puts) == (1, 1)


def test_not_asked_for_is_not_sent_unless_forced_and_a_non_pdf_never() -> None:
    api = FakeAllegro(asked=False)
    invoices = Invoices(api)

    assert invoices.upload("f1", PDF).outcome == "not-asked"
    with pytest.raises(InvoiceRefused):
        invoices.upload("f1", b"<html>", force=True)
    assert api.posts == 0
    assert invoices.upload("f1", PDF, force=True).outcome == "uploaded"
