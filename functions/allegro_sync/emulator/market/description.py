"""Allegro's description rules, checked the way Allegro checks them (pure, no state).

TEXT items allow only `h1, h2, p, ul, ol, li, b`, without attributes; `<strong>` is rejected (#10073);
paragraphs do not nest (#10541) and nesting in general is checked per parent, which is where errors like
`Invalid tag "ul", allowed tags: {b, p}` come from (#8576, #10656). The whole description is at most
40,000 bytes. A section holds one or two items.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

MAX_DESCRIPTION_BYTES = 40_000
ALLOWED_TAGS = frozenset({"h1", "h2", "p", "ul", "ol", "li", "b"})
# Which tags may appear directly inside which parent ("" is the top level of a TEXT item).
CHILDREN: dict[str, frozenset[str]] = {
    "": frozenset({"h1", "h2", "p", "ul", "ol"}),
    "h1": frozenset(),
    "h2": frozenset(),
    "p": frozenset({"b"}),
    "ul": frozenset({"li"}),
    "ol": frozenset({"li"}),
    "li": frozenset({"b", "p"}),
    "b": frozenset(),
}
TEXT_PARENTS = frozenset({"h1", "h2", "p", "li", "b"})


def _braces(tags: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(tags)) + "}"


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self.stack[-1] if self.stack else ""
        if tag not in ALLOWED_TAGS:
            self.problems.append(f'Invalid tag "{tag}", allowed tags: {_braces(ALLOWED_TAGS)}')
        elif tag not in CHILDREN[parent]:
            self.problems.append(f'Invalid tag "{tag}", allowed tags: {_braces(CHILDREN[parent])}')
        if attrs:
            names = ", ".join(name for name, _ in attrs)
            self.problems.append(f'Tag "{tag}" must not have attributes ({names})')
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f'Invalid tag "{tag}", allowed tags: {_braces(ALLOWED_TAGS)}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f'Unexpected closing tag "{tag}"')
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and (not self.stack or self.stack[-1] not in TEXT_PARENTS):
            where = self.stack[-1] if self.stack else "the top level"
            self.problems.append(f"Text is not allowed directly in {where}")

    def close(self) -> None:
        super().close()
        if self.stack:
            self.problems.append(f'Unclosed tag "{self.stack[-1]}"')


def html_problems(content: str) -> list[str]:
    """Everything wrong with one TEXT item's HTML (empty list: it is fine)."""
    checker = _Checker()
    checker.feed(content)
    checker.close()
    return list(dict.fromkeys(checker.problems))


def description_problems(description: Any) -> list[tuple[str, str]]:
    """(path, message) pairs for everything Allegro would reject in `description`."""
    if not isinstance(description, dict):
        return [("description", "description must be an object with sections")]
    sections = description.get("sections")
    if not isinstance(sections, list):
        return [("description.sections", "sections must be a list")]
    problems: list[tuple[str, str]] = []
    size = 0
    for s_index, section in enumerate(sections):
        items = section.get("items") if isinstance(section, dict) else None
        path = f"description.sections[{s_index}]"
        if not isinstance(items, list) or not 1 <= len(items) <= 2:
            problems.append((path, "A section must have one or two items"))
            continue
        for i_index, item in enumerate(items):
            item_path = f"{path}.items[{i_index}]"
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "TEXT":
                content = item.get("content")
                if not isinstance(content, str) or not content.strip():
                    problems.append((item_path, "A TEXT item needs content"))
                    continue
                size += len(content.encode("utf-8"))
                problems.extend((item_path, p) for p in html_problems(content))
            elif kind == "IMAGE":
                url = item.get("url")
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    problems.append((item_path, "An IMAGE item needs an http(s) url"))
            else:
                problems.append((item_path, f"Unknown item type {kind!r}: use TEXT or IMAGE"))
    if size > MAX_DESCRIPTION_BYTES:
        problems.append(("description", f"The description has {size} bytes, at most {MAX_DESCRIPTION_BYTES}"))
    return problems
