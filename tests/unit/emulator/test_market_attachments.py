"""Offer attachments as GPSR safety information, and the bulk price/stock command, as the spec and
allegro-behaviours.md describe them ("GPSR safety information as an attachment", "Bulk price and stock")."""

from __future__ import annotations

import uuid

from allegro_sync.emulator.marketplace import Marketplace
from allegro_sync.emulator.types import EmulatorResponse
from tests.unit.emulator.conftest import OTHER_SELLER, SONY, Api, create_offer, error_codes, offer_body

PDF = b"%PDF-1.4 safety manual"
BETA = "application/vnd.allegro.beta.v1+json"


def _uploaded(api: Api, name: str = "bezpieczenstwo.pdf") -> str:
    declared = api.call(
        "POST", "/sale/offer-attachments", {"type": "SAFETY_INFORMATION_MANUAL", "file": {"name": name}}
    )
    assert declared.status == 201, declared.body
    assert "url" not in declared.body["file"]  # no file yet (#12075)
    ident = str(declared.body["id"])
    assert declared.headers["Location"].endswith(f"/sale/offer-attachments/{ident}")
    put = api.call("PUT", f"/sale/offer-attachments/{ident}", raw=PDF, content_type="application/pdf")
    assert put.status == 200, put.body
    assert put.body["file"]["url"]
    return ident


def _safety(*ids: str) -> dict[str, object]:
    return {"type": "ATTACHMENTS", "attachments": [{"id": i} for i in ids]}


def test_an_uploaded_safety_manual_goes_on_an_offer_as_its_safety_information(api: Api) -> None:
    ident = _uploaded(api)

    offer = create_offer(api, productSet=[{"product": {"id": SONY}, "safetyInformation": _safety(ident)}])

    shown = api.get(f"/sale/product-offers/{offer['id']}").body["productSet"][0]
    assert shown["safetyInformation"] == _safety(ident)
    assert api.get(f"/sale/offer-attachments/{ident}").body["type"] == "SAFETY_INFORMATION_MANUAL"
    assert api.as_seller(OTHER_SELLER).get(f"/sale/offer-attachments/{ident}").status == 403


def test_an_attachment_not_uploaded_or_another_sellers_is_refused_on_an_offer(api: Api) -> None:
    declared = api.call(
        "POST", "/sale/offer-attachments", {"type": "SAFETY_INFORMATION_MANUAL", "file": {"name": "a.pdf"}}
    )
    theirs = _uploaded(api.as_seller(OTHER_SELLER))

    for ident in (str(declared.body["id"]), theirs):
        refused = api.call(
            "POST",
            "/sale/product-offers",
            offer_body(productSet=[{"product": {"id": SONY}, "safetyInformation": _safety(ident)}]),
        )
        assert refused.status == 422
        assert refused.body["errors"][0]["path"] == "productSet[0].safetyInformation.attachments[0].id"


def test_a_safety_manual_in_the_offers_own_attachments_is_refused(api: Api) -> None:
    ident = _uploaded(api)

    refused = api.call("POST", "/sale/product-offers", offer_body(attachments=[{"id": ident}]))

    assert refused.status == 422
    assert "Invalid attachment type" in refused.body["errors"][0]["message"]


def test_a_file_of_the_wrong_type_is_refused(api: Api) -> None:
    declared = api.call("POST", "/sale/offer-attachments", {"type": "USER_MANUAL", "file": {"name": "a.pdf"}})
    wrong_name = api.call(
        "POST", "/sale/offer-attachments", {"type": "USER_MANUAL", "file": {"name": "a.png"}}
    )

    refused = api.call(
        "PUT", f"/sale/offer-attachments/{declared.body['id']}", raw=b"\x89PNG....", content_type="image/png"
    )

    assert wrong_name.status == 422
    assert refused.status == 415


def _bulk(api: Api, command_id: str, modifications: list[dict[str, object]]) -> EmulatorResponse:
    return api.call(
        "POST",
        "/sale/offer-bulk-modification-commands",
        {"commandId": command_id, "modifications": modifications},
        content_type=BETA,
        check_request=len(modifications) <= 25,  # more breaks the spec: the emulator must still refuse it
    )


def _stock(offer_id: str, value: int) -> dict[str, object]:
    return {"offerId": offer_id, "stock": {"changeType": "FIXED", "value": value}}


def test_one_bulk_command_sets_each_offer_its_own_stock_and_price(api: Api, market: Marketplace) -> None:
    first, second = create_offer(api)["id"], create_offer(api, external={"id": "SKU-2"})["id"]
    price = {
        "offerId": second,
        "prices": {"allegro-pl": {"changeType": "FIXED", "value": {"amount": "77.70", "currency": "PLN"}}},
    }
    command_id = str(uuid.uuid4())

    answer = _bulk(api, command_id, [_stock(first, 3), _stock(second, 9), price])
    tasks = api.get(f"/sale/offer-bulk-modification-commands/{command_id}/tasks").body["tasks"]

    assert answer.status == 201
    assert [(t["subject"]["offerId"], t["subject"]["field"], t["status"]) for t in tasks] == [
        (first, "stock", "SUCCESS"),
        (second, "stock", "SUCCESS"),
        (second, "prices", "SUCCESS"),
    ]
    assert market.offer(first)["stock"]["available"] == 3
    assert market.offer(second)["stock"]["available"] == 9
    assert market.offer(second)["sellingMode"]["price"]["amount"] == "77.70"
    assert api.get(f"/sale/offer-bulk-modification-commands/{command_id}").body["taskCount"]["success"] == 3
    again = _bulk(api, command_id, [_stock(first, 3)])
    assert again.status == 409


def test_a_bulk_element_with_both_stock_and_prices_or_over_25_elements_is_refused(api: Api) -> None:
    offer_id = create_offer(api)["id"]
    both = {
        **_stock(offer_id, 2),
        "prices": {"allegro-pl": {"changeType": "FIXED", "value": {"amount": "5.00", "currency": "PLN"}}},
    }

    mixed = _bulk(api, str(uuid.uuid4()), [both])
    too_many = _bulk(api, str(uuid.uuid4()), [_stock(str(7_000_000_000 + n), 1) for n in range(26)])
    zero = _bulk(api, str(uuid.uuid4()), [_stock(offer_id, 0)])

    assert error_codes(mixed) == ["INVALID_SINGLE_ELEMENT_IN_MODIFICATION"]
    assert too_many.status == 422
    assert error_codes(zero) == ["INCORRECT_QUANTITY_VALUE"]
