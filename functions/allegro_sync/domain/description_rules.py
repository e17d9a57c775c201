"""Allegro's description rules, checked independently of the converter that builds descriptions.

Kept apart from `description.py` on purpose: the property tests use it as the oracle for the converter, and
the listing-quality checker runs it on descriptions that came from anywhere (Allegro itself, a seller's own
edits), so it must not share the converter's assumptions. Rules: sections of one or two items; TEXT items
with non-empty HTML of `h1, h2, p, ul, ol, li, b` only, no attributes, nesting as Allegro checks it per
parent (#10073, #10541, #8576, #10656); IMAGE items with an http(s) url that is also one of the offer's
images (#6651); 1 to 100 sections (#12520); at most 40,000 bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from html.parser import HTMLParser
from typing import Any, Literal

from allegro_sync.contracts.offer_content import Description
from allegro_sync.domain.description import MAX_DESCRIPTION_BYTES, MAX_SECTIONS
from allegro_sync.domain.frozen import FrozenModel

# Which tags may sit directly inside which parent ("" = the top level of a TEXT item).
ALLOWED_CHILDREN: dict[str, frozenset[str]] = {
    "": frozenset({"h1", "h2", "p", "ul", "ol"}),
    "h1": frozenset(),
    "h2": frozenset(),
    "p": frozenset({"b"}),
    "ul": frozenset({"li"}),
    "ol": frozenset({"li"}),
    "li": frozenset({"b", "p"}),
    "b": frozenset(),
}
_TEXT_PARENTS = frozenset({"h1", "h2", "p", "li", "b"})

ProblemCode = Literal[
    "structure",
    "section_count",
    "section_items",
    "empty_text",
    "invalid_tag",
    "invalid_nesting",
    "attribute",
    "misplaced_text",
    "unbalanced",
    "empty_element",
    "image_url",
    "image_not_in_offer",
    "too_large",
]


class DescriptionProblem(FrozenModel):
    path: str
    code: ProblemCode
    message: str


class _TextChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.had_text: list[bool] = []
        self.found: list[tuple[ProblemCode, str]] = []

    def _mark_text(self) -> None:
        if self.had_text:
            self.had_text[-1] = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self.stack[-1] if self.stack else ""
        allowed = ALLOWED_CHILDREN.get(parent, frozenset())
        if tag not in ALLOWED_CHILDREN:
            self.found.append(("invalid_tag", f'Tag "{tag}" is not allowed (only h1, h2, p, ul, ol, li, b)'))
        elif tag not in allowed:
            where = f'"{parent}"' if parent else "the top level"
            self.found.append(("invalid_nesting", f'Tag "{tag}" may not appear in {where}'))
        if attrs:
            names = ", ".join(n for n, _ in attrs)
            self.found.append(("attribute", f'Tag "{tag}" has attributes ({names}); none are allowed'))
        self.stack.append(tag)
        self.had_text.append(False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.found.append(("invalid_tag", f'Self-closing "<{tag}/>" is not allowed'))
        self.stack.pop()
        self.had_text.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.found.append(("unbalanced", f'Closing tag "{tag}" does not match an open tag'))
            if tag in self.stack:
                while self.stack and self.stack[-1] != tag:
                    self.stack.pop()
                    self.had_text.pop()
            else:
                return
        self.stack.pop()
        had = self.had_text.pop()
        if not had:
            self.found.append(("empty_element", f'Element "{tag}" has no text'))
        else:
            self._mark_text()

    def handle_data(self, data: str) -> None:
        if not data.strip():
            return
        if not self.stack or self.stack[-1] not in _TEXT_PARENTS:
            where = f'"{self.stack[-1]}"' if self.stack else "the top level"
            self.found.append(("misplaced_text", f"Text may not appear directly in {where}"))
        self._mark_text()

    def finish(self) -> list[tuple[ProblemCode, str]]:
        self.close()
        if self.stack:
            self.found.append(("unbalanced", f'Tag "{self.stack[-1]}" is never closed'))
        return list(dict.fromkeys(self.found))


def text_item_problems(content: str) -> list[tuple[ProblemCode, str]]:
    """What Allegro would reject in one TEXT item's HTML (plus empty elements, which show as blank gaps)."""
    checker = _TextChecker()
    checker.feed(content)
    return checker.finish()


def validate_description(
    description: Description | Mapping[str, Any], *, offer_images: Collection[str] | None = None
) -> list[DescriptionProblem]:
    """Every problem Allegro would reject (empty list: fine). `offer_images`: the offer's `images` urls."""
    raw = description.model_dump(mode="json") if isinstance(description, Description) else description
    problems: list[DescriptionProblem] = []
    sections = raw.get("sections") if isinstance(raw, Mapping) else None
    if not isinstance(sections, list):
        return [DescriptionProblem(path="description", code="structure", message="sections must be a list")]
    if not 1 <= len(sections) <= MAX_SECTIONS:
        problems.append(
            DescriptionProblem(
                path="description.sections",
                code="section_count",
                message=f"{len(sections)} sections; Allegro takes 1 to {MAX_SECTIONS} (omit an empty one)",
            )
        )
    size = 0
    for s_index, section in enumerate(sections):
        path = f"description.sections[{s_index}]"
        items = section.get("items") if isinstance(section, Mapping) else None
        if not isinstance(items, list) or not 1 <= len(items) <= 2:
            problems.append(
                DescriptionProblem(
                    path=path, code="section_items", message="A section holds one or two items"
                )
            )
            continue
        for i_index, item in enumerate(items):
            item_path = f"{path}.items[{i_index}]"
            kind = item.get("type") if isinstance(item, Mapping) else None
            if kind == "TEXT":
                content = item.get("content")
                if not isinstance(content, str) or not content.strip():
                    problems.append(
                        DescriptionProblem(
                            path=item_path, code="empty_text", message="A TEXT item needs content"
                        )
                    )
                    continue
                size += len(content.encode("utf-8"))
                problems.extend(
                    DescriptionProblem(path=item_path, code=code, message=message)
                    for code, message in text_item_problems(content)
                )
            elif kind == "IMAGE":
                url = item.get("url")
                if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                    problems.append(
                        DescriptionProblem(
                            path=item_path, code="image_url", message="An IMAGE needs an http(s) url"
                        )
                    )
                    continue
                size += len(url.encode("utf-8"))
                if offer_images is not None and url not in offer_images:
                    problems.append(
                        DescriptionProblem(
                            path=item_path,
                            code="image_not_in_offer",
                            message=f"Image {url} is not in the offer's images (Allegro requires it there)",
                        )
                    )
            else:
                problems.append(
                    DescriptionProblem(
                        path=item_path, code="structure", message=f"Unknown item type {kind!r}"
                    )
                )
    if size > MAX_DESCRIPTION_BYTES:
        problems.append(
            DescriptionProblem(
                path="description",
                code="too_large",
                message=f"The description has {size:,} bytes; Allegro allows {MAX_DESCRIPTION_BYTES:,}",
            )
        )
    return problems
