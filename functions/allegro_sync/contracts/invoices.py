"""Seller invoices on Allegro orders (`CheckoutFormsOrderInvoices`, spec field names)."""

from __future__ import annotations

from pydantic import Field

from allegro_sync.contracts.allegro import AllegroResponse


class InvoiceFile(AllegroResponse):
    name: str | None = None
    uploaded_at: str | None = None


class OrderInvoice(AllegroResponse):
    id: str
    invoice_number: str | None = None
    file: InvoiceFile | None = None


class OrderInvoices(AllegroResponse):
    invoices: list[OrderInvoice] = Field(default_factory=list)
