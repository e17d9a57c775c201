"""Shop HTML -> Allegro description: realistic WooCommerce-like examples and properties over any HTML."""

from __future__ import annotations

import html as html_lib
import json
import unicodedata
from collections import Counter
from html.parser import HTMLParser

import nh3
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from allegro_sync.contracts.offer_content import Description
from allegro_sync.domain.description import MAX_DESCRIPTION_BYTES, build_description, parse_shop_html
from allegro_sync.domain.description_rules import validate_description
from allegro_sync.emulator.market.description import description_problems

WOO_HTML = """
<div class="woocommerce-product-details__short-description">
  <h3 style="color:#333">Opis produktu</h3>
  <p>Elektryczny <strong>czajnik ZELMER</strong> <span style="color:red">ze stali nierdzewnej</span> 😀<br>
  Pojemność&nbsp;1,7&nbsp;l &amp; moc 2200 W. Zażółć gęślą jaźń.</p>
  <div><em>Idealny</em> do kuchni <i>każdego</i> domu</div>
  <ul>
    <li>Automatyczne wyłączanie
      <ul><li>po zagotowaniu</li><li>po zdjęciu z podstawy</li></ul>
    </li>
    <li><b>Filtr</b> antywapienny</li>
  </ul>
  <table class="shop_attributes">
    <tr><th>Waga</th><td>1,5 kg</td></tr>
    <tr><th>Kolor</th><td>srebrny</td></tr>
  </table>
  <img src="https://sklep.example.pl/wp-content/uploads/czajnik.jpg" alt="czajnik" width="600">
  <p>Gwarancja 24 miesiące.</p>
  <script>window.dataLayer.push({"event": "view"})</script>
  <style>.x { color: red }</style>
  <!-- komentarz sklepu -->
  <img src="/wp-content/uploads/czajnik-2.jpg">
  <img src="javascript:alert(1)">
</div>
"""
UPLOADED = {
    "https://sklep.example.pl/wp-content/uploads/czajnik.jpg": "https://a.allegroimg.com/original/11/czajnik",
    "https://sklep.example.pl/wp-content/uploads/czajnik-2.jpg": "https://a.allegroimg.com/original/12/czajnik2",
}


def _texts(description: Description) -> list[str]:
    return [item.content for s in description.sections for item in s.items if item.type == "TEXT"]


def test_woocommerce_description_becomes_allegro_structure() -> None:
    parsed = parse_shop_html(WOO_HTML, base_url="https://sklep.example.pl/produkt/czajnik/")
    assert parsed.image_sources == list(UPLOADED)
    result = parsed.to_allegro(UPLOADED)
    body = result.description.model_dump(mode="json")
    first = body["sections"][0]["items"][0]
    assert first["type"] == "TEXT"
    assert first["content"] == (
        "<p><b>Opis produktu</b></p>"
        "<p>Elektryczny <b>czajnik ZELMER</b> ze stali nierdzewnej 😀</p>"
        "<p>Pojemność 1,7 l &amp; moc 2200 W. Zażółć gęślą jaźń.</p>"
        "<p>Idealny do kuchni każdego domu</p>"
        "<ul><li>Automatyczne wyłączanie</li><li>po zagotowaniu</li><li>po zdjęciu z podstawy</li>"
        "<li><b>Filtr</b> antywapienny</li></ul>"
        "<ul><li><b>Waga</b>: 1,5 kg</li><li><b>Kolor</b>: srebrny</li></ul>"
    )
    # Short texts sit beside the image that follows them, as Allegro's two-item sections show them.
    assert [[i["type"] for i in s["items"]] for s in body["sections"]] == [
        ["TEXT", "IMAGE"],
        ["TEXT", "IMAGE"],
    ]
    assert body["sections"][0]["items"][1] == {"type": "IMAGE", "url": UPLOADED[parsed.image_sources[0]]}
    assert "dataLayer" not in json.dumps(body)
    assert "komentarz" not in json.dumps(body)
    assert result.warnings == []
    assert validate_description(result.description, offer_images=result.description.image_urls) == []
    assert description_problems(body) == []  # the emulator, which checks like Allegro, agrees


def test_images_not_uploaded_or_unusable_are_left_out_and_reported() -> None:
    result = build_description(
        '<p>Tekst</p><img src="https://shop.pl/a.jpg"><img src="relative/b.jpg"><img src="https://shop.pl/c.jpg">',
        {"https://shop.pl/c.jpg": "https://a.allegroimg.com/c"},
    )
    assert result.description.image_urls == ["https://a.allegroimg.com/c"]
    codes = sorted(w.code for w in result.warnings)
    assert codes == ["image_not_uploaded", "image_unusable_url"]
    assert any("https://shop.pl/a.jpg" in w.message for w in result.warnings)


