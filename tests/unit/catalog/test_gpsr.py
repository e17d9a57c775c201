"""GPSR per product, decided without Allegro: which producer a product gets, and that a producer is created
on an account exactly once even when Allegro's answer to the create is lost and the event is retried."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from allegro_sync.contracts.allegro_errors import AllegroUnavailable
from allegro_sync.contracts.gpsr import (
    NewResponsiblePerson,
    NewResponsibleProducer,
    ProducerMapping,
    ResponsibleEntity,
)
from allegro_sync.services.publishing.gpsr import GpsrResolver, Kind
from allegro_sync.services.publishing.outcomes import Waiting
from allegro_sync.services.publishing.settings import OfferSettings
from tests.fixtures.products import product_upsert


class FakeAllegro:
    """The account's producers; `lose_next_answer`: the create happens, its answer never arrives."""

    def __init__(self) -> None:
        self.producers: list[ResponsibleEntity] = []
        self.lists = 0
        self.lose_next_answer = False

    def responsible_producers(self) -> list[ResponsibleEntity]:
        self.lists += 1
        return list(self.producers)

    def create_responsible_producer(self, producer: NewResponsibleProducer) -> ResponsibleEntity:
        made = ResponsibleEntity(id=f"p-{len(self.producers) + 1}", name=producer.name)
        self.producers.append(made)
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise AllegroUnavailable("Allegro unreachable: POST /sale/responsible-producers timed out")
        return made

    def responsible_persons(self) -> list[ResponsibleEntity]:
        return []

    def create_responsible_person(self, person: NewResponsiblePerson) -> ResponsibleEntity:
        raise AssertionError("no person in these tests")


class Ids:
    def __init__(self) -> None:
        self.known: dict[tuple[str, str, str], str] = {}

    def get(self, account: str, kind: Kind, name: str) -> str | None:
        return self.known.get((account, kind, name))

    def put(self, account: str, kind: Kind, name: str, ident: str) -> None:
        self.known[(account, kind, name)] = ident


class Directory:
    def __init__(self, *mappings: ProducerMapping) -> None:
        self.mappings = list(mappings)

    def producer_mappings(self, account: str) -> list[ProducerMapping]:
        return [m for m in self.mappings if m.account in (account, "*")]


def _acme(account: str = "*") -> ProducerMapping:
    """What `producers map Acme --name 'Acme Toys GmbH' ... --safety-text ...` stores."""
    address = {"country_code": "DE", "street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin"}
    data = {"trade_name": "Acme Toys Europe GmbH", "address": address, "contact": {"email": "s@acme.example"}}
    return ProducerMapping.model_validate(
        {
            "brand": "Acme",
            "account": account,
            "producer": {"name": "Acme Toys GmbH", "producer_data": data},
            "safety_text": "Nie dla dzieci poniżej 3 lat.",
        }
    )


def _uncached(_: str, read: Callable[[], Any]) -> Any:
    return read()


def _resolver(ids: Ids, *mappings: ProducerMapping, require: bool = True) -> GpsrResolver:
    settings = OfferSettings(require_responsible_producer=require)
    return GpsrResolver(settings, Directory(*mappings), ids, _uncached)


def test_a_producer_whose_create_answer_was_lost_is_found_by_the_retry_not_created_again() -> None:
    allegro, ids = FakeAllegro(), Ids()
    allegro.lose_next_answer = True
    resolver = _resolver(ids, _acme())
    product = product_upsert("TOY-1", attributes={"Marka": "Acme"})

    with pytest.raises(AllegroUnavailable):
        resolver.safety(allegro, "shop1", product)  # SQS delivers the event again
    first = resolver.safety(allegro, "shop1", product)
    again = resolver.safety(allegro, "shop1", product_upsert("TOY-2", attributes={"Brand": "acme"}))

    assert [p.name for p in allegro.producers] == ["Acme Toys GmbH"]
    assert first.responsible_producer is not None
    assert first.responsible_producer.id == "p-1"
    assert again == first
    assert allegro.lists == 2  # the retry looked it up; from then on the cached id is used


def test_each_account_gets_its_own_producer_once() -> None:
    ids = Ids()
    one, two = FakeAllegro(), FakeAllegro()
    resolver = _resolver(ids, _acme())
    for _ in range(2):
        resolver.safety(one, "shop1", product_upsert("TOY-1", attributes={"Marka": "Acme"}))
        resolver.safety(two, "shop2", product_upsert("TOY-1", attributes={"Marka": "Acme"}))

    assert len(one.producers) == 1
    assert len(two.producers) == 1


def test_the_accounts_own_mapping_wins_over_the_shared_one() -> None:
    own = _acme("shop1").model_copy(update={"safety_text": "Tylko dla shop1."})
    safety = _resolver(Ids(), _acme(), own).safety(
        FakeAllegro(), "shop1", product_upsert("TOY-1", attributes={"Marka": "Acme"})
    )

    assert safety.safety_information is not None
    assert safety.safety_information.description == "Tylko dla shop1."


def test_a_product_safety_attribute_wins_over_the_brands_text() -> None:
    attributes = {"Marka": "Acme", "Safety information": "Zawiera małe części."}
    safety = _resolver(Ids(), _acme()).safety(
        FakeAllegro(), "shop1", product_upsert("T", attributes=attributes)
    )

    assert safety.safety_information is not None
    assert safety.safety_information.description == "Zawiera małe części."


def test_without_a_mapping_the_product_waits_with_the_command_that_fixes_it() -> None:
    with pytest.raises(Waiting) as waiting:
        _resolver(Ids()).safety(FakeAllegro(), "shop1", product_upsert("T", attributes={"Marka": "Acme"}))

    assert "no responsible producer for brand 'Acme'" in str(waiting.value)
    assert "allegro-sync producers map 'Acme'" in str(waiting.value)


def test_when_the_seller_does_not_require_a_producer_a_product_without_one_is_listed_as_before() -> None:
    safety = _resolver(Ids(), require=False).safety(
        FakeAllegro(), "shop1", product_upsert("T", attributes={"Marka": "Acme"})
    )

    assert safety.to_json() == {}
