"""Shop HTML -> Allegro's structured offer description (pure, no I/O).

Allegro does not take free HTML: a description is `sections[].items[]`, each item either
`{type: TEXT, content}` or `{type: IMAGE, url}`, and TEXT allows only `h1, h2, p, ul, ol, li, b` without
attributes, with nesting checked per parent (`<strong>` rejected #10073, no nested paragraphs #10541,
`Invalid tag "ul", allowed tags: {b, p}` inside `li` #8576/#10656). The whole description is at most
40,000 bytes. Shop descriptions (WooCommerce and friends) are the opposite: divs, spans with styles,
tables, nested lists, scripts. So the conversion is two stages:

1. nh3 (Ammonia) parses the shop HTML like a browser would and sanitises it: scripts, styles and comments go
   with their content, attributes go except `img[src]` with an http(s) or relative URL.
2. A small event walker flattens the well-formed result into blocks Allegro accepts: headings, paragraphs,
   one-level lists of inline text and `<b>`, images. Anything Allegro cannot show is unwrapped, never lost.

Images in an Allegro description must be images uploaded for (and listed in) the offer's `images` array
(#6651), so the converter works in two steps: `parse_shop_html(...).image_sources` tells the caller what to
upload, and `.to_allegro(image_map)` builds the description with the uploaded URLs.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape, unescape
from typing import Literal
from urllib.parse import urljoin, urlsplit

import nh3
from pydantic import Field

from allegro_sync.contracts.offer_content import Description, DescriptionSection, ImageItem, TextItem
from allegro_sync.domain.frozen import FrozenModel

MAX_DESCRIPTION_BYTES = 40_000
"""Allegro's limit for the whole description (spec: StandardizedDescription)."""

MAX_SECTIONS = 100
"""Allegro: '"sections" size must be between 1 and 100' (#12520); an empty description is not sent at all."""

PAIRABLE_TEXT_CHARS = 600
"""A text shorter than this may share a section with an image (Allegro shows the pair side by side)."""

ALLOWED_TEXT_TAGS = frozenset({"h1", "h2", "p", "ul", "ol", "li", "b"})

# What nh3 keeps for the walker to interpret; everything else is unwrapped to its text.
_STRUCTURAL_TAGS = frozenset(
    {
        *("h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "br", "hr", "img"),
        *(
            "ul",
            "ol",
            "li",
            "dl",
            "dt",
            "dd",
            "table",
            "thead",
            "tbody",
            "tfoot",
            "tr",
            "td",
            "th",
            "caption",
        ),
        *("b", "strong", "section", "article", "header", "footer", "aside", "main", "nav", "blockquote"),
        *("pre", "figure", "figcaption", "address", "center", "details", "summary"),
    }
)
# Dropped together with their content: code, styling and things a buyer never sees as text.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head", "title", "select"}
)
_BOLD_TAGS = frozenset({"b", "strong"})
_LIST_TAGS = frozenset({"ul", "ol", "dl", "table"})
_ITEM_TAGS = frozenset({"li", "tr", "dt", "dd"})
_CELL_TAGS = frozenset({"td", "th"})
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = frozenset(
    {
        *("p", "div", "hr", "section", "article", "header", "footer", "aside", "main", "nav"),
        *("blockquote", "pre", "figure", "figcaption", "address", "center", "details", "summary", "caption"),
    }
)
_WHITESPACE = re.compile(r"\s+")


class DescriptionWarning(FrozenModel):
    """Something the seller should know about the conversion (shown in the product status)."""

    code: Literal["truncated", "image_not_uploaded", "image_unusable_url", "empty"]
    message: str


class DescriptionResult(FrozenModel):
    description: Description
    warnings: list[DescriptionWarning] = Field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return any(w.code == "truncated" for w in self.warnings)


# --- intermediate blocks -------------------------------------------------------------------------------

Run = tuple[str, bool]
"""A piece of inline text and whether it is bold."""


@dataclass(frozen=True)
class Heading:
    level: Literal[1, 2]
    text: str


