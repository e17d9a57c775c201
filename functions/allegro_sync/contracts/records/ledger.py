"""Items of the `ledger` table: each SKU's stock state, its sales, and what was pushed to Allegro.

Layout (string keys `pk`, `sk`):
- SKU state:  pk="sku#<sku>", sk="state"             `LedgerStateItem` (`revision` guards every write)
- sale:       pk="sku#<sku>", sk="sale#<sale id>"    `SaleItem` (`rev` guards; TTL `expires_at`)
- pushed:     pk="sku#<sku>", sk="pushed"            the newest revision handed to propagation (one number,
  `revision`, set by a conditional update)
- per offer:  pk="sku#<sku>", sk="pushed#<offer id>" `PushedItem` (only a newer revision wins)
- category:   pk="category#<category>", sk="buffer"  `CategoryBufferItem`
Times are ISO strings, as `datetime.isoformat()` writes them; the adapter turns them into the domain's
datetimes (`domain.ledger`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from allegro_sync.contracts.records.item import Item


class _Part(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True, coerce_numbers_to_str=True)


class LevelPart(_Part):
    """The shop's last reported stock level (`quantity` None: the shop could not say)."""

    quantity: int | None = None
    at: str
    version: int | None = None


class OpenSalePart(_Part):
    """A sale the shop's level does not reflect yet."""

    quantity: int
    sold_at: str
    account: str
    ack_at: str | None = None
    ack_version: int | None = None


class OfferPart(_Part):
    """A linked offer and its optional quantity cap."""

    account: str
    cap: int | None = None


class LedgerStateItem(Item):
    """One SKU's ledger (`domain.ledger.SkuLedger`): one strongly consistent read decides availability."""

    sku: str
    revision: int
    level: LevelPart | None = None
    buffer: int | None = None
    category: str | None = None
    open_sales: dict[str, OpenSalePart] = Field(default_factory=dict)  # sale id -> sale
    offers: dict[str, OfferPart] = Field(default_factory=dict)  # offer id -> link


class SaleItem(Item):
    """One sale's exactly-once record (`domain.ledger.SaleRecord`); `rev` counts its writes."""

    sale_id: str
    sku: str
    status: str
    rev: int
    quantity: int | None = None
    sold_at: str | None = None
    account: str | None = None
    offer_id: str | None = None
    shop_ack_at: str | None = None
    shop_ack_version: int | None = None
    cancelled_at: str | None = None
    expires_at: int | None = None  # epoch seconds (TTL), once cancelled or acknowledged


class PushedItem(Item):
    """What was last pushed to one offer (`contracts.stock.PushRecord`)."""

    revision: int
    action: Literal["SET", "END"]
    quantity: int
    account: str = ""
    recent: str | None = None  # JSON: the offer's newest stock changes with their reasons (bounded)


class CategoryBufferItem(Item):
    """A category's default safety buffer."""

    buffer: int | None = None
