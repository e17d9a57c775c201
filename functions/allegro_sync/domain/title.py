"""Offer titles (`name`) that Allegro accepts, built from a shop product name and its attributes.

Allegro's rules (spec: "between 12 and 75 characters (including spaces) and at least 3 words", #11354):
- the length is counted after HTML-entity encoding: `&` counts 5, `<` and `>` 4, `"` 6 (#1306, #3394, #6214),
  so a title of 75 visible characters with one `&` is rejected;
- only letters, digits and a fixed set of special characters may appear (#6214); anything else (emoji,
  em dash #openlinker-420, trademark signs) is mapped to a plain equivalent or removed;
- one word may have at most 30 characters (#10008).
On top of that this module keeps titles honest: no repeated words and no promotional stuffing.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from allegro_sync.domain.frozen import FrozenModel

MIN_CHARS = 12
MAX_LENGTH = 75
MIN_WORDS = 3
MAX_WORD_LENGTH = 30

# Special characters Allegro lists as allowed in a title (#6214); letters and digits are always allowed.
ALLOWED_SPECIALS = frozenset("!@[]#$%^&*{}()., /\\|?;~²³`'’´\"”„“″<>_:-=+…–°")
# What a character costs against the 75 (Allegro counts the HTML entity).
ENTITY_COST = {"&": 5, "<": 4, ">": 4, '"': 6}
# Plain replacements for characters Allegro rejects but that carry meaning.
_REPLACEMENTS = str.maketrans(
    {
        "—": "-",  # em dash: rejected (openlinker #420)
        "‒": "-",
        "―": "-",
        "−": "-",
        "‐": "-",
        "‑": "-",
        "×": "x",
        "‚": ",",
        "‘": "'",
        "«": '"',
        "»": '"',
        "\u00a0": " ",
    }
)
# Words that advertise instead of describe (Allegro's title guidelines); removed when found on their own.
PROMO_WORDS = frozenset(
    {
        "okazja",
        "promocja",
        "promo",
        "wyprzedaż",
        "wyprzedaz",
        "najtaniej",
        "tanio",
        "hit",
        "bestseller",
        "gratis",
        "sale",
        "super-cena",
        "supercena",
    }
)
# Tokens that join words ("HDMI - HDMI", "Tom & Jerry") and mean nothing at the start or end of a title.
_CONNECTORS = frozenset({"-", "–", "&", "+", "/", "|", ",", ";", ":", "x", "i", "z", "w", "do", "na", "oraz"})
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# "Kabel HDMI - HDMI", "Adapter USB-C na USB-C": a word may repeat right after one of these.
_JOINERS = frozenset({"-", "–", "/", "na", "do", "+", "&", "i", "oraz"})
# Units repeat legitimately ("2 szt ... 3 szt"); they are never "repeated words".
_UNITS = frozenset(
    {"szt", "kpl", "cal", "cali", "mah", "kwh", "cm2", "cm3", "ml", "mm", "kg", "gb", "tb", "mb"}
)
# Filler used only when name and attributes cannot make a valid title.
_FALLBACK_PREFIX = "Produkt"
_FALLBACK_WORDS = ("oferta", "sklepu", "internetowego")


def allegro_length(title: str) -> int:
    """The length Allegro checks against 75: characters, with `& < > "` counted as their entities."""
    return len(title) + sum((cost - 1) * title.count(ch) for ch, cost in ENTITY_COST.items())


def _allowed(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch in ALLOWED_SPECIALS or category == "Nd" or category[0] in {"L", "M"}


def _has_content(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def word_key(token: str) -> str:
    """What makes two words "the same": case-insensitive (Unicode casefold), diacritics kept (kąt != kat)."""
    return unicodedata.normalize("NFC", token.strip("!@[]#$%^&*{}().,/\\|?;~`'’´\"”„“″<>_:-=+…–°").casefold())


def _counts_for_repeats(token: str) -> bool:
    """Short tokens (units, numbers, "x") may legitimately repeat: "2 m kabel 3 m" is not stuffing."""
    key = word_key(token)
    return len(key) >= 3 and any(ch.isalpha() for ch in key) and key not in _UNITS


def clean_text(text: str) -> str:
    """Tags and entities out, NFC, replacements, disallowed characters out, repeats and spaces collapsed."""
    text = html.unescape(_TAG.sub(" ", text))
    text = unicodedata.normalize("NFC", text).translate(_REPLACEMENTS)
    text = "".join(ch if _allowed(ch) else (" " if ch.isspace() else "") for ch in text)
    text = re.sub(r"([!?.,;:~*=+_|/\\#^-])\1+", r"\1", text)
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    """Clean words of `text`, each at most 30 Allegro characters (longer ones split at hyphens or cut)."""
    out: list[str] = []
    for token in clean_text(text).split(" "):
        if not token:
            continue
        if word_key(token) in PROMO_WORDS:
            continue
        parts = token.split("-") if allegro_length(token) > MAX_WORD_LENGTH and "-" in token else [token]
        for part in parts:
            rest = part
            while rest:
                cut = rest
                while allegro_length(cut) > MAX_WORD_LENGTH:
                    cut = cut[:-1]
                out.append(cut)
                rest = rest[len(cut) :]
    return [t for t in out if t.strip("!@[]#$%^&*{}().,/\\|?;~`'’´\"”„“″<>_:=+…–°") or t in _CONNECTORS]


def _word_count(tokens: Sequence[str]) -> int:
    return sum(1 for t in tokens if _has_content(t))


def _join(tokens: Sequence[str]) -> str:
    return " ".join(tokens)


def _too_short(tokens: Sequence[str]) -> bool:
    return len(_join(tokens)) < MIN_CHARS or _word_count(tokens) < MIN_WORDS


def _trim_connectors(tokens: list[str]) -> list[str]:
    while tokens and (tokens[-1].casefold() in _CONNECTORS or not _has_content(tokens[-1])):
        tokens = tokens[:-1]
    while tokens and (tokens[0].casefold() in _CONNECTORS or not _has_content(tokens[0])):
        tokens = tokens[1:]
    return tokens


class _Builder:
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.seen: set[str] = set()

    def fits(self, token: str) -> bool:
        return allegro_length(_join([*self.tokens, token])) <= MAX_LENGTH

    def add(self, token: str, *, front: bool = False) -> bool:
        key = word_key(token)
        joined = not front and bool(self.tokens) and self.tokens[-1].casefold() in _JOINERS
        if _counts_for_repeats(token) and key in self.seen and not joined:
            return False
        if not self.fits(token):
            return False
        self.seen.add(key)
        if front:
            self.tokens.insert(0, token)
        else:
            self.tokens.append(token)
        return True

    def add_all(self, tokens: Iterable[str]) -> None:
        """Add words in order, stopping at the first that does not fit (cut at a word boundary)."""
        for token in tokens:
            if not self.fits(token):
                break
            self.add(token)
        self.tokens = _trim_connectors(self.tokens)

    def pad(self, tokens: Iterable[str]) -> None:
        """Append meaningful words while the title is too short, skipping repeats and ones that don't fit."""
        for token in tokens:
            if not _too_short(self.tokens):
                return
            if _has_content(token):
                self.add(token)


