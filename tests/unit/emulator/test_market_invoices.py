"""Seller invoices on orders in the emulator: metadata, then the PDF; one invoice per order."""

from __future__ import annotations

from allegro_sync.emulator.marketplace import Marketplace
from tests.unit.emulator.conftest import Api, create_offer

PDF = b"%PDF-1.4 invoice"


def _order(api: Api, market: Marketplace) -> str:
    offer = create_offer(api)
    form = market.buy(offer["id"], 1)
    market.pay(form)
    return form


def test_an_invoice_is_added_then_its_file_uploaded_once(api: Api, market: Marketplace) -> None:
    form = _order(api, market)
    market.want_invoice(form)
    assert api.get(f"/order/checkout-forms/{form}").body["invoice"] == {"required": True}

    added = api.call("POST", f"/order/checkout-forms/{form}/invoices", {"file": {"name": "FV-1.pdf"}})
    invoice_id = added.body["id"]
    path = f"/order/checkout-forms/{form}/invoices/{invoice_id}/file"
    uploaded = api.call("PUT", path, raw=PDF, content_type="application/pdf")
    again = api.call("PUT", path, raw=PDF, content_type="application/pdf")
    second = api.call("POST", f"/order/checkout-forms/{form}/invoices", {"file": {"name": "FV-2.pdf"}})

    assert added.status == 201
    assert uploaded.status == 200
    assert again.status == 409
    assert second.status == 409
    [listed] = api.get(f"/order/checkout-forms/{form}/invoices").body["invoices"]
    assert listed["file"]["name"] == "FV-1.pdf"
    assert listed["file"]["uploadedAt"]


def test_an_empty_file_is_refused(api: Api, market: Marketplace) -> None:
    form = _order(api, market)
    invoice_id = api.call("POST", f"/order/checkout-forms/{form}/invoices", {"file": {"name": "a.pdf"}}).body[
        "id"
    ]

    empty = api.call(
        "PUT",
        f"/order/checkout-forms/{form}/invoices/{invoice_id}/file",
        raw=b"",
        content_type="application/pdf",
        check_request=False,
    )

    assert empty.status == 422
