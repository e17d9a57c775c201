"""Offer titles: Allegro's length as it counts it, words, characters, no stuffing; valid for any input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allegro_sync.domain.title import allegro_length, build_title, validate_title, word_key


def test_a_long_shop_name_is_cleaned_and_cut_at_a_word_boundary() -> None:
    name = (
        "Czajnik elektryczny ZELMER ZCK7921 — 1,7 l 2200 W stal nierdzewna!!! OKAZJA HIT ™ 😀 "
        "automatyczne wyłączanie filtr antywapienny podświetlenie LED"
    )
    title = build_title(name, {})
    # "automatyczne" would make 81: the title ends at the word before.
    assert title == "Czajnik elektryczny ZELMER ZCK7921 - 1,7 l 2200 W stal nierdzewna!"
    assert len(title) <= 75
    assert validate_title(title) == []


def test_entities_count_the_way_allegro_counts_them() -> None:
    assert allegro_length('Kabel 12" & <adapter>') == len('Kabel 12" & <adapter>') + 5 + 4 + 3 + 3
    # 70 visible characters plus two "&" would be 78 for Allegro: the cut happens earlier.
    name = "Zestaw " + " & ".join(["garnków"] * 1) + " & " + "patelnia nierdzewna stalowa indukcja " * 3
    title = build_title(name, {})
    assert allegro_length(title) <= 75
    assert validate_title(title) == []


def test_repeated_words_and_promo_words_are_dropped_case_and_diacritics_aware() -> None:
    title = build_title("Łyżka ŁYŻKA łyżka stołowa SUPERCENA Stołowa Promocja komplet 6 szt 6 szt", {})
    assert title == "Łyżka stołowa komplet 6 szt 6 szt"
    # Diacritics make different words: kąt and kat are both kept.
    assert build_title("Kąt kat drewniany narożnik", {}) == "Kąt kat drewniany narożnik"
    assert word_key("ŻÓŁW") == word_key("żółw") != word_key("zolw")
    # A repeat joined by "-", "/", "na", "do"... names both ends of a thing, it is not stuffing.
    assert build_title("Kabel HDMI - HDMI 2 m HDMI", {}) == "Kabel HDMI - HDMI 2 m"
    assert build_title("Przejściówka adapter USB-C na USB-C", {}) == "Przejściówka adapter USB-C na USB-C"


def test_short_names_are_padded_from_brand_and_key_attributes() -> None:
    title = build_title("Słuchawki", {"kolor": "czarny", "Model": "WH-1000XM5"}, brand="Sony")
    assert title == "Słuchawki Sony WH-1000XM5"
    # The brand is not repeated when the name already has it.
    assert (
        build_title("Sony", {"Model": "WH-1000XM5", "Kolor": "czarny"}, brand="SONY")
        == "Sony WH-1000XM5 czarny"
    )


@pytest.mark.parametrize(
    ("name", "sku", "expected"),
    [
        ("TV", "AB-1", "Produkt TV kod AB-1"),
        ("x", None, "Produkt oferta sklepu"),
        ("😀😀😀", "SKU1", "Produkt kod SKU1"),
        ("", None, "Produkt oferta sklepu"),
        ("Produkt", None, "Produkt oferta sklepu"),
    ],
)
def test_tiny_names_get_the_documented_fallback(name: str, sku: str | None, expected: str) -> None:
    assert build_title(name, {}, sku=sku) == expected
    assert validate_title(expected) == []


def test_overlong_words_are_split_at_hyphens_or_cut_to_30_characters() -> None:
    title = build_title("Krem nawilżająco-przeciwzmarszczkowy pod oczy", {})
    assert title == "Krem nawilżająco przeciwzmarszczkowy pod oczy"
    title = build_title("Ładowarka " + "A" * 45 + " USB-C", {})
    assert all(len(w) <= 30 for w in title.split())
    assert validate_title(title) == []


def test_html_in_shop_names_is_removed() -> None:
    assert build_title("Tom &amp; Jerry <b>kubek</b> ceramiczny", {}) == "Tom & Jerry kubek ceramiczny"


def test_validate_title_names_each_problem() -> None:
    codes = {p.code for p in validate_title("Za  krótki ™ " + "x" * 31 + " Krótki")}
    assert codes == {"forbidden_character", "word_too_long", "repeated_word", "spacing"}
    assert {p.code for p in validate_title("Dwa słowa")} == {"too_short", "too_few_words"}
    inches = "Zestaw " + " ".join(f'{n}"' for n in range(10, 22))  # 55 characters, 115 for Allegro
    assert {p.code for p in validate_title(inches)} == {"too_long"}


_names = st.text(max_size=200) | st.lists(
    st.sampled_from(
        ["Czajnik", "ZELMER", "&", '"', "<", "—", "😀", "łyżka", "ŁYŻKA", "-", "x", "OKAZJA", "a" * 35]
    ),
    max_size=30,
).map(" ".join)
_attrs = st.dictionaries(
    st.sampled_from(["Model", "Kolor", "Rozmiar", "marka", "Inne"]), st.text(max_size=40)
)


@settings(max_examples=200, deadline=None)
@given(_names, _attrs, st.none() | st.text(max_size=40), st.none() | st.text(max_size=100))
def test_any_input_gives_a_valid_title(
    name: str, attributes: dict[str, str], brand: str | None, sku: str | None
) -> None:
    title = build_title(name, attributes, brand=brand, sku=sku)
    assert len(title) >= 12
    assert allegro_length(title) <= 75
    assert len([w for w in title.split(" ") if any(c.isalnum() for c in w)]) >= 3
    assert validate_title(title) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["Czajnik", "elektryczny", "stalowy", "biały", "1,7", "l", "2200W"]), max_size=12
    )
)
def test_a_valid_name_survives_as_its_prefix(words: list[str]) -> None:
    name = " ".join(dict.fromkeys(words))
    title = build_title(name, {}, sku="K-1")
    if len(name) >= 12 and len(set(words)) >= 3:
        assert title == name
