"""What a shop product must be before it may reach Allegro, and what Allegro's limits will cut; no I/O.

One place for every path a product enters (catalogue file, generic webhook, WooCommerce webhook): the
catalogue import refuses the row, the catalog worker keeps the product off Allegro with the same reason.
The webhook contract itself stays permissive (a price of 0 or a mistyped EAN is the shop's real state, and
answering it with an error would only make the shop resend what it cannot change).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.domain.description import MAX_DESCRIPTION_BYTES, parse_shop_html
from allegro_sync.domain.title import MAX_LENGTH, allegro_length, build_title, clean_text


@dataclass(frozen=True)
class FieldProblem:
    """A field of a product that keeps it off Allegro (or, as a warning, that Allegro's limits shorten)."""

    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


def gtin_check_digit(digits: str) -> int:
    """The GS1 check digit for the digits before it (EAN-8, UPC-A, EAN-13, GTIN-14 alike)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def ean_problem(ean: str) -> str | None:
    """Why `ean` is not a valid EAN/GTIN (8 or 12-14 digits, last one the GS1 check digit), or None."""
    if not ean.isdigit() or len(ean) not in (8, 12, 13, 14):
        return f"{ean!r} is not an EAN (8 or 12-14 digits); fix it in the shop or leave it empty"
    expected = gtin_check_digit(ean[:-1])
    if int(ean[-1]) != expected:
        return (
            f"{ean} has a wrong check digit (the last digit should be {expected}): a mistyped EAN would "
            "link the offer to another product; fix it in the shop or leave it empty"
        )
    return None


def price_problem(price: Decimal) -> str | None:
    """Why the shop price cannot be sold at, or None (Allegro needs a price above 0)."""
    if price <= 0:
        return (
            f"{price:.2f} is not a selling price (it must be above 0); nothing is published at a price "
            "the shop did not set: fix the price in the shop"
        )
    return None


def product_problems(product: ProductUpsert, *, price: Decimal | None = None) -> list[FieldProblem]:
    """What keeps `product` off Allegro; `price`: a newer shop price than the product's own."""
    problems = []
    shown = product.price if price is None else price
    if (why := price_problem(shown)) is not None:
        problems.append(FieldProblem("price", why))
    if product.ean and (why := ean_problem(product.ean)) is not None:
        problems.append(FieldProblem("ean", why))
    return problems


def shortened_title(name: str, title: str) -> str | None:
    """The words of the shop `name` the Allegro `title` leaves out (None: the name fitted, nothing cut)."""
    full = clean_text(name)
    if allegro_length(full) <= MAX_LENGTH:
        return None
    kept = Counter(title.split())
    left_out = []
    for word in full.split():
        if kept[word] > 0:
            kept[word] -= 1
        else:
            left_out.append(word)
    return " ".join(left_out) or None


def title_warning(product: ProductUpsert, title: str | None = None) -> str | None:
    """'shortened: title ...' when Allegro's 75 characters cut the shop name, else None."""
    title = title if title is not None else build_title(product.name, product.attributes, sku=product.sku)
    cut = shortened_title(product.name, title)
    if cut is None:
        return None
    shown = cut if len(cut) <= 60 else cut[:57] + "..."
    return f"shortened: title cut to Allegro's 75 characters, {title!r}; left out: {shown!r}"


def shortening_warnings(product: ProductUpsert) -> list[FieldProblem]:
    """What Allegro's limits will cut from `product` (title, description text), before publishing."""
    found = []
    if (title := title_warning(product)) is not None:
        found.append(FieldProblem("name", title))
    if product.description_html:
        description = parse_shop_html(product.description_html)
        images = {src: src for src in description.image_sources}
        for warning in description.to_allegro(images, max_bytes=MAX_DESCRIPTION_BYTES).warnings:
            if warning.code == "truncated":
                found.append(FieldProblem("description_html", f"shortened: {warning.message}"))
    return found