def test_headings_nesting_and_whitespace_are_normalised() -> None:
    html = (
        "<h1>  Tytuł  </h1><h2>Pod<b>tytuł</b></h2><h4>Mały</h4>"
        "<p>a<p>b</p></p><div>x<div>y</div>z</div>"
        "<ol><li><p>jeden</p><p>dwa</p></li></ol>tekst luzem<li>sierota</li>"
    )
    content = _texts(build_description(html, {}).description)[0]
    assert content == (
        "<h1>Tytuł</h1><h2>Podtytuł</h2><p><b>Mały</b></p><p>a</p><p>b</p>"
        "<p>x</p><p>y</p><p>z</p><ol><li>jeden</li><li>dwa</li></ol>"
        "<p>tekst luzem</p><ul><li>sierota</li></ul>"
    )


def test_text_that_looks_like_markup_is_escaped_not_interpreted() -> None:
    content = _texts(build_description("<p>5 &lt; 7 &amp;&amp; 8 &gt; 2 &lt;b&gt;</p>", {}).description)[0]
    assert content == "<p>5 &lt; 7 &amp;&amp; 8 &gt; 2 &lt;b&gt;</p>"
    assert validate_description(build_description("<p>5 &lt; 7</p>", {}).description) == []


def test_control_characters_are_dropped_and_diacritics_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Łódź żółć")
    content = _texts(build_description(f"<p>{decomposed}\x01\x07 ok \x02 tak</p>", {}).description)[0]
    assert content == "<p>Łódź żółć ok tak</p>"


def test_empty_or_invisible_input_gives_empty_description_with_warning() -> None:
    result = build_description("<script>x()</script><div> <span>&nbsp;</span> </div>", {})
    assert result.description.sections == []
    assert [w.code for w in result.warnings] == ["empty"]


def test_oversized_description_is_cut_between_blocks_and_reported() -> None:
    paragraphs = "".join(f"<p>Akapit {i}: {'zażółć gęślą jaźń ' * 20}</p>" for i in range(400))
    result = build_description(paragraphs, {})
    content = _texts(result.description)[0]
    assert len(content.encode()) <= MAX_DESCRIPTION_BYTES
    assert content.endswith("</p>")
    assert result.truncated
    assert "left out" in next(w.message for w in result.warnings if w.code == "truncated")
    assert validate_description(result.description) == []
    # Whole paragraphs, in order, from the start.
    assert content.startswith("<p>Akapit 0: ")
    assert "Akapit 399" not in content


def test_a_single_giant_paragraph_is_cut_at_a_word_boundary() -> None:
    result = build_description("<p>" + "słowo " * 20_000 + "</p>", {})
    content = _texts(result.description)[0]
    assert len(content.encode()) <= MAX_DESCRIPTION_BYTES
    assert content.endswith("słowo</p>")
    assert result.truncated


def test_oversized_list_keeps_the_items_that_fit() -> None:
    items = "".join(f"<li>Cecha {i} {'x' * 90}</li>" for i in range(1000))
    result = build_description(f"<p>Wstęp</p><ul>{items}</ul><p>Koniec</p>", {})
    content = _texts(result.description)[0]
    assert content.startswith("<p>Wstęp</p><ul><li>Cecha 0 ")
    assert content.endswith("</li></ul>")
    assert "Koniec" not in content
    assert result.truncated
    assert validate_description(result.description) == []


def test_validator_catches_what_allegro_rejects() -> None:
    bad = {
        "sections": [
            {"items": [{"type": "TEXT", "content": '<p class="x">a<strong>b</strong><p>c</p></p>'}]},
            {"items": [{"type": "TEXT", "content": "<ul><li>a<ul><li>b</li></ul></li></ul>luźny"}]},
            {"items": []},
            {
                "items": [
                    {"type": "IMAGE", "url": "ftp://x"},
                    {"type": "IMAGE", "url": "https://a.allegroimg.com/1"},
                ]
            },
            {"items": [{"type": "TEXT", "content": "<p>" + "x" * MAX_DESCRIPTION_BYTES + "</p>"}]},
        ]
    }
    codes = {p.code for p in validate_description(bad, offer_images=[])}
    assert codes == {
        "attribute",
        "invalid_tag",
        "invalid_nesting",
        "misplaced_text",
        "section_items",
        "image_url",
        "image_not_in_offer",
        "too_large",
    }
    assert validate_description({"sections": "nope"})[0].code == "structure"
    assert [p.code for p in validate_description({"sections": []})] == ["section_count"]
    many = {"sections": [{"items": [{"type": "TEXT", "content": "<p>a</p>"}]}] * 101}
    assert [p.code for p in validate_description(many)] == ["section_count"]


def test_at_most_100_sections_even_with_a_repeated_image() -> None:
    html = "<p>Opis</p>" + '<img src="https://s.pl/x.jpg"><p>krótko</p>' * 150
    result = build_description(html, {"https://s.pl/x.jpg": "https://a.allegroimg.com/x"})
    assert len(result.description.sections) == 100
    assert result.truncated
    assert validate_description(result.description, offer_images=["https://a.allegroimg.com/x"]) == []


# --- properties ----------------------------------------------------------------------------------------

_TAGS = [
    "p", "div", "span", "b", "strong", "em", "i", "u", "a", "h1", "h2", "h3", "h5", "ul", "ol", "li",
    "table", "tr", "td", "th", "section", "blockquote", "br", "font", "small", "center",
]  # fmt: skip
_text = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_categories=("Cc", "Cs", "Co", "Cn"),
        include_characters="ąęłńóśźżĄĘŁŃÓŚŹŻ<>&\"' \n\t\u00a0😀",
    ),
    max_size=20,
).map(lambda s: html_lib.escape(s, quote=False))


