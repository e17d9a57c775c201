"""The seller's EU product-safety data and offer defaults (OFFER_SETTINGS) reach Allegro in a body the
emulator accepts under Allegro's spec (the emulator fixture fails the module on any spec violation)."""

from __future__ import annotations

import json

import pytest

from allegro_sync.contracts.catalog import LinkStatus
from tests.integration.catalog.conftest import ACCOUNT, SELLER, CatalogStack, upsert

pytestmark = pytest.mark.integration

SETTINGS = {
    "responsible_producer": {"type": "NAME", "name": "Sony Europe B.V."},
    "responsible_person": {"name": "Importer Polska"},
    "safety_information": "Nie używać podczas jazdy. Chronić przed wilgocią.",
    "offer_defaults": {"afterSalesServices": {"returnPolicy": {"name": "Zwroty 30 dni"}}},
}


@pytest.fixture(scope="module")
def catalog_env() -> dict[str, str]:
    return {"OFFER_SETTINGS": json.dumps(SETTINGS)}


def test_gpsr_data_and_offer_defaults_are_sent_with_a_new_offer(stack: CatalogStack) -> None:
    # Allegro refuses a producer/person name the account does not have (#10896): the seller set them up.
    seller = stack.emulator.seller_id(SELLER)
    producer = stack.emulator.marketplace.add_responsible(seller, "responsibleProducers", "Sony Europe B.V.")
    person = stack.emulator.marketplace.add_responsible(seller, "responsiblePersons", "Importer Polska")
    stack.publish(upsert("GPSR-1"))

    link = stack.catalog.link("GPSR-1", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED, link.reasons
    offer = stack.offer("GPSR-1")
    assert offer["afterSalesServices"] == {"returnPolicy": {"name": "Zwroty 30 dni"}}
    gpsr = offer["productSet"][0]
    assert gpsr["responsibleProducer"] == {"id": producer}
    assert gpsr["responsiblePerson"] == {"id": person}
    assert gpsr["safetyInformation"]["description"].startswith("Nie używać")
    assert stack.emulator.violations == []
