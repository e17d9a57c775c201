"""The checker finds planted problems; the fixer's output always passes Allegro's rules and keeps facts."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allegro_sync.contracts.offer_content import Description
from allegro_sync.domain.description_rules import validate_description
from allegro_sync.domain.listing_quality import (
    check_offer_description,
    check_shop_html,
    contact_findings,
    description_text,
    fix_description,
    redact,
)

IMAGES = ["https://a.allegroimg.com/original/1/zdjecie.jpg", "https://a.allegroimg.com/original/2/inne.jpg"]
PARAMS = {"Marka": "Sony", "Kolor": "Czarny", "Złącze": "USB-C"}
SHOP_HTML = (
    '<div style="color:red"><strong>Świetne słuchawki</strong> z redukcją szumów. '
    "Zadzwoń: 600 700 800 albo napisz na jan.kowalski@sklep.pl, więcej na www.mojsklep.pl/sluchawki</div>"
    "<p>Kolor czarny, złącze USB-C, marka Sony.</p>"
    f'<img src="{IMAGES[0]}"><img src="https://mojsklep.pl/obce.jpg">'
)


def codes(issues: list) -> set[str]:  # type: ignore[type-arg]
    return {i.code for i in issues}


def test_checker_finds_every_planted_problem_in_shop_html() -> None:
    issues = check_shop_html(SHOP_HTML, key_params={**PARAMS, "Pasmo": "20 Hz"})
    found = codes(issues)
    assert {
        "invalid_tag",
        "attribute",
        "contact_phone",
        "contact_email",
        "external_link",
        "contact_outside",
    } <= found
    messages = "\n".join(i.message for i in issues)
    assert 'Tag "strong" is not allowed' in messages
    assert "600 700 800" in messages
    assert "jan.kowalski@sklep.pl" in messages
    assert "www.mojsklep.pl" in messages
    assert "Pasmo = '20 Hz' is not in the text" in messages
    assert "Kolor" not in messages.split("Pasmo")[0].split("key parameter")[-1]  # present params not flagged


def test_checker_finds_size_wall_of_text_and_missing_images() -> None:
    huge = "<p>" + "Bardzo długi opis produktu bez nagłówków. " * 1100 + "</p>"
    assert len(huge.encode()) > 45_000
    found = codes(check_shop_html(huge))
    assert {"too_large", "wall_of_text", "no_images"} <= found
    assert "too_large" not in codes(check_shop_html("<h2>Opis</h2><p>krótki</p>"))


def test_checker_reads_an_offer_description_as_allegro_holds_it() -> None:
    description = {
        "sections": [
            {"items": [{"type": "TEXT", "content": "<p>Tel. 22 123 45 67, <strong>sklep</strong></p>"}]},
            {"items": [{"type": "IMAGE", "url": "https://obcy.pl/x.jpg"}]},
        ]
    }
    found = codes(check_offer_description(description, offer_images=IMAGES, key_params=PARAMS))
    assert {"invalid_tag", "rule", "contact_phone", "missing_parameter"} <= found
    clean = fix_description(
        "<p>Opis</p>", headline="Słuchawki Sony czarne", key_params=PARAMS, offer_images=IMAGES
    )
    assert check_offer_description(clean.description, offer_images=IMAGES, key_params=PARAMS) == []
    assert codes(check_offer_description(None)) == {"empty"}


def test_contact_detection_keeps_ordinary_numbers_and_allegro_links() -> None:
    assert contact_findings("EAN 5901234123457, moc 1200 W, wymiary 30 x 40 x 50 cm, 2024 rok") == []
    assert contact_findings("zobacz inne aukcje na allegro.pl/uzytkownik/sklep") == []
    assert [c for c, _ in contact_findings("tel. +48 600700800")] == ["contact_phone"]
    assert [c for c, _ in contact_findings("Kontakt poza Allegro: sms")] == ["contact_outside"]


def test_redaction_leaves_a_readable_sentence_and_says_what_it_cut() -> None:
    text, cut = redact("Słuchawki z ANC. Zadzwoń: 600 700 800 albo napisz na biuro@mojsklep.pl")
    assert text == "Słuchawki z ANC."
    assert set(cut) == {"Zadzwoń", "600 700 800", "napisz na biuro@mojsklep.pl"}
    assert redact("Kolor czarny i biały, 2 szt.") == ("Kolor czarny i biały, 2 szt.", [])


def test_fixer_rewrites_into_headline_parameters_text_and_images_without_contact_details() -> None:
    fixed = fix_description(
        SHOP_HTML, headline="Słuchawki Sony WH-1000XM5 czarne", key_params=PARAMS, offer_images=IMAGES
    )
    assert validate_description(fixed.description, offer_images=IMAGES) == []
    first = fixed.description.sections[0].items[0]
    assert first.type == "TEXT"
    assert first.content.startswith(
        "<h1>Słuchawki Sony WH-1000XM5 czarne</h1>"
        "<ul><li><b>Marka:</b> Sony</li><li><b>Kolor:</b> Czarny</li>"
    )
    text = description_text(fixed.description)
    assert "Świetne słuchawki z redukcją szumów. Kolor czarny" in text  # no stray "albo", "więcej na", ","
    assert "Kolor czarny, złącze USB-C" in text
    for gone in ("600 700 800", "jan.kowalski", "mojsklep", "Zadzwoń", "napisz na"):
        assert gone not in text
    assert set(fixed.removed) >= {"600 700 800", "napisz na jan.kowalski@sklep.pl"}
    assert fixed.description.image_urls == IMAGES  # the shop's own image first, the foreign one left out
    assert "<strong>" not in first.content
    assert "style" not in first.content


def test_a_contact_glued_to_the_one_before_it_is_cut_too() -> None:
    # Found by the property test below: after "800" there is no word boundary before the second "tel.".
    fixed = fix_description(
        "<p>tel. 600 700 800tel. 600 700 8000</p>", headline="Czajnik", key_params={}, offer_images=[]
    )
    text = description_text(fixed.description)
    assert contact_findings(text) == []
    assert "600 700 800" not in text


WORDS = st.text(
    alphabet=st.sampled_from(list("aąbcćdeęfghijklłmnńoóprsśtuwyzźżĄĘŁŚŻ0123456789 ")),
    min_size=1,
    max_size=30,
)
FRAGMENTS = st.sampled_from(
    [
        "<p>", "</p>", "<div style='x'>", "</div>", "<strong>", "</strong>", "<h3>", "</h3>",
        "<ul><li>", "</li></ul>", "<table><tr><td>", "</td></tr></table>", "<br>", "tel. 600 700 800",
        "jan@sklep.pl", "https://sklep.pl/a", "kontakt poza Allegro", "<script>alert(1)</script>",
        f'<img src="{IMAGES[1]}">', "<img src='x.jpg'>", "&amp;",
    ]
)  # fmt: skip
SHOP = st.lists(st.one_of(WORDS, FRAGMENTS), max_size=40).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    html=SHOP,
    headline=WORDS,
    params=st.dictionaries(st.sampled_from(["Marka", "Kolor", "Materiał", "Wzór"]), WORDS, max_size=4),
    images=st.lists(st.sampled_from(IMAGES), max_size=2, unique=True),
)
def test_fixer_output_always_passes_allegro_rules_keeps_key_facts_and_no_contacts(
    html: str, headline: str, params: dict[str, str], images: list[str]
) -> None:
    fixed = fix_description(html, headline=headline, key_params=params, offer_images=images)
    if not fixed.description.sections:  # nothing to show at all: said so, and the caller sends none
        assert [w.code for w in fixed.warnings] == ["empty"]
        return
    assert validate_description(fixed.description, offer_images=images) == []
    text = description_text(fixed.description)
    for value in params.values():
        if value.strip():
            assert " ".join(value.split()) in text
    ours = " ".join([headline, *params.values()])
    assert [v for _, v in contact_findings(text) if v not in ours] == []  # the shop text's are all cut
    assert set(fixed.description.image_urls) <= set(images)


def test_a_45_kb_shop_description_is_cut_to_allegros_limit() -> None:
    paragraphs = "".join(f"<p>Akapit {i}: " + "zażółć gęślą jaźń " * 40 + "</p>" for i in range(70))
    assert len(paragraphs.encode()) > 45_000
    fixed = fix_description(
        paragraphs, headline="Zestaw garnków stalowych", key_params=PARAMS, offer_images=IMAGES
    )
    assert validate_description(fixed.description, offer_images=IMAGES) == []
    assert any(w.code == "truncated" for w in fixed.warnings)
    assert "Marka: Sony" in description_text(fixed.description)
    assert isinstance(fixed.description, Description)
