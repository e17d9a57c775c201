"""Description quality: what breaks Allegro's rules or weakens a listing, and a fixer that rewrites it (pure).

The checker reads either the shop's HTML (before it is sent) or an offer's Allegro description (as it is
now). Rule breaks come from `description_rules` (the same oracle the converter is tested against); on top of
those it flags what Allegro forbids in content (phone numbers, e-mails, links, "kontakt poza Allegro": its
rules keep the sale and the conversation on Allegro) and what weakens a listing (no images, a wall of text
without headings, key parameters the text never mentions).

The fixer builds on `description.parse_shop_html`: headline, bullet list of key parameters, the shop text
with contact details cut out, then images; its output always passes `validate_description`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import unescape
from typing import Any, Literal

from allegro_sync.contracts.offer_content import Description
from allegro_sync.domain.description import (
    MAX_DESCRIPTION_BYTES,
    Block,
    DescriptionWarning,
    Heading,
    Image,
    ListBlock,
    Paragraph,
    ShopDescription,
    block_text,
    normalise_runs,
    parse_shop_html,
)
from allegro_sync.domain.description_rules import text_item_problems, validate_description

Severity = Literal["error", "warning"]
IssueCode = Literal[
    "invalid_tag",
    "invalid_nesting",
    "attribute",
    "rule",
    "too_large",
    "contact_phone",
    "contact_email",
    "external_link",
    "contact_outside",
    "no_images",
    "wall_of_text",
    "missing_parameter",
    "empty",
]

WALL_OF_TEXT_CHARS = 1_500
"""More text than this with no heading and no list is hard to scan on a phone."""

PHONE = re.compile(
    r"(?:(?:\+|00)48[\s.-]?)?(?<![\d])\d{3}[\s.-]\d{3}[\s.-]\d{3}(?![\d])"  # 600 700 800, +48 600-700-800
    r"|(?:\+|00)48[\s.-]?\d{9}(?!\d)"  # +48600700800
    r"|(?<![\d])\(?\d{2}\)?[\s.-]\d{3}[\s.-]\d{2}[\s.-]\d{2}(?![\d])"  # (22) 123 45 67
    r"|\b(?:tel|telefon|tel\.|kom|komórka)\.?\s*:?\s*\d[\d\s.-]{7,}\d",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"']+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:pl|com|eu|net|org|shop|store|info|biz)\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
ALLEGRO_HOST = re.compile(r"(?:^|[/.])allegro\.pl\b", re.IGNORECASE)
OUTSIDE = re.compile(
    r"kontakt\w*\s+poza\s+allegro|poza\s+allegro|\b(?:za)?dzwoń\b|\bzadzwon\b|whats\s?app"
    r"|napisz\s+(?:sms|maila|e-?mail)",
    re.IGNORECASE,
)
# A lead-in that only makes sense with the contact detail after it ("napisz na", "tel.:"): cut together.
_LEAD_IN = (
    r"(?:(?:napisz(?:\s+na)?|pisz|tel\.?|telefon|e-?mail|mail|kontakt|strona|sklep|odwiedź|zapraszamy\s+na"
    r"|więcej(?:\s+informacji)?\s+na|na\s+stronie)\s*:?\s*)?"
)
_TAG = re.compile(r"<\s*([a-zA-Z][a-zA-Z0-9]*)")
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Issue:
    code: IssueCode
    severity: Severity  # error: Allegro rejects or forbids it; warning: it weakens the listing
    message: str


def contact_findings(text: str) -> list[tuple[IssueCode, str]]:
    """Phone numbers, e-mails, external links and "contact outside Allegro" phrases found in `text`."""
    found: list[tuple[IssueCode, str]] = []
    emails = [m.group(0) for m in EMAIL.finditer(text)]
    found += [("contact_email", e) for e in emails]
    without_emails = EMAIL.sub(" ", text)
    found += [("external_link", m.group(0)) for m in URL.finditer(without_emails) if not _allegro(m.group(0))]
    found += [("contact_phone", m.group(0).strip()) for m in PHONE.finditer(URL.sub(" ", without_emails))]
    found += [("contact_outside", m.group(0)) for m in OUTSIDE.finditer(text)]
    return found


def _allegro(url: str) -> bool:
    return bool(ALLEGRO_HOST.search(url.split("?", maxsplit=1)[0]))


def redact(text: str) -> tuple[str, list[str]]:
    """`text` without contact details and external links; also returns what was removed."""
    removed: list[str] = []
    original = text

    def cut(match: re.Match[str]) -> str:
        if _allegro(match.group(0)):
            return match.group(0)
        removed.append(match.group(0).strip())
        return " "

    for pattern in (EMAIL, URL, PHONE, OUTSIDE):
        compiled = re.compile(_LEAD_IN + f"(?:{pattern.pattern})", pattern.flags)
        # Again until nothing more is cut: a cut can expose the next detail ("800tel. 600..." has no word
        # boundary before "tel" until the first number is gone). Every pass removes text, so it ends.
        while True:
            before = len(removed)
            text = compiled.sub(cut, text)
            if len(removed) == before:
                break
    if not removed:
        return original, removed
    # A joiner left with nothing to join ("Zadzwoń: 600 700 800 albo napisz na a@b.pl" -> "albo").
    text = re.sub(
        r"(?:^|(?<=[\s,.;:!?]))(?:albo|lub|oraz|i|a)(?=\s*(?:[,.;:!?]|$))", "", text, flags=re.IGNORECASE
    )
    text = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s+", " ", text))
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)  # what separated the removed pieces
    text = re.sub(r"([.!?])\s*[,;:]+", r"\1", text)
    text = re.sub(r"[,;:]+(?=[.!?])", "", text)
    lead = " " if original[:1].isspace() else ""
    tail = " " if original[-1:].isspace() else ""
    return lead + text.strip(" ,;:") + tail, removed


_CONTACT_MESSAGES: dict[str, str] = {
    "contact_phone": "phone number {!r}: Allegro forbids contact details in the description",
    "contact_email": "e-mail {!r}: Allegro forbids contact details in the description",
    "external_link": "link {!r}: Allegro forbids links to other sites",
    "contact_outside": "{!r}: inviting contact outside Allegro is forbidden",
}


def _content_issues(
    text: str, *, has_images: bool, has_structure: bool, key_params: Mapping[str, str]
) -> list[Issue]:
    issues = [
        Issue(code, "error", _CONTACT_MESSAGES[code].format(value)) for code, value in contact_findings(text)
    ]
    if not text.strip() and not has_images:
        return [*issues, Issue("empty", "warning", "the description has no text and no images")]
    if not has_images:
        issues.append(Issue("no_images", "warning", "no images in the description: buyers want to see it"))
    if len(text) > WALL_OF_TEXT_CHARS and not has_structure:
        issues.append(
            Issue("wall_of_text", "warning", f"{len(text):,} characters without a heading or a list")
        )
    folded = text.casefold()
    for name, value in key_params.items():
        if value.strip() and value.strip().casefold() not in folded:
            issues.append(
                Issue("missing_parameter", "warning", f"key parameter {name} = {value!r} is not in the text")
            )
    return issues


def check_shop_html(html: str, *, key_params: Mapping[str, str] | None = None) -> list[Issue]:
    """Problems in a shop description as Allegro would see it if it were sent as it is."""
    issues: list[Issue] = []
    size = len(html.encode("utf-8"))
    if size > MAX_DESCRIPTION_BYTES:
        issues.append(
            Issue("too_large", "error", f"{size:,} bytes; Allegro takes at most {MAX_DESCRIPTION_BYTES:,}")
        )
    tags = sorted({t.lower() for t in _TAG.findall(html)} - {"img"})
    raw = _IMG.sub("", html)
    for code, message in text_item_problems(raw):
        if code in ("invalid_tag", "invalid_nesting", "attribute"):
            issues.append(Issue(code, "error", message))
    if not tags and raw.strip():
        issues.append(Issue("wall_of_text", "warning", "plain text without any HTML structure"))
    parsed = parse_shop_html(html)
    structured = any(isinstance(b, Heading | ListBlock) for b in parsed.blocks)
    issues += _content_issues(
        unescape(parsed.text),
        has_images=bool(_IMG.search(html)),
        has_structure=structured,
        key_params=key_params or {},
    )
    return _unique(issues)


def check_offer_description(
    description: Mapping[str, Any] | Description | None,
    *,
    offer_images: Sequence[str] = (),
    key_params: Mapping[str, str] | None = None,
) -> list[Issue]:
    """Problems in an offer's Allegro description (`description` of GET /sale/product-offers/{id})."""
    if description is None:
        return [Issue("empty", "warning", "the offer has no description")]
    raw = description.model_dump(mode="json") if isinstance(description, Description) else description
    issues: list[Issue] = []
    for problem in validate_description(raw, offer_images=offer_images):
        code: IssueCode = (
            problem.code
            if problem.code in ("invalid_tag", "invalid_nesting", "attribute", "too_large")
            else "rule"
        )
        issues.append(Issue(code, "error", f"{problem.path}: {problem.message}"))
    texts: list[str] = []
    has_images = structured = False
    for section in raw.get("sections") or []:
        for item in (section or {}).get("items") or [] if isinstance(section, Mapping) else []:
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == "IMAGE":
                has_images = True
            content = str(item.get("content") or "")
            structured = structured or bool(re.search(r"<(h1|h2|ul|ol)\b", content))
            texts.append(unescape(re.sub(r"<[^>]+>", " ", content)))
    text = re.sub(r"\s+", " ", " ".join(texts)).strip()
    issues += _content_issues(
        text, has_images=has_images, has_structure=structured, key_params=key_params or {}
    )
    return _unique(issues)


