"""The seller's side of category mappings: `mappings suggest / set / approve`.

Suggestions come from Allegro's matching categories (`services.catalog.suggest_mappings`) for the shop
categories no mapping covers yet; they are stored PENDING and publish nothing until the seller approves them,
because a wrong category means a wrong listing. `set` writes an APPROVED mapping the seller chose, with the
parameter mappings written as `ATTR=PARAM_ID[,SHOP_VALUE:ALLEGRO_VALUE...]` and `PARAM_ID=CONSTANT`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from pydantic import ValidationError

from allegro_sync.contracts.catalog import (
    ANY_ACCOUNT,
    CATEGORY_SEPARATOR,
    CategoryMapping,
    ParameterMapping,
    StoredMapping,
)
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.services.catalog import CategorySuggester, suggest_mappings


class MappingInputError(ValueError):
    """A mapping the seller typed cannot be used; nothing was stored."""


class MappingStore(Protocol):
    def all_category_mappings(self) -> list[StoredMapping]: ...

    def get_mapping(self, shop_path: Sequence[str], account: str = ANY_ACCOUNT) -> StoredMapping | None: ...

    def put_mapping(self, stored: StoredMapping) -> None: ...


def shop_path(text: str) -> list[str]:
    """'Elektronika > Audio > Słuchawki' -> its segments; MappingInputError when empty."""
    parts = [p.strip() for p in text.split(">") if p.strip()]
    if not parts:
        raise MappingInputError(f"{text!r} is not a shop category path (A > B > C)")
    return parts


def _norm(segment: str) -> str:
    return " ".join(segment.casefold().split())


def covered(path: Sequence[str], mappings: Iterable[StoredMapping], account: str) -> bool:
    """Whether a mapping (approved or pending, this account's or everyone's) covers the path by prefix."""
    key = [_norm(p) for p in path]
    return any(
        [_norm(p) for p in m.mapping.shop_path] == key[: len(m.mapping.shop_path)]
        for m in mappings
        if m.account in (account, ANY_ACCOUNT)
    )


def unmapped_categories(
    products: Iterable[ProductUpsert], mappings: Sequence[StoredMapping], account: str = ANY_ACCOUNT
) -> dict[str, int]:
    """Distinct shop category paths no mapping covers (as first spelled), with how many products each has."""
    counts: dict[str, int] = {}
    labels: dict[tuple[str, ...], str] = {}
    for product in products:
        if not covered(product.category_path, mappings, account):
            key = tuple(_norm(p) for p in product.category_path)
            label = labels.setdefault(key, CATEGORY_SEPARATOR.join(product.category_path))
            counts[label] = counts.get(label, 0) + 1
    return counts


def suggest_and_store(
    products: Iterable[ProductUpsert],
    store: MappingStore,
    allegro: CategorySuggester,
    *,
    account: str = ANY_ACCOUNT,
    at: str = "",
) -> list[StoredMapping]:
    """Ask Allegro once per uncovered shop category and store each answer PENDING; never replaces one."""
    existing = store.all_category_mappings()
    uncovered = [p for p in products if not covered(p.category_path, existing, account)]
    suggested = suggest_mappings(uncovered, existing, allegro, account=account, at=at)
    for mapping in suggested:
        if store.get_mapping(mapping.mapping.shop_path, mapping.account) is None:  # a seller's choice wins
            store.put_mapping(mapping)
    return suggested


def parse_parameter(spec: str) -> ParameterMapping:
    """`Kolor=219` (shop attribute -> parameter) or `Typ=219,on-ear:nauszne,in-ear:douszne` (value map)."""
    attribute, sep, rest = spec.partition("=")
    pieces = [p.strip() for p in rest.split(",")]
    if not sep or not attribute.strip() or not pieces[0]:
        raise MappingInputError(
            f"--param {spec!r}: write ATTRIBUTE=PARAMETER_ID[,SHOP_VALUE:ALLEGRO_VALUE...]"
        )
    value_map: dict[str, str] = {}
    for pair in pieces[1:]:
        shop, colon, allegro = pair.partition(":")
        if not colon or not shop.strip() or not allegro.strip():
            raise MappingInputError(f"--param {spec!r}: {pair!r} is not SHOP_VALUE:ALLEGRO_VALUE")
        value_map[shop.strip()] = allegro.strip()
    return ParameterMapping(parameter_id=pieces[0], shop_attribute=attribute.strip(), value_map=value_map)


def parse_constant(spec: str) -> ParameterMapping:
    """`11323=Nowy`: the parameter has this value for every product of the category."""
    parameter, sep, value = spec.partition("=")
    if not sep or not parameter.strip() or not value.strip():
        raise MappingInputError(f"--const {spec!r}: write PARAMETER_ID=VALUE")
    return ParameterMapping(parameter_id=parameter.strip(), constant=value.strip())


def set_mapping(
    store: MappingStore,
    path_text: str,
    category_id: str,
    *,
    params: Sequence[str] = (),
    constants: Sequence[str] = (),
    account: str = ANY_ACCOUNT,
    category_name: str = "",
    at: str = "",
) -> StoredMapping:
    """Store the seller's APPROVED mapping (replacing a suggestion); every input checked before writing."""
    path = shop_path(path_text)
    if not category_id.strip():
        raise MappingInputError("the Allegro category id is empty")
    parameters = [parse_parameter(p) for p in params] + [parse_constant(c) for c in constants]
    ids = [p.parameter_id for p in parameters]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise MappingInputError(f"parameter(s) {', '.join(twice)} mapped more than once")
    try:
        mapping = CategoryMapping(
            shop_path=path, allegro_category_id=category_id.strip(), approved=True, parameters=parameters
        )
    except ValidationError as error:
        raise MappingInputError(str(error)) from None
    stored = StoredMapping(
        mapping=mapping, account=account, category_name=category_name, note="set by the seller", updated_at=at
    )
    store.put_mapping(stored)
    return stored
