"""Description rules (pure): allowed tags, no attributes, no <strong> (#10073), no nested p (#10541)."""

from __future__ import annotations

import pytest

from allegro_sync.emulator.market.description import description_problems, html_problems


@pytest.mark.parametrize(
    "html",
    [
        "<h1>Tytuł</h1><p>Opis <b>mocny</b></p>",
        "<ul><li>jeden</li><li><b>dwa</b></li></ul>",
        "<ol><li><p>akapit w punkcie</p></li></ol>",
        "<h2>A</h2>",
    ],
)
def test_allowed_html(html: str) -> None:
    assert html_problems(html) == []


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p><strong>x</strong></p>", 'Invalid tag "strong"'),
        ("<p><p>x</p></p>", 'Invalid tag "p", allowed tags: {b}'),
        ('<p class="a">x</p>', "must not have attributes"),
        ("<li>x</li>", 'Invalid tag "li", allowed tags: {h1, h2, ol, p, ul}'),
        ("<ul><li><ul><li>x</li></ul></li></ul>", 'Invalid tag "ul", allowed tags: {b, p}'),
        ("bare text", "Text is not allowed directly in the top level"),
        ("<p>x", 'Unclosed tag "p"'),
        ("<p>x<br/></p>", 'Invalid tag "br"'),
    ],
)
def test_rejected_html(html: str, expected: str) -> None:
    assert any(expected in p for p in html_problems(html)), html_problems(html)


def test_size_limit_counts_bytes_not_characters() -> None:
    # "ż" is two bytes in UTF-8: 20,001 of them exceed 40,000 bytes although it is 20,001 characters
    big = {"sections": [{"items": [{"type": "TEXT", "content": "<p>" + "ż" * 20_001 + "</p>"}]}]}
    assert any("bytes" in message for _, message in description_problems(big))
    small = {"sections": [{"items": [{"type": "TEXT", "content": "<p>" + "ż" * 19_000 + "</p>"}]}]}
    assert description_problems(small) == []


def test_section_shape() -> None:
    three = {"sections": [{"items": [{"type": "TEXT", "content": "<p>a</p>"}] * 3}]}
    assert description_problems(three) == [
        ("description.sections[0]", "A section must have one or two items")
    ]
    image = {"sections": [{"items": [{"type": "IMAGE", "url": "https://a.allegroimg.com/x.jpg"}]}]}
    assert description_problems(image) == []