def _unique(issues: Iterable[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))


@dataclass(frozen=True)
class FixedDescription:
    description: Description
    removed: tuple[str, ...]  # contact details and links cut out of the text
    warnings: tuple[DescriptionWarning, ...]


def _redact_block(block: Block, removed: list[str]) -> Block | None:
    if isinstance(block, Heading):
        text, cut = redact(block.text)
        removed += cut
        return Heading(2, text.strip()) if text.strip() else None  # the headline is the only h1
    if isinstance(block, Paragraph):
        runs = _redact_runs(block.runs, removed)
        return Paragraph(runs) if runs else None
    if isinstance(block, ListBlock):
        items = tuple(r for item in block.items if (r := _redact_runs(item, removed)))
        return ListBlock(block.ordered, items) if items else None
    return block


def _redact_runs(runs: tuple[tuple[str, bool], ...], removed: list[str]) -> tuple[tuple[str, bool], ...]:
    # Contact details can span runs ("tel. <b>600</b> 700 800"): redact the joined text when they do.
    joined = "".join(t for t, _ in runs)
    if not contact_findings(joined):
        return normalise_runs(runs)
    if all(not contact_findings(t) for t, _ in runs):
        text, cut = redact(joined)
        removed += cut
        return normalise_runs([(text, False)])
    out = []
    for text, bold in runs:
        clean, cut = redact(text)
        removed += cut
        out.append((clean, bold))
    return normalise_runs(out)


