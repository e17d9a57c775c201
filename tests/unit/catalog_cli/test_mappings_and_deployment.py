"""Mapping input as the seller types it, suggestions that never overwrite a choice, and where the CLI
finds the deployment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from allegro_sync.cli.deployment import DeploymentNotFound, find_environment, resource_variables
from allegro_sync.contracts.allegro import CategorySuggestion
from allegro_sync.contracts.catalog import ANY_ACCOUNT, CategoryMapping, ParameterMapping, StoredMapping
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.services.mapping_suggestions import (
    MappingInputError,
    parse_constant,
    parse_parameter,
    set_mapping,
    suggest_and_store,
    unmapped_categories,
)


class Store:
    def __init__(self, *mappings: StoredMapping) -> None:
        self.items = {(tuple(m.mapping.shop_path), m.account): m for m in mappings}

    def all_category_mappings(self) -> list[StoredMapping]:
        return list(self.items.values())

    def get_mapping(self, shop_path: Sequence[str], account: str = ANY_ACCOUNT) -> StoredMapping | None:
        return self.items.get((tuple(shop_path), account))

    def put_mapping(self, stored: StoredMapping) -> None:
        self.items[(tuple(stored.mapping.shop_path), stored.account)] = stored


class Allegro:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def matching_categories(self, name: str) -> list[CategorySuggestion]:
        self.asked.append(name)
        parent = CategorySuggestion(id="3", name="Kultura i rozrywka")
        return [CategorySuggestion(id="30", name="Książki i komiksy", parent=parent)]


def _product(sku: str, path: list[str], name: str = "Wiedźmin. Ostatnie życzenie") -> ProductUpsert:
    return ProductUpsert(
        delivery_id=f"d-{sku}",
        occurred_at=datetime(2026, 11, 27, tzinfo=UTC),
        sku=sku,
        name=name,
        price=Decimal(10),
        category_path=path,
    )


def _approved(path: list[str], category: str) -> StoredMapping:
    return StoredMapping(mapping=CategoryMapping(shop_path=path, allegro_category_id=category, approved=True))


def test_a_value_map_and_a_constant_are_written_the_way_a_seller_types_them() -> None:
    mapped = parse_parameter("Typ=219, nauszne:nauszne , na ucho:nauszne,dokanałowe:dokanałowe")
    constant = parse_constant("11323 = Nowy")

    assert mapped == ParameterMapping(
        parameter_id="219",
        shop_attribute="Typ",
        value_map={"nauszne": "nauszne", "na ucho": "nauszne", "dokanałowe": "dokanałowe"},
    )
    assert constant == ParameterMapping(parameter_id="11323", constant="Nowy")


@pytest.mark.parametrize("spec", ["Kolor", "=219", "Kolor=", "Kolor=219,czarny", "Kolor=219,:x"])
def test_a_malformed_parameter_mapping_says_how_to_write_it(spec: str) -> None:
    with pytest.raises(MappingInputError, match=r"--param"):
        parse_parameter(spec)


def test_set_refuses_a_parameter_mapped_twice_and_stores_nothing() -> None:
    store = Store()
    with pytest.raises(MappingInputError, match="parameter\\(s\\) 219 mapped more than once"):
        set_mapping(store, "Audio > Słuchawki", "101", params=["Typ=219"], constants=["219=nauszne"])
    with pytest.raises(MappingInputError, match="not a shop category path"):
        set_mapping(store, " > ", "101")
    assert store.items == {}


def test_set_stores_an_approved_mapping_that_replaces_a_suggestion() -> None:
    store = Store(StoredMapping(mapping=CategoryMapping(shop_path=["Książki"], allegro_category_id="3")))

    stored = set_mapping(store, "Książki", "30", constants=["11323=Nowy"], category_name="Książki i komiksy")

    assert store.get_mapping(["Książki"]) == stored
    assert stored.mapping.approved
    assert stored.mapping.allegro_category_id == "30"


def test_suggestions_cover_each_unmapped_category_once_and_skip_what_a_prefix_maps() -> None:
    products = [
        _product("B1", ["Książki", "Fantastyka"]),
        _product("B2", ["książki", " fantastyka"]),  # the same category, typed differently
        _product("H1", ["Elektronika", "Audio", "Słuchawki"], "Słuchawki Sony"),
    ]
    store = Store(_approved(["Elektronika", "Audio"], "101"))
    allegro = Allegro()

    unmapped = unmapped_categories(products, store.all_category_mappings())
    suggested = suggest_and_store(products, store, allegro, at="2026-11-27T12:00:00+00:00")

    assert unmapped == {"Książki > Fantastyka": 2}
    assert allegro.asked == ["Wiedźmin. Ostatnie życzenie"]  # one call per shop category
    [pending] = suggested
    assert pending.status == "PENDING"
    assert pending.category_name == "Kultura i rozrywka > Książki i komiksy"
    assert pending.category_path == ("3", "30")
    assert store.get_mapping(["Książki", "Fantastyka"]) == pending


def test_a_second_suggest_run_never_asks_again_nor_touches_the_sellers_choice() -> None:
    chosen = _approved(["Książki", "Fantastyka"], "30")
    store = Store(chosen)
    allegro = Allegro()

    assert suggest_and_store([_product("B1", ["Książki", "Fantastyka"])], store, allegro) == []
    assert allegro.asked == []
    assert store.get_mapping(["Książki", "Fantastyka"]) == chosen


def test_the_deployment_comes_from_the_functions_variables_first(monkeypatch: pytest.MonkeyPatch) -> None:
    for i, name in enumerate(resource_variables()):
        monkeypatch.setenv(name, f"value-{i}")

    found = find_environment()

    assert found["TABLE_CATALOG"].startswith("value-")
    assert set(found) == set(resource_variables())
    assert "QUEUE_SHOP_EVENTS_URL" in found


def test_without_a_stack_or_local_runtime_the_error_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in resource_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "none")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "none")
    # Nothing listens here: the CloudFormation call fails fast, as without network or credentials.
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    with pytest.raises(DeploymentNotFound, match="stack 'AllegroSync' is not readable"):
        find_environment()
