"""The catalogue's vocabulary and ports: shop products, offer links, category mappings, the change log.

Use cases (`services/publishing/`, the CLI) depend on the Protocols here; the DynamoDB adapters
(`adapters/dynamodb/catalog.py`, `mappings.py`, `changes.py`) implement them, and unit tests use fakes.
Everything a seller may want to read back ("why is my product not on Allegro?", "who changed this price?")
is stored in plain words next to the machine-readable state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from allegro_sync.contracts.allegro import CategorySuggestion
from allegro_sync.contracts.catalog import (
    ANY_ACCOUNT,
    CategoryMapping,
    Change,
    OfferLink,
    Outcome,
    ProductStatus,
    StoredMapping,
    StoredProduct,
    category_label,
)
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.domain.pricing import ScopedRule


class CatalogRepository(Protocol):
    def accept(self, product: StoredProduct, *, new_content: bool = True) -> Outcome:
        """Store the product state unless a newer event is already stored (equal = a redelivery: accepted).

        `new_content=False`: only stock, price or deletion changed; the stored upsert (the product's
        content, often several KB) is not written again.
        """
        ...

    def accept_noting_new(self, product: StoredProduct, *, new_content: bool = True) -> tuple[Outcome, bool]:
        """`accept`, and whether no state of this SKU was stored before (in the same write: a new product's
        stock ledger then needs no read either)."""
        ...

    def product(self, sku: str) -> StoredProduct | None: ...

    def link(self, sku: str, account: str) -> OfferLink | None: ...

    def links(self, sku: str) -> list[OfferLink]: ...

    def existing_links(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (SKU, account) links exist: one batched read for an SQS batch's events."""
        ...

    def save_link(self, link: OfferLink) -> None: ...

    def replace_link(self, link: OfferLink, *, offer_id: str) -> bool:
        """Save `link` only while the stored link still names offer `offer_id`; False when it moved on."""
        ...

    def status(self, sku: str) -> ProductStatus: ...


class LinkWrites(Protocol):
    """An offer link and the changes recorded while making it, written together (one call in AWS)."""

    def save(self, link: OfferLink, changes: Sequence[Change]) -> None: ...


class MappingsRepository(Protocol):
    def category_mappings(self, account: str) -> list[StoredMapping]:
        """The account's own mappings and the ones for every account."""
        ...

    def pricing_rules(self) -> list[ScopedRule]: ...


class ChangeLog(Protocol):
    def record(self, change: Change) -> None: ...

    def history(self, sku: str, *, limit: int = 100) -> list[Change]: ...


def with_shop_level(status: ProductStatus, level: int | None) -> ProductStatus:
    """The product with the shop's last stock level, which the stock ledger alone keeps (issue 21: a stock
    change does not write the product item, whose `stock` is only what the last upsert said)."""
    if status.product is None:
        return status
    return replace(status, product=replace(status.product, stock=level))


def status_lines(status: ProductStatus, history: Sequence[Change] = ()) -> list[str]:
    """`products status SKU` in words: the product, each account's offer and why, the latest changes.
    `status`: `with_shop_level`, so the stock shown is the shop's last level."""
    product = status.product
    if product is None:
        return ["unknown SKU: the shop has not sent this product yet"]
    upsert = product.upsert
    lines = [
        f"{product.sku}: {upsert.name if upsert else '(only stock/price seen so far)'}"
        + (" [deleted in the shop]" if product.deleted else ""),
        f"  shop: price {product.price if product.price is not None else '?'}, "
        f"stock {product.stock if product.stock is not None else '?'}"
        + (f", category {category_label(upsert.category_path)}" if upsert else ""),
    ]
    if not status.links:
        lines.append("  no seller account has processed it yet")
    for link in status.links:
        offer = f"offer {link.offer_id}" if link.offer_id else "no offer"
        price = f", price {link.price}" if link.price else ""
        lines.append(f"  {link.account}: {link.status.value} ({offer}{price})")
        lines.extend(f"    - {reason}" for reason in link.reasons)
        lines.extend(f"    * candidate {c.get('id')}: {c.get('name', '')}" for c in link.candidates)
    for change in history:
        lines.append(
            f"  {change.at} {change.account} {change.action} offer {change.offer_id}: {change.summary}"
        )
        lines.append(f"    why: {change.reason}")
    return lines


class CategorySuggester(Protocol):
    """`GET /sale/matching-categories?name=` (AllegroClient.matching_categories)."""

    def matching_categories(self, name: str) -> list[CategorySuggestion]: ...


def suggest_mappings(
    products: Iterable[ProductUpsert],
    existing: Sequence[StoredMapping],
    allegro: CategorySuggester,
    *,
    account: str = ANY_ACCOUNT,
    at: str = "",
) -> list[StoredMapping]:
    """PENDING mappings for the shop categories nobody has mapped yet (`mappings suggest`).

    One Allegro call per unmapped shop category, asked with the name of its first product; Allegro's best
    leaf is proposed and the seller approves (or changes) it, because a wrong category means a wrong
    listing. Categories already mapped (approved or pending, for this account or every account) are
    skipped, so running it again never overwrites a seller's choice.
    """
    known = {_path_key(m.mapping.shop_path) for m in existing if m.account in (account, ANY_ACCOUNT)}
    first_product: dict[tuple[str, ...], ProductUpsert] = {}
    for product in products:
        key = _path_key(product.category_path)
        if key not in known:
            first_product.setdefault(key, product)
    suggested: list[StoredMapping] = []
    for product in first_product.values():
        candidates = allegro.matching_categories(product.name)
        if not candidates:
            continue
        best = candidates[0]
        chain: list[CategorySuggestion] = []
        node: CategorySuggestion | None = best
        while node is not None:
            chain.append(node)
            node = node.parent
        others = ", ".join(f"{c.id} {c.name}" for c in candidates[1:])
        suggested.append(
            StoredMapping(
                mapping=CategoryMapping(shop_path=list(product.category_path), allegro_category_id=best.id),
                account=account,
                category_name=" > ".join(c.name for c in reversed(chain)),
                category_path=tuple(c.id for c in reversed(chain)),
                note=f"suggested by Allegro for {product.name!r}" + (f"; also: {others}" if others else ""),
                updated_at=at,
            )
        )
    return suggested


def _path_key(path: Sequence[str]) -> tuple[str, ...]:
    return tuple(" ".join(part.casefold().split()) for part in path)