def fix_description(
    html: str,
    *,
    headline: str,
    key_params: Mapping[str, str] | None = None,
    offer_images: Sequence[str] = (),
    base_url: str | None = None,
) -> FixedDescription:
    """Rewrite shop HTML into headline, key-parameter bullets, text (no contact details) and images.

    `offer_images`: the offer's `images` urls on Allegro; description images must be among them (#6651),
    so shop images that are not are left out and the offer's own images are shown instead.
    """
    parsed = parse_shop_html(html, base_url=base_url)
    removed: list[str] = []
    blocks: list[Block] = []
    if headline.strip():
        blocks.append(Heading(1, redact(headline)[0].strip() or headline.strip()))
    bullets = tuple(
        runs
        for name, value in (key_params or {}).items()
        if (runs := normalise_runs([(f"{name}: ", True), (value, False)])) and value.strip()
    )
    if bullets:
        blocks.append(ListBlock(False, bullets))
    text_blocks = [
        b for block in parsed.blocks if not isinstance(block, Image) if (b := _redact_block(block, removed))
    ]
    if text_blocks and not isinstance(text_blocks[0], Heading):
        text_blocks.insert(0, Heading(2, "Opis"))
    blocks += text_blocks
    offered = list(dict.fromkeys(offer_images))
    shown = [b.src for b in parsed.blocks if isinstance(b, Image) and b.src in offered]
    for src in [*dict.fromkeys(shown), *(u for u in offered if u not in shown)]:
        blocks.append(Image(src))
    result = ShopDescription(blocks=tuple(blocks)).to_allegro({u: u for u in offered})
    return FixedDescription(result.description, tuple(dict.fromkeys(removed)), tuple(result.warnings))


def description_text(description: Description) -> str:
    """The visible text of an Allegro description (for checks and diffs)."""
    texts = [
        unescape(re.sub(r"<[^>]+>", " ", item.content))
        for s in description.sections
        for item in s.items
        if item.type == "TEXT"
    ]
    return re.sub(r"\s+", " ", " ".join(texts)).strip()


def blocks_text(blocks: Iterable[Block]) -> str:
    return " ".join(t for b in blocks if (t := block_text(b)))
