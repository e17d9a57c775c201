"""Category and parameter mapping: shop attributes -> Allegro offer parameters, missing ones named."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allegro_sync.contracts.catalog import CategoryMapping, ParameterMapping
from allegro_sync.domain.parameters import (
    AmbiguousMapping,
    CategoryParameter,
    DictionaryValue,
    choose_category,
    fold,
    map_parameters,
    parameter_value,
    parse_category_parameters,
    parse_quantity,
    parse_range,
)

# Shaped like GET /sale/categories/{id}/parameters (camelCase, extra fields Allegro sends included).
CATEGORY_BODY: dict[str, Any] = {
    "parameters": [
        {
            "id": "11323",
            "name": "Stan",
            "type": "dictionary",
            "required": True,
            "unit": None,
            "options": {"customValuesEnabled": False, "ambiguousValueId": None, "describesProduct": False},
            "restrictions": {"multipleChoices": False},
            "dictionary": [
                {"id": "11323_1", "value": "Nowy"},
                {"id": "11323_2", "value": "Używany"},
            ],
        },
        {
            "id": "202869",
            "name": "Kolor",
            "type": "dictionary",
            "required": True,
            "restrictions": {"multipleChoices": True},
            "options": {"customValuesEnabled": True, "ambiguousValueId": "202869_0"},
            "dictionary": [
                {"id": "202869_0", "value": "inny"},
                {"id": "202869_1", "value": "Czarny"},
                {"id": "202869_2", "value": "Biały"},
                {"id": "202869_3", "value": "Żółty"},
            ],
        },
        {
            "id": "248811",
            "name": "Marka",
            "type": "string",
            "required": True,
            "restrictions": {"minLength": 1, "maxLength": 40, "allowedNumberOfValues": 1},
        },
        {
            "id": "4401",
            "name": "Waga",
            "type": "float",
            "required": False,
            "unit": "g",
            "restrictions": {"min": 1, "max": 20000, "range": False, "precision": 1},
        },
        {
            "id": "17448",
            "name": "Pojemność",
            "type": "integer",
            "required": False,
            "unit": "ml",
            "restrictions": {"min": 0, "max": 10000, "range": False},
        },
        {
            "id": "5555",
            "name": "Długość kabla",
            "type": "float",
            "required": False,
            "unit": "cm",
            "restrictions": {"min": 0, "max": 1000, "range": True, "precision": 2},
        },
        {
            "id": "7777",
            "name": "Typ wtyku",
            "type": "dictionary",
            "required": True,
            "requiredIf": {
                "parametersWithValue": [{"id": "11323", "oneOfValueIds": ["11323_2"]}],
                "parametersWithoutValue": [],
            },
            "restrictions": {"multipleChoices": False},
            "dictionary": [{"id": "7777_1", "value": "USB-C"}],
        },
    ]
}
DEFINITIONS = parse_category_parameters(CATEGORY_BODY)


def test_shop_attributes_become_offer_parameters_in_allegro_shape() -> None:
    result = map_parameters(
        DEFINITIONS,
        {
            "kolor": "czarny, ZOLTY",
            "Producent": "Zelmer",
            "Waga": "1,5 kg",
            "Pojemność": "1,7 l",
            "Długość kabla": "od 75 do 120 cm",
        },
        [
            ParameterMapping(parameter_id="11323", constant="nowy"),
            ParameterMapping(parameter_id="248811", shop_attribute="producent"),
        ],
    )
    assert result.offer_parameters() == [
        {"id": "11323", "valuesIds": ["11323_1"]},
        {"id": "202869", "valuesIds": ["202869_1", "202869_3"]},
        {"id": "248811", "values": ["Zelmer"]},
        {"id": "4401", "values": ["1500"]},
        {"id": "17448", "values": ["1700"]},
        {"id": "5555", "rangeValue": {"from": "75", "to": "120"}},
    ]
    assert result.missing_required == []
    assert result.problems == []


def test_missing_required_parameters_are_named_for_the_product_status() -> None:
    result = map_parameters(DEFINITIONS, {"Waga": "250 g"})
    assert result.missing_summary == "missing: Stan, Kolor, Marka"
    # "Typ wtyku" is required only for used goods (requiredIf Stan = Używany).
    used = map_parameters(DEFINITIONS, {"Stan": "używany"})
    assert "Typ wtyku" in used.missing_summary


def test_unusable_values_are_reported_and_not_sent() -> None:
    result = map_parameters(
        DEFINITIONS,
        {
            "Stan": "Nowyy",
            "Waga": "30 kg",
            "Pojemność": "1,25 ml",
            "Marka": "x" * 41,
            "Długość kabla": "2 kg",
        },
        [ParameterMapping(parameter_id="999", shop_attribute="Coś")],
    )
    assert result.parameters == []
    messages = {p.parameter_name: p.message for p in result.problems}
    assert "did you mean Nowy" in messages["Stan"]
    assert "above the maximum 20000 g" in messages["Waga"]
    assert "not a whole number" in messages["Pojemność"]
    assert "longer than 40" in messages["Marka"]
    assert "cannot be converted" in messages["Długość kabla"]
    assert messages["?"].startswith("the mapping names a parameter")
    assert [m.name for m in result.missing_required] == ["Stan", "Kolor", "Marka"]


def test_value_map_and_custom_values() -> None:
    colour = next(p for p in DEFINITIONS if p.name == "Kolor")
    mapped = parameter_value(colour, "grafitowy", {"Grafitowy": "Czarny"})
    assert mapped.values_ids == ["202869_1"]
    two_tone = colour.model_copy(
        update={"dictionary": [*colour.dictionary, DictionaryValue(id="202869_9", value="Czarny/Biały")]}
    )
    assert parameter_value(two_tone, "czarny, biały").values_ids == ["202869_1", "202869_2"]
    assert parameter_value(two_tone, "Czarny/biały").values_ids == ["202869_9"]
    custom = parameter_value(colour, "morski")
    assert custom.model_dump(by_alias=True, exclude_none=True) == {
        "id": "202869",
        "valuesIds": ["202869_0"],
        "values": ["morski"],
    }


def test_numbers_with_units_and_ranges() -> None:
    assert parse_quantity("1,5 kg", "g") == Decimal(1500)
    assert parse_quantity("1 500 g", "kg") == Decimal("1.5")
    assert parse_quantity("250", "ml") == Decimal(250)
    assert parse_range("10-20 cm", "mm") == (Decimal(100), Decimal(200))
    assert parse_range("5–8", None) == (Decimal(5), Decimal(8))
    with pytest.raises(ValueError, match="not a number"):
        parse_quantity("dużo", "g")
    with pytest.raises(ValueError, match="high to low"):
        parse_range("20-10", None)


def test_float_precision_is_respected() -> None:
    weight = next(p for p in DEFINITIONS if p.name == "Waga")
    assert parameter_value(weight, "12,5").values == ["12.5"]
    with pytest.raises(ValueError, match="more than 1 decimal"):
        parameter_value(weight, "12,55")


def test_choose_category_takes_the_longest_approved_prefix() -> None:
    mappings = [
        CategoryMapping(shop_path=["AGD"], allegro_category_id="1", approved=True),
        CategoryMapping(shop_path=["AGD", "Kuchnia"], allegro_category_id="2", approved=True),
        CategoryMapping(shop_path=["AGD", "Kuchnia", "Czajniki"], allegro_category_id="3", approved=False),
        CategoryMapping(shop_path=["Ogród"], allegro_category_id="4", approved=True),
    ]
    chosen = choose_category(["agd", "KUCHNIA ", "Czajniki", "Elektryczne"], mappings)
    assert chosen is not None
    assert chosen.allegro_category_id == "2"
    assert choose_category(["RTV"], mappings) is None
    clash = [*mappings, CategoryMapping(shop_path=["Ogród"], allegro_category_id="5", approved=True)]
    with pytest.raises(AmbiguousMapping, match="4 and 5"):
        choose_category(["Ogród", "Grill"], clash)


# --- properties ----------------------------------------------------------------------------------------

_dictionary = st.lists(
    st.text(alphabet="abcdefghijklmnoprstuwyząęłńóśźż ", min_size=1, max_size=12).map(str.strip).filter(bool),
    min_size=1,
    max_size=8,
    unique_by=fold,
)


@settings(max_examples=200, deadline=None)
@given(_dictionary, st.data())
def test_any_dictionary_value_matches_whatever_its_case_and_diacritics(
    values: list[str], data: st.DataObject
) -> None:
    parameter = CategoryParameter(
        id="1",
        name="P",
        type="dictionary",
        dictionary=[{"id": f"1_{i}", "value": v} for i, v in enumerate(values)],  # type: ignore[misc]
    )
    index = data.draw(st.integers(min_value=0, max_value=len(values) - 1))
    variant = data.draw(st.sampled_from([str.upper, str.lower, str.title, _strip_diacritics]))
    assert parameter_value(parameter, f"  {variant(values[index])} ").values_ids == [f"1_{index}"]


def _strip_diacritics(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).replace(
        "ł", "l"
    )


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["Stan", "Kolor", "Marka", "Waga", "Inne"]), st.text(max_size=15)))
def test_every_required_parameter_is_either_set_or_reported_missing(attributes: dict[str, str]) -> None:
    result = map_parameters(DEFINITIONS, attributes)
    set_ids = {p.id for p in result.parameters}
    missing_ids = {m.id for m in result.missing_required}
    assert not set_ids & missing_ids
    for definition in DEFINITIONS:
        if definition.required and definition.required_if is None:
            assert definition.id in set_ids | missing_ids
    # Nothing is sent that the category does not define, and no value is both sent and a problem.
    assert set_ids <= {d.id for d in DEFINITIONS}
    assert not set_ids & {p.parameter_id for p in result.problems}


def test_dependent_dictionary_values_need_their_parent_value() -> None:
    definitions = parse_category_parameters(
        {
            "parameters": [
                {
                    "id": "1",
                    "name": "Marka",
                    "type": "dictionary",
                    "required": True,
                    "dictionary": [{"id": "1_1", "value": "Sony"}, {"id": "1_2", "value": "Bose"}],
                },
                {
                    "id": "2",
                    "name": "Model",
                    "type": "dictionary",
                    "required": True,
                    "options": {"dependsOnParameterId": "1"},
                    "dictionary": [
                        {"id": "2_1", "value": "WH-1000XM5", "dependsOnValueIds": ["1_1"]},
                        {"id": "2_2", "value": "QC45", "dependsOnValueIds": ["1_2"]},
                        {"id": "2_3", "value": "Inny", "dependsOnValueIds": []},
                    ],
                },
            ]
        }
    )
    fine = map_parameters(definitions, {"Marka": "Sony", "Model": "wh-1000xm5"})
    assert fine.offer_parameters() == [{"id": "1", "valuesIds": ["1_1"]}, {"id": "2", "valuesIds": ["2_1"]}]
    clash = map_parameters(definitions, {"Marka": "Bose", "Model": "WH-1000XM5"})
    assert clash.offer_parameters() == [{"id": "1", "valuesIds": ["1_2"]}]
    assert clash.problems[0].message == "WH-1000XM5 does not go with the chosen Marka"
    assert clash.missing_summary == "missing: Model"
    free = map_parameters(definitions, {"Model": "Inny"})
    assert free.offer_parameters() == [{"id": "2", "valuesIds": ["2_3"]}]