def build_title(
    name: str,
    attributes: Mapping[str, str] | None = None,
    *,
    brand: str | None = None,
    key_params: Sequence[str] = ("Model", "Kolor", "Rozmiar", "Pojemność", "Materiał"),
    sku: str | None = None,
) -> str:
    """An Allegro-valid title (12..75 characters by Allegro's count, >= 3 words) for a shop product.

    The cleaned shop name comes first, cut at a word boundary. Only when that is too short is it padded, in
    this order, with the brand, then the values of `key_params` found in `attributes` (matched by name,
    case-insensitively), then a fallback: "Produkt" in front and "kod <sku>" at the end, so that even a
    one-letter name yields e.g. "Produkt X kod AB-1".
    """
    attributes = attributes or {}
    builder = _Builder()
    builder.add_all(_tokens(name))
    if _too_short(builder.tokens):
        by_name = {k.strip().casefold(): v for k, v in attributes.items()}
        padding: list[str] = []
        if brand:
            padding.extend(_tokens(brand))
        for param in key_params:
            value = by_name.get(param.strip().casefold())
            if value:
                padding.extend(_tokens(value))
        builder.pad(padding)
    if _too_short(builder.tokens):
        builder.add(_FALLBACK_PREFIX, front=True)
    if _too_short(builder.tokens):
        sku_tokens = [t for t in _tokens(sku or "") if _has_content(t)]
        if sku_tokens and builder.fits(_join(["kod", *sku_tokens])):
            for token in ["kod", *sku_tokens]:
                builder.add(token)
    builder.pad(_FALLBACK_WORDS)
    title = _join(builder.tokens)
    if validate_title(title):  # pragma: no cover - a guard: the steps above always produce a valid title
        raise AssertionError(f"build_title produced an invalid title {title!r}: {validate_title(title)}")
    return title


class TitleProblem(FrozenModel):
    code: Literal[
        "too_short",
        "too_long",
        "too_few_words",
        "forbidden_character",
        "word_too_long",
        "repeated_word",
        "spacing",
    ]
    message: str


def validate_title(title: str) -> list[TitleProblem]:
    """Everything Allegro (or our no-stuffing rule) would object to in `title`; empty list: fine."""
    problems: list[TitleProblem] = []
    if len(title) < MIN_CHARS:
        problems.append(
            TitleProblem(code="too_short", message=f"{len(title)} characters; at least {MIN_CHARS}")
        )
    if (length := allegro_length(title)) > MAX_LENGTH:
        problems.append(
            TitleProblem(
                code="too_long",
                message=f"{length} characters as Allegro counts (& < > quote cost more), max {MAX_LENGTH}",
            )
        )
    tokens = title.split(" ")
    if (words := _word_count(tokens)) < MIN_WORDS:
        problems.append(TitleProblem(code="too_few_words", message=f"{words} words; at least {MIN_WORDS}"))
    if bad := sorted({ch for ch in title if not _allowed(ch)}):
        shown = ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, '?')}" for ch in bad)
        problems.append(TitleProblem(code="forbidden_character", message=f"Characters not allowed: {shown}"))
    if long := [t for t in tokens if allegro_length(t) > MAX_WORD_LENGTH]:
        problems.append(
            TitleProblem(code="word_too_long", message=f"Words over {MAX_WORD_LENGTH} characters: {long}")
        )
    seen: set[str] = set()
    repeated: list[str] = []
    for previous, token in zip(["", *tokens], tokens, strict=False):
        if _counts_for_repeats(token):
            key = word_key(token)
            if key in seen and previous.casefold() not in _JOINERS:
                repeated.append(token)
            seen.add(key)
    if repeated:
        problems.append(TitleProblem(code="repeated_word", message=f"Repeated words: {repeated}"))
    if title != title.strip() or "  " in title:
        problems.append(TitleProblem(code="spacing", message="Leading, trailing or double spaces"))
    return problems
