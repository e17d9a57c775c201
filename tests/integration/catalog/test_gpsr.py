"""GPSR per product on the emulator: each product's responsible producer, person and safety text reach its
offer; a product missing them waits with the command that fixes it and is published once the seller maps
its brand, with no new shop event. The seller requires a producer on every offer (`OFFER_SETTINGS`)."""

from __future__ import annotations

import json

import pytest

from allegro_sync.contracts.allegro_errors import AllegroValidationError
from allegro_sync.contracts.catalog import LinkStatus
from tests.integration.catalog.conftest import ACCOUNT, SELLER, CatalogStack, upsert

pytestmark = pytest.mark.integration

ACME = (
    "--name",
    "Acme Toys GmbH",
    "--trade-name",
    "Acme Toys Europe GmbH",
    "--country",
    "DE",
    "--street",
    "Hauptstr. 1",
    "--postal-code",
    "10115",
    "--city",
    "Berlin",
    "--email",
    "safety@acme.example",
    "--safety-text",
    "Nie dla dzieci poniżej 3 lat.",
)


@pytest.fixture(scope="module")
def catalog_env() -> dict[str, str]:
    return {"OFFER_SETTINGS": json.dumps({"require_responsible_producer": True})}


def _gpsr(stack: CatalogStack, sku: str) -> dict[str, object]:
    element: dict[str, object] = stack.offer(sku)["productSet"][0]
    return {k: v for k, v in element.items() if k not in {"product", "quantity"}}


def test_the_producer_named_in_a_product_attribute_goes_on_its_offer(stack: CatalogStack) -> None:
    seller = stack.emulator.seller_id(SELLER)
    zelmer = stack.emulator.marketplace.add_responsible(seller, "responsibleProducers", "Zelmer")
    attributes = {
        "Stan": "Nowy",
        "Producent": "Zelmer",
        "Informacje o bezpieczeństwie": "Nie zanurzać w wodzie.",
    }

    stack.publish(upsert("GPSR-ATTR", attributes=attributes))

    link = stack.catalog.link("GPSR-ATTR", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED, link
    assert _gpsr(stack, "GPSR-ATTR") == {
        "responsibleProducer": {"id": zelmer},
        "safetyInformation": {"type": "TEXT", "description": "Nie zanurzać w wodzie."},
    }
    assert stack.emulator.violations == []


def test_a_product_without_a_producer_waits_and_is_published_once_its_brand_is_mapped(
    stack: CatalogStack,
) -> None:
    stack.publish(upsert("GPSR-ACME-1", attributes={"Stan": "Nowy", "Marka": "Acme"}))
    stack.publish(upsert("GPSR-ACME-2", attributes={"Stan": "Nowy", "Marka": "ACME "}))

    waiting = stack.catalog.link("GPSR-ACME-1", ACCOUNT)
    assert waiting is not None
    assert waiting.status is LinkStatus.WAITING
    shown = " ".join(stack.cli("products", "status", "GPSR-ACME-1").output.split())
    assert "no responsible producer for brand 'Acme' (set one: allegro-sync producers map 'Acme'" in shown
    assert not stack.offers("GPSR-ACME-1")

    result = stack.cli("producers", "map", "Acme", *ACME)

    assert result.exit_code == 0, result.output
    for sku in ("GPSR-ACME-1", "GPSR-ACME-2"):
        link = stack.catalog.link(sku, ACCOUNT)
        assert link is not None
        assert link.status is LinkStatus.PUBLISHED, (sku, link)
    producers = stack.emulator.marketplace.responsible(
        stack.emulator.seller_id(SELLER), "responsibleProducers"
    )
    acme = [p for p in producers if p["name"] == "Acme Toys GmbH"]
    assert len(acme) == 1  # one producer on the account for every product of the brand
    assert acme[0]["producerData"]["address"]["countryCode"] == "DE"
    for sku in ("GPSR-ACME-1", "GPSR-ACME-2"):
        assert _gpsr(stack, sku) == {
            "responsibleProducer": {"id": acme[0]["id"]},
            "safetyInformation": {"type": "TEXT", "description": "Nie dla dzieci poniżej 3 lat."},
        }
    listed = stack.cli("producers", "list")
    assert "Acme Toys GmbH" in listed.output


def test_a_producer_outside_the_eu_needs_a_responsible_person(stack: CatalogStack) -> None:
    far = [a if a != "DE" else "CN" for a in ACME]
    assert stack.cli("producers", "map", "Shenzhen Fun", *far, "--no-publish").exit_code == 0
    stack.publish(upsert("GPSR-FAR", attributes={"Stan": "Nowy", "Marka": "Shenzhen Fun"}))
    shown = " ".join(stack.cli("products", "status", "GPSR-FAR").output.split())
    assert "outside the EU and no responsible person is set" in shown

    person = ("--person-name", "Importer PL", "--person-country", "PL", "--person-street", "Prosta 1")
    person += ("--person-postal-code", "00-001", "--person-city", "Warszawa", "--person-email", "a@b.pl")
    assert stack.cli("producers", "map", "Shenzhen Fun", *far, *person).exit_code == 0

    link = stack.catalog.link("GPSR-FAR", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED, link
    persons = stack.emulator.marketplace.responsible(stack.emulator.seller_id(SELLER), "responsiblePersons")
    assert _gpsr(stack, "GPSR-FAR")["responsiblePerson"] == {"id": persons[0]["id"]}


def test_an_offer_naming_a_producer_the_account_does_not_have_is_refused(stack: CatalogStack) -> None:
    client = stack.as_seller(ACCOUNT)
    with pytest.raises(AllegroValidationError, match="does not exist"):
        client.request(
            "POST",
            "/sale/product-offers",
            json_body={
                "name": "Czajnik elektryczny stalowy 1,7 l",
                "category": {"id": "101"},
                "productSet": [
                    {
                        "product": {"name": "Czajnik elektryczny stalowy", "category": {"id": "101"}},
                        "responsibleProducer": {"type": "ID", "id": "7a5c0a4e-0000-4000-8000-000000000000"},
                    }
                ],
                "sellingMode": {"price": {"amount": "99.00", "currency": "PLN"}},
                "stock": {"available": 1},
            },
        )


def test_bad_producer_input_is_refused_with_the_field_named_and_nothing_stored(stack: CatalogStack) -> None:
    no_contact = [a for a in ACME if a not in ("--email", "safety@acme.example")]
    bad_country = [a if a != "DE" else "Germany" for a in ACME]

    without = stack.cli("producers", "map", "Bad Brand", *no_contact)
    country = stack.cli("producers", "map", "Bad Brand", *bad_country)

    assert without.exit_code == 1
    assert "--email or --form-url" in without.output
    assert country.exit_code == 1
    assert "country_code" in country.output
    assert "Bad Brand" not in stack.cli("producers", "list").output
