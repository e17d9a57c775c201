"""What the repricer keeps between rounds and reads from elsewhere (catalogue facts, the competitor feed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class OfferState:
    """What the repricer remembers per offer between rounds."""

    sku: str
    last_changed_at: datetime | None = None
    assigned_range: tuple[str, Decimal, Decimal] | None = None
    campaign: str | None = None  # the Allegro campaign that owned the buyer's price last round (issue 14)


@dataclass(frozen=True)
class ProductFacts:
    cost: Decimal | None
    list_price: Decimal | None
    ean: str | None = None
    stock: int | None = None  # the stock ledger's available stock; None: use what the offer shows


class FeedUnavailable(RuntimeError):
    """The competitor feed could not be fetched; feed-driven offers hold this round."""
