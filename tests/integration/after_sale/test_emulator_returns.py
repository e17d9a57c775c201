"""The emulated customer returns, payment refunds and commission refund claims, over HTTP (issue 15, item 3).

Every exchange is checked against the official spec by the `emulator` fixture."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from allegro_sync.emulator import DEFAULT_USER_AGENT, Emulator
from tests.integration.emulator.test_marketplace_http import offer_body

pytestmark = pytest.mark.integration

MEDIA = "application/vnd.allegro.public.v1+json"
BETA = "application/vnd.allegro.beta.v1+json"


@pytest.fixture
def seller(emulator: Emulator) -> Iterator[httpx.Client]:
    emulator.create_seller("sklep-zwroty")
    token = emulator.issue_tokens("sklep-zwroty")["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA, "User-Agent": DEFAULT_USER_AGENT}
    with httpx.Client(base_url=emulator.base_url, headers=headers) as client:
        yield client


def _sold(
    emulator: Emulator, seller: httpx.Client, quantity: int = 2, *, paid: bool = True
) -> dict[str, Any]:
    body = offer_body()
    body["sellingMode"]["price"]["amount"] = "100.00"
    body["stock"]["available"] = 5
    created = seller.post("/sale/product-offers", json=body, headers={"Content-Type": MEDIA})
    assert created.status_code == 201, created.text
    form_id = emulator.marketplace.buy(created.json()["id"], quantity)
    if paid:
        emulator.marketplace.pay(form_id)
    return dict(seller.get(f"/order/checkout-forms/{form_id}").json())


def _beta(seller: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Accept": BETA, **({"Content-Type": BETA} if "json" in kwargs else {})}
    return seller.request(method, path, headers=headers, **kwargs)


def test_a_return_is_listed_after_the_last_seen_one_and_can_be_rejected_once(
    emulator: Emulator, seller: httpx.Client
) -> None:
    form = _sold(emulator, seller)
    line = form["lineItems"][0]["id"]
    first = emulator.marketplace.open_return(form["id"], {line: 1})
    second = emulator.marketplace.open_return(form["id"], {line: 1})
    with pytest.raises(ValueError, match="can still be returned"):
        emulator.marketplace.open_return(form["id"], {line: 1})  # both items are already on their way back

    assert seller.get("/order/customer-returns").status_code == 406  # the public type: beta only (#9800)
    listed = _beta(seller, "GET", "/order/customer-returns").json()
    assert [r["id"] for r in listed["customerReturns"]] == [first, second]
    after = _beta(seller, "GET", "/order/customer-returns", params={"from": first}).json()
    assert [r["id"] for r in after["customerReturns"]] == [second]
    assert after["customerReturns"][0]["items"][0]["quantity"] == 1

    emulator.marketplace.advance_return(first, "DELIVERED")
    shown = _beta(seller, "GET", f"/order/customer-returns/{first}").json()
    assert shown["status"] == "DELIVERED"

    reject = {"rejection": {"code": "ITEM_MISMATCH", "reason": "Not the item we sent"}}
    rejected = _beta(seller, "POST", f"/order/customer-returns/{second}/rejection", json=reject)
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["rejection"]["code"] == "ITEM_MISMATCH"
    again = _beta(seller, "POST", f"/order/customer-returns/{second}/rejection", json=reject)
    assert again.status_code == 422


def _refund(form: dict[str, Any], command_id: str, quantity: int) -> dict[str, Any]:
    return {
        "payment": {"id": form["payment"]["id"]},
        "order": {"id": form["id"]},
        "commandId": command_id,
        "reason": "REFUND",
        "lineItems": [{"id": form["lineItems"][0]["id"], "type": "QUANTITY", "quantity": quantity}],
    }


def test_a_refund_is_paid_once_per_command_and_never_beyond_what_was_paid(
    emulator: Emulator, seller: httpx.Client
) -> None:
    form = _sold(emulator, seller, 2)
    command = str(uuid.uuid4())
    post = {"headers": {"Content-Type": MEDIA}}
    first = seller.post("/payments/refunds", json=_refund(form, command, 1), **post)
    assert first.status_code == 200, first.text
    assert first.json()["totalValue"] == {"amount": "100.00", "currency": "PLN"}
    repeat = seller.post("/payments/refunds", json=_refund(form, command, 1), **post)
    assert repeat.json()["id"] == first.json()["id"]
    too_much = seller.post("/payments/refunds", json=_refund(form, str(uuid.uuid4()), 2), **post)
    assert too_much.status_code == 422  # one of the two items is refunded already
    assert "100.00" in too_much.text

    listed = seller.get("/payments/refunds", params={"order.id": form["id"]}).json()["refunds"]
    assert [(r["id"], r["status"]) for r in listed] == [(first.json()["id"], "SUCCESS")]


def test_a_commission_claim_needs_a_cancelled_or_unpaid_order_and_is_filed_once(
    emulator: Emulator, seller: httpx.Client
) -> None:
    paid = _sold(emulator, seller)
    body = {"lineItem": {"id": paid["lineItems"][0]["id"]}, "quantity": 2}
    post = {"headers": {"Content-Type": MEDIA}}
    assert seller.post("/order/refund-claims", json=body, **post).status_code == 400

    unpaid = _sold(emulator, seller, paid=False)
    emulator.marketplace.cancel(unpaid["id"], auto=True)
    body = {"lineItem": {"id": unpaid["lineItems"][0]["id"]}, "quantity": 2}
    created = seller.post("/order/refund-claims", json=body, **post)
    assert created.status_code == 201, created.text
    claim = seller.get(f"/order/refund-claims/{created.json()['id']}").json()
    assert claim["status"] == "IN_PROGRESS"
    assert claim["commission"] == {"amount": 20.0, "currency": "PLN"}
    twice = seller.post("/order/refund-claims", json=body, **post)
    assert twice.status_code == 422
    assert twice.json()["errors"][0]["code"] == "ClaimExistsException"


def test_with_the_claim_once_behaviour_off_the_spec_alone_files_a_second_claim(
    emulator: Emulator, seller: httpx.Client
) -> None:
    unpaid = _sold(emulator, seller, paid=False)
    emulator.marketplace.cancel(unpaid["id"], auto=True)
    emulator.set_faults(refund_claim_once=False)
    body = {"lineItem": {"id": unpaid["lineItems"][0]["id"]}, "quantity": 1}
    post = {"headers": {"Content-Type": MEDIA}}

    codes = [seller.post("/order/refund-claims", json=body, **post).status_code for _ in range(2)]

    assert codes == [201, 201]
