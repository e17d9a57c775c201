"""Responsible producers and persons per seller, and their use on offers (allegro-behaviours.md, GPSR)."""

from __future__ import annotations

from allegro_sync.emulator.marketplace import Marketplace
from tests.unit.emulator.conftest import OTHER_SELLER, SONY, Api, create_offer, error_codes, offer_body

PRODUCER = {
    "name": "Sony Europe",
    "producerData": {
        "tradeName": "Sony Europe B.V.",
        "address": {
            "countryCode": "NL",
            "street": "Taurusavenue 16",
            "postalCode": "2132 LS",
            "city": "Hoofddorp",
        },
        "contact": {"email": "gpsr@sony.example"},
    },
}


def _producer(api: Api) -> str:
    made = api.call("POST", "/sale/responsible-producers", PRODUCER)
    assert made.status == 201, made.body
    return str(made.body["id"])


def test_a_seller_creates_lists_and_reads_its_own_producers(api: Api) -> None:
    ident = _producer(api)

    listed = api.get("/sale/responsible-producers")
    assert listed.body["totalCount"] == 1
    assert [p["name"] for p in listed.body["responsibleProducers"]] == ["Sony Europe"]
    assert (
        api.get(f"/sale/responsible-producers/{ident}").body["producerData"]["tradeName"]
        == "Sony Europe B.V."
    )
    other = api.as_seller(OTHER_SELLER)
    assert other.get("/sale/responsible-producers").body["totalCount"] == 0
    assert other.get(f"/sale/responsible-producers/{ident}").status == 404


def test_a_producer_without_any_contact_is_refused(api: Api) -> None:
    body = {**PRODUCER, "producerData": {**PRODUCER["producerData"], "contact": {"phoneNumber": "123"}}}  # type: ignore[dict-item]

    answer = api.call("POST", "/sale/responsible-producers", body)

    assert answer.status == 422
    assert api.get("/sale/responsible-producers").body["totalCount"] == 0


def test_an_offer_carries_the_sellers_producer_and_safety_text(api: Api) -> None:
    ident = _producer(api)
    element = {
        "product": {"id": SONY},
        "responsibleProducer": {"type": "ID", "id": ident},
        "safetyInformation": {"type": "TEXT", "description": "Chronić przed wilgocią."},
    }

    offer = create_offer(api, productSet=[element])

    shown = api.get(f"/sale/product-offers/{offer['id']}").body["productSet"][0]
    assert shown["responsibleProducer"] == {"id": ident}
    assert shown["safetyInformation"] == {"type": "TEXT", "description": "Chronić przed wilgocią."}


def test_another_sellers_producer_id_or_an_unknown_name_is_refused(api: Api) -> None:
    theirs = _producer(api.as_seller(OTHER_SELLER))
    by_id = {"product": {"id": SONY}, "responsibleProducer": {"type": "ID", "id": theirs}}
    by_name = {"product": {"id": SONY}, "responsibleProducer": {"type": "NAME", "name": "Nieznany"}}

    refused_id = api.call("POST", "/sale/product-offers", offer_body(productSet=[by_id]))
    refused_name = api.call("POST", "/sale/product-offers", offer_body(productSet=[by_name]))

    assert refused_id.status == 422
    assert refused_id.body["errors"][0]["path"] == "productSet[0].responsibleProducer.id"
    assert refused_name.status == 422
    assert error_codes(refused_name) == ["RESPONSIBLE_PRODUCER_NAME_DOES_NOT_EXIST"]


def test_where_gpsr_is_required_an_offer_without_producer_or_safety_is_refused(
    api: Api, market: Marketplace
) -> None:
    market.faults.gpsr_required = True

    refused = api.call("POST", "/sale/product-offers", offer_body())

    assert refused.status == 422
    assert error_codes(refused) == ["RESPONSIBLE_PRODUCER_NOT_SPECIFIED", "SAFETY_INFO_NOT_DEFINED"]