@dataclass(frozen=True)
class Paragraph:
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class ListBlock:
    ordered: bool
    items: tuple[tuple[Run, ...], ...]


@dataclass(frozen=True)
class Image:
    src: str


Block = Heading | Paragraph | ListBlock | Image


def _clean_text(text: str) -> str:
    """NFC, whitespace runs to one space, control characters and lone surrogates removed."""
    text = unicodedata.normalize("NFC", _WHITESPACE.sub(" ", text))
    if text.isprintable():
        return text
    kept = "".join(ch for ch in text if ch == " " or unicodedata.category(ch) not in {"Cc", "Cs"})
    return _WHITESPACE.sub(" ", kept)


def normalise_runs(runs: Iterable[Run]) -> tuple[Run, ...]:
    """Collapse whitespace across runs, trim the ends, keep spaces outside `<b>`, merge neighbours."""
    pieces: list[Run] = []
    for raw, bold in runs:
        text = _clean_text(raw)
        if not text:
            continue
        core = text.strip(" ")
        if text.startswith(" "):
            pieces.append((" ", False))
        if core:
            pieces.append((core, bold))
            if text.endswith(" "):
                pieces.append((" ", False))
    out: list[Run] = []
    for text, bold in pieces:
        if text == " " and (not out or out[-1][0].endswith(" ")):
            continue
        if out and out[-1][1] == bold:
            out[-1] = (out[-1][0] + text, bold)
        else:
            out.append((text, bold))
    while out and out[-1][0] == " ":
        out.pop()
    if out and out[-1][0].endswith(" "):
        out[-1] = (out[-1][0].rstrip(" "), out[-1][1])
    return tuple(out)


def runs_html(runs: Sequence[Run]) -> str:
    return "".join(f"<b>{escape(t, quote=False)}</b>" if b else escape(t, quote=False) for t, b in runs)


def runs_text(runs: Sequence[Run]) -> str:
    return "".join(t for t, _ in runs)


