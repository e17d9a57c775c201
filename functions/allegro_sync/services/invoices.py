"""The shop's invoice onto the Allegro order, once: metadata (POST), then the PDF (PUT).

No record of our own is needed: the order's invoice list on Allegro is the state. A retry lists it first: an
invoice with an uploaded file means done; one without a file (our POST arrived, the PUT did not) gets the
file; none gets both. Allegro refuses a second seller invoice (409), the last line if two attempts race.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from allegro_sync.contracts.allegro import CheckoutForm
from allegro_sync.contracts.invoices import OrderInvoice
from allegro_sync.contracts.messages import ShopOrderStatus

MAX_BYTES = 3 * 1024 * 1024  # spec: "Max file size is 3MB"


class InvoiceApi(Protocol):
    def checkout_form(self, checkout_form_id: str) -> CheckoutForm: ...

    def order_invoices(self, checkout_form_id: str) -> list[OrderInvoice]: ...

    def add_invoice(self, checkout_form_id: str, file_name: str, number: str | None) -> str: ...

    def upload_invoice_file(self, checkout_form_id: str, invoice_id: str, pdf: bytes) -> None: ...


class InvoiceRefused(ValueError):
    """The file cannot be an invoice on Allegro (empty, too large, not a PDF): nothing was sent."""


@dataclass(frozen=True)
class InvoiceResult:
    checkout_form_id: str
    outcome: Literal["uploaded", "already", "not-asked"]
    invoice_id: str | None = None


class Invoices:
    def __init__(self, api: InvoiceApi) -> None:
        self._api = api

    def upload(
        self, checkout_form_id: str, pdf: bytes, *, number: str | None = None, force: bool = False
    ) -> InvoiceResult:
        """Upload when the buyer asked for an invoice (the form's `invoice.required`), or when `force`d."""
        _refuse_unless_pdf(pdf)
        return self._attach(checkout_form_id, lambda: pdf, number=number, ask=not force)

    def upload_from(self, update: ShopOrderStatus, fetch: Callable[[str], bytes]) -> InvoiceResult:
        """The shop's invoice by URL: fetched only when the buyer asked and it is not on the order yet."""
        url = update.invoice_url
        if not url:
            return InvoiceResult(update.checkout_form_id, "not-asked")

        def fetched() -> bytes:
            pdf = fetch(url)
            _refuse_unless_pdf(pdf)
            return pdf

        return self._attach(update.checkout_form_id, fetched, number=update.invoice_number, ask=True)

    def _attach(
        self, checkout_form_id: str, pdf: Callable[[], bytes], *, number: str | None, ask: bool
    ) -> InvoiceResult:
        """The one path of both uploads: `pdf()` is called only once the order is known to need the file."""
        if ask and not _asked(self._api.checkout_form(checkout_form_id)):
            return InvoiceResult(checkout_form_id, "not-asked")
        present = self._api.order_invoices(checkout_form_id)
        done = next((i for i in present if i.file is not None and i.file.uploaded_at), None)
        if done is not None:
            return InvoiceResult(checkout_form_id, "already", done.id)
        content = pdf()
        waiting = next(iter(present), None)
        invoice_id = waiting.id if waiting is not None else None
        if invoice_id is None:
            invoice_id = self._api.add_invoice(checkout_form_id, f"{number or checkout_form_id}.pdf", number)
        self._api.upload_invoice_file(checkout_form_id, invoice_id, content)
        return InvoiceResult(checkout_form_id, "uploaded", invoice_id)

    def status(self, checkout_form_id: str) -> str:
        """What `orders show` says: asked or not, and whether the file is on the order."""
        asked = _asked(self._api.checkout_form(checkout_form_id))
        present = self._api.order_invoices(checkout_form_id)
        uploaded = any(i.file is not None and i.file.uploaded_at for i in present)
        wanted = "asked for" if asked else "not asked for"
        return f"invoice {wanted}: {'uploaded' if uploaded else 'not uploaded'}"


def _refuse_unless_pdf(pdf: bytes) -> None:
    if not pdf.startswith(b"%PDF") or len(pdf) > MAX_BYTES:
        raise InvoiceRefused(f"an invoice must be a PDF of at most 3 MB, got {len(pdf)} bytes")


def _asked(form: CheckoutForm) -> bool:
    extra = form.model_extra or {}
    invoice = extra.get("invoice")
    return isinstance(invoice, dict) and invoice.get("required") is True
