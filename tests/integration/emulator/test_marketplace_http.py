"""The marketplace behind the real emulator server: HTTP, OAuth tokens and strict spec checks together.

The `emulator` fixture fails a test on any exchange outside Allegro's spec, so these flows also prove
the marketplace's answers survive the server's validation, headers and encoding.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from allegro_sync.emulator import DEFAULT_USER_AGENT, Emulator

UA = {"User-Agent": DEFAULT_USER_AGENT}  # Allegro refuses API calls without one (#13126)

pytestmark = pytest.mark.integration

MEDIA = "application/vnd.allegro.public.v1+json"
SONY = "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e01"


def _client(emulator: Emulator, token: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA, "Content-Type": MEDIA, **UA}
    return httpx.Client(base_url=emulator.base_url, headers=headers)


@pytest.fixture
def seller(emulator: Emulator) -> Iterator[httpx.Client]:
    emulator.create_seller("sklep-http")
    with _client(emulator, str(emulator.issue_tokens("sklep-http")["access_token"])) as client:
        yield client


def offer_body() -> dict[str, Any]:
    return {
        "name": "Słuchawki Sony WH-1000XM5 czarne",
        "productSet": [{"product": {"id": SONY}}],
        "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
        "sellingMode": {"format": "BUY_NOW", "price": {"amount": "1299.00", "currency": "PLN"}},
        "stock": {"available": 2, "unit": "UNIT"},
        "external": {"id": "SKU-HTTP-1"},
        "publication": {"status": "ACTIVE"},
    }


def test_offer_sale_and_fulfillment_over_http(emulator: Emulator, seller: httpx.Client) -> None:
    created = seller.post("/sale/product-offers", json=offer_body())
    assert created.status_code == 201, created.text
    offer_id = created.json()["id"]
    start = seller.get("/order/event-stats").json()
    assert "latestEvent" not in start

    form_id = emulator.marketplace.buy(offer_id, 2)
    emulator.marketplace.pay(form_id)
    journal = seller.get("/order/events", params={"limit": 100}).json()["events"]
    assert [e["type"] for e in journal] == ["BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING"]
    assert journal[0]["order"]["lineItems"][0]["offer"]["external"] == {"id": "SKU-HTTP-1"}
    offer = seller.get(f"/sale/product-offers/{offer_id}").json()
    assert offer["publication"]["status"] == "ENDED"
    assert offer["publication"]["endedBy"] == "EMPTY_STOCK"

    form = seller.get(f"/order/checkout-forms/{form_id}").json()
    put = seller.put(
        f"/order/checkout-forms/{form_id}/fulfillment",
        params={"checkoutForm.revision": form["revision"]},
        json={"status": "SENT"},
    )
    assert put.status_code == 204
    again = seller.put(
        f"/order/checkout-forms/{form_id}/fulfillment",
        params={"checkoutForm.revision": form["revision"]},
        json={"status": "PICKED_UP"},
    )
    assert again.status_code == 409


def test_async_operation_and_command_over_http(emulator: Emulator, seller: httpx.Client) -> None:
    emulator.set_faults(async_offer_share=1.0, offer_operation_seconds=5.0, command_delay_seconds=2.0)
    created = seller.post("/sale/product-offers", json=offer_body())
    assert created.status_code == 202
    operation = created.headers["Location"]
    assert seller.get(operation).status_code == 202
    emulator.advance(6)
    done = seller.get(operation)
    assert done.status_code == 303
    offer_id = created.json()["id"]
    assert done.headers["Location"].endswith(f"/sale/product-offers/{offer_id}")

    path = f"/sale/offer-quantity-change-commands/{uuid.uuid4()}"
    body = {
        "modification": {"changeType": "FIXED", "value": 7},
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer_id}]}],
    }
    assert seller.put(path, json=body).json()["taskCount"]["total"] == 0
    emulator.advance(3)
    assert seller.get(path).json()["taskCount"] == {"total": 1, "success": 1, "failed": 0}
    assert seller.put(path, json=body).status_code == 409
    assert seller.get(f"/sale/product-offers/{offer_id}").json()["stock"]["available"] == 7


def test_app_token_reaches_public_data_only(emulator: Emulator) -> None:
    with _client(emulator, emulator.app_token()) as app:
        assert app.get("/sale/categories").status_code == 200
        assert app.get("/sale/categories/201/parameters").status_code == 200
        assert app.get("/order/carriers").status_code == 200
        assert app.get("/sale/offers").status_code == 403
        assert app.get("/order/events").status_code == 403


def test_private_account_cannot_create_offers(emulator: Emulator) -> None:
    emulator.create_seller("osoba", company=False)
    with _client(emulator, str(emulator.issue_tokens("osoba")["access_token"])) as private:
        refused = private.post("/sale/product-offers", json=offer_body())
        assert refused.status_code == 403
        assert "company" in refused.json()["errors"][0]["message"]


def test_image_upload_raw_and_by_url(emulator: Emulator, seller: httpx.Client) -> None:
    raw = seller.post("/sale/images", content=b"\x89PNG\r\n\x1a\nfake", headers={"Content-Type": "image/png"})
    assert raw.status_code == 201, raw.text
    by_url = seller.post("/sale/images", json={"url": "https://shop.example/p/1.jpg"})
    assert by_url.status_code == 201, by_url.text
    body = offer_body() | {"images": [raw.json()["location"], by_url.json()["location"]]}
    created = seller.post("/sale/product-offers", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["images"] == body["images"]