def block_html(block: Heading | Paragraph | ListBlock) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{escape(block.text, quote=False)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{runs_html(block.runs)}</p>"
    tag = "ol" if block.ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{runs_html(i)}</li>" for i in block.items) + f"</{tag}>"


def block_text(block: Block) -> str:
    if isinstance(block, Heading):
        return block.text
    if isinstance(block, Paragraph):
        return runs_text(block.runs)
    if isinstance(block, ListBlock):
        return " ".join(runs_text(i) for i in block.items)
    return ""


# --- the walker ----------------------------------------------------------------------------------------


@dataclass
class _OpenList:
    ordered: bool
    implicit: bool
    items: list[tuple[Run, ...]] = field(default_factory=list)


# nh3 (html5ever's serializer) emits canonical HTML: lowercase tags, double-quoted attribute values, text with
# `&`, `<`, `>` escaped and no comments. So a regex tokenizer is exact on it, and ~10x faster than HTMLParser.
_TOKEN = re.compile(r'<(/?)([a-z][a-z0-9]*)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*/?>|([^<]+|<)')
_ANY_TAG = re.compile(r"<[A-Za-z!/?]")
_SRC = re.compile(r'\ssrc="([^"]*)"')


class _Flattener:
    """Walks nh3's well-formed output once, iteratively (no recursion limit on deep tag soup)."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url
        self.blocks: list[Block] = []
        self.unusable_images: list[str] = []
        self.inline: list[Run] = []
        self.bold = 0
        self.heading: int | None = None
        self.list: _OpenList | None = None
        self.list_depth = 0
        self.cell_starts: list[int] | None = None  # inline indexes where table cells start, inside a row

    # block plumbing
    def flush(self) -> None:
        if not self.inline:
            if self.cell_starts:
                self.cell_starts = []
            return
        runs = list(self.inline)
        self.inline.clear()
        if self.cell_starts is not None:
            runs = self._join_cells(runs, self.cell_starts)
            self.cell_starts = []
        normal = normalise_runs(runs)
        if not normal:
            return
        if self.list is not None:
            self.list.items.append(normal)
        elif self.heading in (1, 2):
            self.blocks.append(Heading(level=1 if self.heading == 1 else 2, text=runs_text(normal)))
        elif self.heading is not None:
            self.blocks.append(Paragraph(runs=((runs_text(normal), True),)))
        else:
            self.blocks.append(Paragraph(runs=normal))

    @staticmethod
    def _join_cells(runs: list[Run], starts: list[int]) -> list[Run]:
        """A table row becomes one list item: `Waga: 1,5 kg` for two cells, `a | b | c` for more."""
        bounds = [*starts, len(runs)]
        head = runs[: bounds[0]] if bounds else runs
        cells = [runs[a:b] for a, b in itertools.pairwise(bounds)]
        cells = [c for c in cells if runs_text(c).strip()]
        sep = ": " if len(cells) == 2 else " | "
        out = list(head)
        for i, cell in enumerate(cells):
            if i:
                out.append((sep, False))
            out.extend(cell)
        return out

    def open_list(self, ordered: bool, implicit: bool) -> None:
        if self.list is None:
            self.list = _OpenList(ordered=ordered, implicit=implicit)

    def close_list(self) -> None:
        self.flush()
        if self.list is not None and self.list.items:
            self.blocks.append(ListBlock(ordered=self.list.ordered, items=tuple(self.list.items)))
        self.list = None

    # parser events
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: PLR0912
        if tag in _BOLD_TAGS:
            self.bold += 1
        elif tag in _HEADINGS:
            self.flush()
            self.heading = _HEADINGS[tag]
        elif tag in _LIST_TAGS:
            self.flush()
            self.open_list(ordered=tag == "ol", implicit=False)
            self.list_depth += 1
        elif tag in _ITEM_TAGS:
            self.flush()
            if self.list is None:
                self.open_list(ordered=False, implicit=True)
            if tag == "tr":
                self.cell_starts = []
        elif tag in _CELL_TAGS:
            if self.cell_starts is not None:
                self.cell_starts.append(len(self.inline))
            else:
                self.inline.append((" ", False))
            if tag == "th":
                self.bold += 1
        elif tag == "br":
            if self.list is not None or self.heading is not None:
                self.inline.append((" ", False))
            else:
                self.flush()
        elif tag == "img":
            self._image(dict(attrs).get("src"))
        elif tag in _BLOCK_TAGS:
            self.flush()

    def feed(self, sanitised: str) -> None:
        for match in _TOKEN.finditer(sanitised):
            closing, tag, attrs, text = match.groups()
            if text is not None:
                self.handle_data(unescape(text) if "&" in text else text)
            elif closing:
                self.handle_endtag(tag)
            else:
                src = _SRC.search(attrs) if attrs else None
                self.handle_starttag(tag, [("src", unescape(src.group(1)))] if src else [])

    def handle_endtag(self, tag: str) -> None:
        if tag in _BOLD_TAGS:
            self.bold = max(0, self.bold - 1)
        elif tag in _HEADINGS:
            self.flush()
            self.heading = None
        elif tag in _LIST_TAGS:
            self.flush()
            self.list_depth = max(0, self.list_depth - 1)
            if self.list_depth == 0:
                self.close_list()
        elif tag in _ITEM_TAGS:
            self.flush()
            if tag == "tr":
                self.cell_starts = None
            if self.list is not None and self.list.implicit and self.list_depth == 0:
                self.close_list()
        elif tag in _CELL_TAGS:
            if self.cell_starts is None:
                self.inline.append((" ", False))
            if tag == "th":
                self.bold = max(0, self.bold - 1)
        elif tag in _BLOCK_TAGS:
            self.flush()

    def handle_data(self, data: str) -> None:
        self.inline.append((data, self.bold > 0 and self.heading is None))

    def _image(self, src: str | None) -> None:
        url = _absolute_http_url(src, self.base_url)
        if url is None:
            if src:
                self.unusable_images.append(src)
            return
        # An image splits the text around it; a list around it is continued after it.
        was = self.list
        self.flush()
        if was is not None:
            self.close_list()
        self.blocks.append(Image(src=url))
        if was is not None:
            self.list = _OpenList(ordered=was.ordered, implicit=was.implicit)

    def finish(self) -> list[Block]:
        self.close_list()
        return self.blocks


def _absolute_http_url(src: str | None, base_url: str | None) -> str | None:
    if not src:
        return None
    url = urljoin(base_url, src.strip()) if base_url else src.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def _sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(_STRUCTURAL_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={"img": {"src"}},
        url_schemes={"http", "https"},
        strip_comments=True,
        link_rel=None,
    )


# --- public API ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopDescription:
    """A shop description flattened to Allegro-compatible blocks, before its images are uploaded."""

    blocks: tuple[Block, ...]
    unusable_images: tuple[str, ...] = ()

    @property
    def image_sources(self) -> list[str]:
        """Absolute http(s) URLs of the description's images, in order, once each: upload these."""
        return list(dict.fromkeys(b.src for b in self.blocks if isinstance(b, Image)))

    @property
    def text(self) -> str:
        return " ".join(t for b in self.blocks if (t := block_text(b)))

    def to_allegro(
        self, image_map: Mapping[str, str], *, max_bytes: int = MAX_DESCRIPTION_BYTES
    ) -> DescriptionResult:
        """Build Allegro's description; `image_map` maps each image source to its uploaded Allegro URL.

        Images missing from the map are dropped (with a warning) rather than sent as foreign URLs
        Allegro would reject. If the text does not fit `max_bytes`, whole blocks (or list items) are kept
        up to the limit and the rest is dropped with a `truncated` warning.
        """
        warnings = [
            DescriptionWarning(code="image_unusable_url", message=f"Image {src!r} has no usable http(s) URL")
            for src in dict.fromkeys(self.unusable_images)
        ]
        blocks: list[Block] = []
        missing: list[str] = []
        for block in self.blocks:
            if isinstance(block, Image):
                uploaded = image_map.get(block.src)
                if uploaded is None:
                    missing.append(block.src)
                    continue
                block = Image(src=uploaded)  # noqa: PLW2901 - the uploaded twin replaces the source
            blocks.append(block)
        warnings.extend(
            DescriptionWarning(code="image_not_uploaded", message=f"Image {src} was not uploaded; left out")
            for src in dict.fromkeys(missing)
        )
        kept, dropped_chars = _fit(blocks, max_bytes)
        if dropped_chars:
            warnings.append(
                DescriptionWarning(
                    code="truncated",
                    message=(
                        f"The description exceeds Allegro's {max_bytes:,} bytes; "
                        f"{dropped_chars:,} characters at the end were left out"
                    ),
                )
            )
        sections = _sections(kept)
        if len(sections) > MAX_SECTIONS:
            warnings.append(
                DescriptionWarning(
                    code="truncated",
                    message=f"Allegro takes {MAX_SECTIONS} sections; {len(sections) - MAX_SECTIONS} left out",
                )
            )
            sections = sections[:MAX_SECTIONS]
        description = Description(sections=sections)
        if not description.sections:
            warnings.append(
                DescriptionWarning(
                    code="empty", message="The description has no text or images: send the offer without one"
                )
            )
        return DescriptionResult(description=description, warnings=warnings)


def parse_shop_html(html: str, *, base_url: str | None = None) -> ShopDescription:
    """Sanitise and flatten shop HTML; `base_url` resolves relative image paths (else they are unusable)."""
    walker = _Flattener(base_url)
    if not _ANY_TAG.search(html):
        # Plain text (a shop without an HTML editor): its line breaks are its only structure.
        html = "".join(f"<p>{line}</p>" for line in html.splitlines())
    walker.feed(_sanitise(html))
    return ShopDescription(blocks=tuple(walker.finish()), unusable_images=tuple(walker.unusable_images))


def build_description(
    html: str, image_map: Mapping[str, str], *, base_url: str | None = None
) -> DescriptionResult:
    """One-call form of `parse_shop_html(html).to_allegro(image_map)`."""
    return parse_shop_html(html, base_url=base_url).to_allegro(image_map)


# --- size budget and sections --------------------------------------------------------------------------


def _size(block: Block) -> int:
    if isinstance(block, Image):
        return len(block.src.encode("utf-8"))
    return len(block_html(block).encode("utf-8"))


def _fit(blocks: list[Block], max_bytes: int) -> tuple[list[Block], int]:
    """Keep blocks in order while they fit; returns the kept blocks and how many characters were dropped.

    Sizes count TEXT contents and IMAGE urls (a superset of what the 40,000 bytes may cover), so what
    fits here fits Allegro. A list is cut between items; only when not a single text block would fit is
    a paragraph cut, at a word boundary, so the offer still gets a description.
    """
    kept: list[Block] = []
    used = 0
    for index, block in enumerate(blocks):
        size = _size(block)
        if used + size <= max_bytes:
            kept.append(block)
            used += size
            continue
        room = max_bytes - used
        partial: Block | None = None
        if isinstance(block, ListBlock):
            partial = _cut_list(block, room)
        elif isinstance(block, Paragraph) and not any(isinstance(b, Paragraph | ListBlock) for b in kept):
            partial = _cut_paragraph(block, room)
        if partial is not None:
            kept.append(partial)
        rest = sum(len(block_text(b)) for b in blocks[index:]) - (len(block_text(partial)) if partial else 0)
        return kept, max(rest, 1)
    return kept, 0


def _cut_list(block: ListBlock, room: int) -> ListBlock | None:
    items: list[tuple[Run, ...]] = []
    used = len(b"<ul></ul>")
    for item in block.items:
        used += len(f"<li>{runs_html(item)}</li>".encode())
        if used > room:
            break
        items.append(item)
    return ListBlock(ordered=block.ordered, items=tuple(items)) if items else None


def _cut_paragraph(block: Paragraph, room: int) -> Paragraph | None:
    budget = room - len(b"<p></p>")
    runs: list[Run] = []
    used = 0
    for text, bold in block.runs:
        words = re.split(r"(?<= )", text)
        taken = ""
        for word in words:
            cost = len(escape(word, quote=False).encode("utf-8"))
            if used + cost + (len(b"<b></b>") if bold else 0) > budget:
                break
            taken += word
            used += cost
        if taken:
            runs.append((taken, bold))
            used += len(b"<b></b>") if bold else 0
        if taken != text:
            break
    normal = normalise_runs(runs)
    return Paragraph(runs=normal) if normal else None


def _sections(blocks: list[Block]) -> list[DescriptionSection]:
    """Consecutive text blocks share one TEXT item; a short text may sit beside an image, two images pair."""
    items: list[TextItem | ImageItem] = []
    texts: list[str] = []
    chars = 0
    lengths: list[int] = []
    for block in blocks:
        if isinstance(block, Image):
            if texts:
                items.append(TextItem(content="".join(texts)))
                lengths.append(chars)
                texts, chars = [], 0
            items.append(ImageItem(url=block.src))
            lengths.append(0)
        else:
            texts.append(block_html(block))
            chars += len(block_text(block))
    if texts:
        items.append(TextItem(content="".join(texts)))
        lengths.append(chars)

    def pairable(i: int) -> bool:
        a, b = items[i], items[i + 1]
        if isinstance(a, ImageItem) and isinstance(b, ImageItem):
            return True
        text_chars = lengths[i] if isinstance(a, TextItem) else lengths[i + 1]
        return text_chars <= PAIRABLE_TEXT_CHARS

    sections: list[DescriptionSection] = []
    i = 0
    while i < len(items):
        if i + 1 < len(items) and pairable(i):
            sections.append(DescriptionSection(items=[items[i], items[i + 1]]))
            i += 2
        else:
            sections.append(DescriptionSection(items=[items[i]]))
            i += 1
    return sections
