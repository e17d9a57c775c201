"""The catalogue's vocabulary: shop products, offer links, category mappings and the change log's entries.

The catalogue use cases (`services.catalog`, `services.publishing`) and the DynamoDB adapters that store
these (`adapters/dynamodb/catalog.py`, `mappings.py`, `changes.py`) share them. Everything a seller may want
to read back ("why is my product not on Allegro?", "who changed this price?") is kept in plain words next to
the machine-readable state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from allegro_sync.contracts.messages import ProductUpsert

CATEGORY_SEPARATOR = " > "
ANY_ACCOUNT = "*"


def order_key(occurred_at: datetime, version: int | None) -> str:
    """(occurred_at, version) as a string that sorts like the tuple, so DynamoDB can compare it.

    Microseconds since the epoch, zero-padded, then the version shifted by one (no version sorts
    first), so `a < b` as strings exactly when event a is older than event b.
    """
    micros = round(occurred_at.timestamp() * 1_000_000)
    return f"{micros:020d}:{(version if version is not None else -1) + 1:020d}"


def category_label(path: list[str] | tuple[str, ...]) -> str:
    return CATEGORY_SEPARATOR.join(path)


class LinkStatus(StrEnum):
    PUBLISHED = "PUBLISHED"  # the offer is on Allegro as the shop wants it
    WAITING = "WAITING"  # something only the seller can fix (mapping, conflict, missing data, no stock)
    FAILED = "FAILED"  # Allegro rejected the content (422); the reasons say what to change
    ENDED = "ENDED"  # the offer was ended (product deleted or sold out in the shop)


@dataclass(frozen=True)
class StoredProduct:
    """The newest state of a shop product the worker has accepted (its `order_key` guards it)."""

    sku: str
    order_key: str
    deleted: bool = False
    upsert: ProductUpsert | None = None  # the last full picture (None: only stock/price seen so far)
    stock: int | None = None
    price: Decimal | None = None
    updated_at: str = ""


@dataclass(frozen=True)
class OfferLink:
    """One SKU on one seller account: which offer, in what state, and why."""

    sku: str
    account: str
    status: LinkStatus
    offer_id: str | None = None
    product_id: str | None = (
        None  # the Allegro catalogue product the offer is linked to (or the seller chose)
    )
    reasons: tuple[str, ...] = ()  # readable, for `products status`
    last_error: dict[str, Any] | None = None  # Allegro's codes/metadata of the last rejection
    candidates: tuple[dict[str, str], ...] = ()  # catalogue products when one EAN matches several
    synced: dict[str, str] = field(default_factory=dict)  # field -> fingerprint of what Allegro has
    images: dict[str, str] = field(default_factory=dict)  # shop image URL -> Allegro location in use
    price: str | None = None  # the Allegro price last set ("123.99")
    applied_key: str = ""  # order key of the last event fully applied to this link
    creating_since: str = ""  # set just before POST /sale/product-offers; cleared once the answer is saved
    updated_at: str = ""


@dataclass(frozen=True)
class ProductStatus:
    """What `allegro-sync products status SKU` shows."""

    product: StoredProduct | None
    links: list[OfferLink]


@dataclass(frozen=True)
class StoredMapping:
    """A category mapping (`domain.parameters.CategoryMapping`) for every account or for one (`account`).

    Only approved mappings publish; `mappings suggest` stores unapproved ones for the seller to review.
    """

    mapping: CategoryMapping
    account: str = ANY_ACCOUNT
    category_name: str = ""  # Allegro's name of the category, for `mappings list`
    category_path: tuple[str, ...] = ()  # Allegro ids root -> leaf when known (pricing by parent category)
    note: str = ""  # where a suggestion came from
    updated_at: str = ""

    @property
    def label(self) -> str:
        return category_label(self.mapping.shop_path)

    @property
    def status(self) -> str:
        return "APPROVED" if self.mapping.approved else "PENDING"


@dataclass(frozen=True)
class Change:
    """One change made on Allegro, with the reason a seller can read."""

    sku: str
    account: str
    offer_id: str
    action: str  # "create", "update", "price", "stock", "end", "activate"
    changes: dict[str, dict[str, Any]]  # field -> {"old": ..., "new": ...}
    reason: str
    event_id: str = ""  # the shop delivery that caused it
    rule: str = ""  # the pricing rule / mapping involved
    at: str = ""

    @property
    def summary(self) -> str:
        """What changed in a seller's words: "price 100.00 -> 120.00", "stock 3" (set for the first time),
        "description changed" (stored as a digest, never shown); `repricing` details are left out."""
        return ", ".join(
            _field_change(name, value.get("old"), value.get("new"))
            for name, value in self.changes.items()
            if name not in _DETAILS
        )


_DIGESTS = frozenset({"parameters", "images", "description"})  # fingerprints: a hash, not a value
_DETAILS = frozenset({"repricing"})


def _field_change(name: str, old: Any, new: Any) -> str:
    if name in _DIGESTS:
        return f"{name} set" if old is None else f"{name} changed"
    if name == "name":
        old, new = (f"'{v}'" if v else v for v in (old, new))
    old, new = ("..".join(map(str, v)) if isinstance(v, list | tuple) else v for v in (old, new))
    if old is None:
        return f"{name} {new if new is not None else '-'}"
    if new is None:
        return f"{name} {old} removed"
    return f"{name} {old} -> {new}"


class Outcome(StrEnum):
    APPLIED = "APPLIED"
    STALE = "STALE"  # older than what the catalogue has: acknowledged and ignored


class ParameterMapping(BaseModel):
    """Where an Allegro parameter's value comes from: a shop attribute (with an optional value map), or a
    constant (e.g. Stan = Nowy for every product of a shop that sells only new goods)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    parameter_id: Annotated[str, Field(min_length=1)]
    shop_attribute: str | None = None
    constant: str | None = None
    value_map: dict[str, str] = {}


class CategoryMapping(BaseModel):
    """A shop category path prefix -> Allegro category, plus its parameter mappings. Only approved
    mappings are used: a suggested (e.g. by /sale/matching-categories) but unreviewed one is not."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    shop_path: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    allegro_category_id: Annotated[str, Field(min_length=1)]
    approved: bool = False
    parameters: list[ParameterMapping] = []