def _soup() -> st.SearchStrategy[str]:
    leaf = st.one_of(
        _text,
        st.just("<br>"),
        st.just('<img src="https://shop.example.pl/i.jpg">'),
        st.just("<script>var hidden = 1;</script>"),
        st.just("<!-- hidden comment -->"),
    )

    def wrap(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(st.sampled_from(_TAGS), st.lists(children, max_size=4), st.booleans()).map(
                lambda t: f'<{t[0]} style="x:y">' + "".join(t[1]) + (f"</{t[0]}>" if t[2] else "")
            ),
            st.lists(children, max_size=4).map("".join),
            # Well-formed structures random nesting rarely builds: tables of cells, lists of items.
            st.lists(st.lists(children, min_size=1, max_size=3), min_size=1, max_size=3).map(
                lambda rows: (
                    "<table>"
                    + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
                    + "</table>"
                )
            ),
            st.tuples(st.sampled_from(["ul", "ol"]), st.lists(children, min_size=1, max_size=3)).map(
                lambda t: f"<{t[0]}>" + "".join(f"<li>{c}</li>" for c in t[1]) + f"</{t[0]}>"
            ),
        )

    return st.recursive(leaf, wrap, max_leaves=40)


class _Visible(HTMLParser):
    """The reference: the text a browser would show, script/style/comments excluded, every tag a gap."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style") and self.hidden > 0

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _visible_chars(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return "".join(unicodedata.normalize("NFC", "".join(parser.parts)).split())


def _output_chars(description: Description) -> str:
    parser = _Visible()
    for content in _texts(description):
        parser.feed(content)
    parser.close()
    return "".join(unicodedata.normalize("NFC", "".join(parser.parts)).split())


def _is_subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)


_PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPS
@given(_soup())
def test_any_html_converts_to_a_description_allegro_accepts(html: str) -> None:
    result = build_description(html, {"https://shop.example.pl/i.jpg": "https://a.allegroimg.com/i"})
    body = result.description.model_dump(mode="json")
    problems = validate_description(result.description, offer_images=result.description.image_urls)
    if result.description.sections:
        assert problems == []
    else:  # nothing visible: the caller is told to send no description, which is what Allegro wants
        assert [p.code for p in problems] == ["section_count"]
        assert [w.code for w in result.warnings] == ["empty"]
    assert description_problems(body) == []
    assert json.loads(json.dumps(body)) == body


@_PROPS
@example('<table><tr><td>1</td><td><tr style="x:y">0</td></tr></table>')  # browsers show "0" first
@given(_soup())
def test_any_html_keeps_every_visible_character_in_order(html: str) -> None:
    result = build_description(html, {})
    assert not result.truncated
    output = _output_chars(result.description)
    # Every visible character survives (table rows only gain ": " or " | " between cells) ...
    assert not Counter(_visible_chars(html)) - Counter(output)
    # ... in the order a browser shows them. Browsers move stray text out of tables ("foster parenting"),
    # so the order reference is the text of the browser-parsed document (html5ever, through nh3), not the
    # naive source order.
    browser_order = "".join(html_lib.unescape(nh3.clean(html, tags=set())).split())
    assert _is_subsequence(unicodedata.normalize("NFC", browser_order), output)


@settings(max_examples=30, deadline=None)
@given(st.lists(_soup(), min_size=1, max_size=3), st.integers(min_value=200, max_value=3000))
def test_truncation_keeps_a_prefix_within_budget_and_reports_it(parts: list[str], max_bytes: int) -> None:
    html = "".join(parts) * 20
    parsed = parse_shop_html(html)
    result = parsed.to_allegro({}, max_bytes=max_bytes)
    size = sum(len(c.encode()) for c in _texts(result.description))
    assert size <= max_bytes
    full = "".join(parsed.text.split())
    kept = _output_chars(result.description)
    if result.truncated:
        assert len(kept) < len(full)
    else:
        assert kept == full
    assert full.startswith(kept)


def test_long_text_gets_its_own_section_and_images_pair_up() -> None:
    images = {f"https://s.pl/{n}.jpg": f"https://a.allegroimg.com/{n}" for n in range(3)}
    html = "<p>" + "długi opis " * 100 + "</p>" + "".join(f'<img src="{src}">' for src in images)
    body = build_description(html, images).description.model_dump(mode="json")
    assert [[i["type"] for i in s["items"]] for s in body["sections"]] == [
        ["TEXT"],
        ["IMAGE", "IMAGE"],
        ["IMAGE"],
    ]


def test_plain_text_keeps_its_lines_as_paragraphs() -> None:
    content = _texts(
        build_description("Czajnik ZELMER\n\nMoc: 2200 W\r\nPojemność: 1,7 l & więcej", {}).description
    )
    assert content == ["<p>Czajnik ZELMER</p><p>Moc: 2200 W</p><p>Pojemność: 1,7 l &amp; więcej</p>"]
