"""What the typed offer methods send: the exact JSON of POST/PATCH /sale/product-offers."""

from __future__ import annotations

import json
from typing import Any

import httpx

from allegro_sync.contracts.allegro import PriceIn
from allegro_sync.contracts.allegro_requests import (
    CatalogueProduct,
    NewOffer,
    NewProduct,
    OfferChanges,
    ProductSafety,
    ResponsiblePerson,
)
from allegro_sync.contracts.offer_content import (
    Description,
)
from tests.unit.client.fakes import FakeAllegro, make_client, reply
from tests.unit.client.samples import BRAND, CONDITION, DESCRIPTION, IMAGE, SAFETY


def sent(call: Any) -> tuple[dict[str, Any], httpx.Request]:
    allegro = FakeAllegro()
    allegro.route("POST", "/sale/product-offers", lambda _: reply(201, {"id": "77"}))
    allegro.route("PATCH", "/sale/product-offers/77", lambda _: reply(200, {"id": "77"}))
    assert call(make_client(allegro)).id == "77"
    (request,) = allegro.requests
    return json.loads(request.content), request


def test_a_new_offer_of_a_catalogue_product_carries_gpsr_data_and_the_sellers_defaults() -> None:
    offer = NewOffer(
        name="Słuchawki Sony WH-1000XM5 czarne",
        category_id="101",
        product=CatalogueProduct("6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e01", [BRAND]),
        parameters=[CONDITION],
        price=PriceIn(amount="120.00"),
        stock=5,
        images=[IMAGE],
        external_id="SONY",
        active=True,
        description=DESCRIPTION,
        safety=SAFETY,
        defaults={"delivery": {"shippingRates": {"name": "Standard"}}, "name": "never wins"},
    )

    body, request = sent(lambda client: client.create_offer(offer))

    assert request.method == "POST"
    assert body == {
        "delivery": {"shippingRates": {"name": "Standard"}},
        "name": "Słuchawki Sony WH-1000XM5 czarne",
        "category": {"id": "101"},
        "productSet": [
            {
                "product": {
                    "id": "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e01",
                    "parameters": [{"id": "248811", "values": ["Sony"]}],
                },
                "responsibleProducer": {"type": "NAME", "name": "Sony Europe"},
                "responsiblePerson": {"id": "33960380-98fe-4b3d-b69e-b261526f2730"},
                "safetyInformation": {"type": "TEXT", "description": "Trzymać z dala od wody."},
            }
        ],
        "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
        "sellingMode": {"format": "BUY_NOW", "price": {"amount": "120.00", "currency": "PLN"}},
        "stock": {"available": 5, "unit": "UNIT"},
        "images": [IMAGE],
        "external": {"id": "SONY"},
        "publication": {"status": "ACTIVE"},
        "description": {
            "sections": [
                {"items": [{"type": "TEXT", "content": "<p>Cisza.</p>"}, {"type": "IMAGE", "url": IMAGE}]}
            ]
        },
    }


def test_a_new_product_is_proposed_with_the_offers_images_and_an_empty_description_is_left_out() -> None:
    offer = NewOffer(
        name="Słuchawki douszne Sony czarne",
        category_id="101",
        product=NewProduct("Słuchawki douszne Sony czarne", "101", [BRAND]),
        parameters=[CONDITION],
        price=PriceIn(amount="99.99"),
        stock=0,
        images=[IMAGE],
        external_id="EAR",
        active=False,
        description=Description(sections=[]),
    )

    body, _ = sent(lambda client: client.create_offer(offer))

    assert body["productSet"] == [
        {
            "product": {
                "name": "Słuchawki douszne Sony czarne",
                "category": {"id": "101"},
                "parameters": [{"id": "248811", "values": ["Sony"]}],
                "images": [IMAGE],
            }
        }
    ]
    assert body["publication"] == {"status": "INACTIVE"}
    assert "description" not in body


def test_an_edit_sends_only_the_given_fields_stock_and_activation_together() -> None:
    changes = OfferChanges(
        price=PriceIn(amount="170.00"),
        parameters=[CONDITION],
        product=CatalogueProduct("6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e01"),
        safety=ProductSafety(responsible_person=ResponsiblePerson(name="Importer Polska")),
        stock=4,
        publication="ACTIVE",
    )

    body, request = sent(lambda client: client.update_offer("77", changes))

    assert (request.method, request.url.path) == ("PATCH", "/sale/product-offers/77")
    assert body == {
        "sellingMode": {"price": {"amount": "170.00", "currency": "PLN"}},
        "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
        "productSet": [
            {
                "product": {"id": "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e01"},
                "responsiblePerson": {"name": "Importer Polska"},
            }
        ],
        "stock": {"available": 4},
        "publication": {"status": "ACTIVE"},
    }


def test_ending_an_offer_is_one_publication_field() -> None:
    body, _ = sent(lambda client: client.update_offer("77", OfferChanges(publication="ENDED")))
    assert body == {"publication": {"status": "ENDED"}}
