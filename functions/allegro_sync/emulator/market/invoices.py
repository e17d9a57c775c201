"""Seller invoices on orders (`/order/checkout-forms/{id}/invoices` and `.../{invoiceId}/file`), per spec:
POST the metadata (201 with an id), then PUT the PDF (200). An order takes one seller invoice: a second
POST answers 409; a second file for the same invoice 409; an empty file 422; over 3 MB 413. An order whose
buyer did not ask for an invoice still takes one (the seller may always send it)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.common import Reject, body_object, iso, new_uuid, obj, ok
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import CheckoutForm, MarketState

MAX_FILE_BYTES = 3 * 1024 * 1024


def _form(st: MarketState, request: EmulatorRequest, form_id: str) -> CheckoutForm:
    form = st.checkout_forms.get(form_id)
    if form is None or form.seller_id != request.seller_id:
        raise Reject.one(404, "NOT_FOUND", f"Order {form_id} does not exist")
    return form


def list_invoices(st: MarketState, request: EmulatorRequest, form_id: str) -> EmulatorResponse:
    form = _form(st, request, form_id)
    return ok(
        {"invoices": copy.deepcopy(form.invoices), "hasExternalInvoices": False, "orderMode": "REGULAR"}
    )


def add_invoice(st: MarketState, request: EmulatorRequest, form_id: str) -> EmulatorResponse:
    form = _form(st, request, form_id)
    body = body_object(request)
    name = obj(body.get("file")).get("name")
    if not isinstance(name, str) or not name:
        raise Reject.one(422, "VALIDATION_ERROR", "file.name is required", path="file.name")
    if form.invoices:
        raise Reject.one(409, "INVOICE_ALREADY_EXISTS", f"Order {form_id} already has seller invoice")
    invoice: dict[str, Any] = {"id": new_uuid(st.rng), "createdAt": iso(st.now()), "file": {"name": name}}
    if isinstance(body.get("invoiceNumber"), str):
        invoice["invoiceNumber"] = body["invoiceNumber"]
    form.invoices.append(invoice)
    return ok({"id": invoice["id"]}, 201)


def upload_file(st: MarketState, request: EmulatorRequest, form_id: str, invoice_id: str) -> EmulatorResponse:
    form = _form(st, request, form_id)
    invoice = next((i for i in form.invoices if i["id"] == invoice_id), None)
    if invoice is None:
        raise Reject.one(404, "NOT_FOUND", f"Invoice {invoice_id} does not exist")
    if "uploadedAt" in invoice["file"]:
        raise Reject.one(409, "INVOICE_FILE_ALREADY_UPLOADED", "Invoice already has invoice file uploaded")
    if not request.raw_body:
        raise Reject.one(422, "EMPTY_FILE", "Uploaded file is empty")
    if len(request.raw_body) > MAX_FILE_BYTES:
        raise Reject.one(413, "FILE_TOO_LARGE", "The file is too large. Max file size is 3MB")
    invoice["file"]["uploadedAt"] = iso(st.now())
    return EmulatorResponse(200, None, {})
