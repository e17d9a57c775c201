"""Allegro's fees per category for a round, cached per price band as a line `fixed + rate * price`.

A fee preview costs an Allegro call, so fees are measured at the two ends of a price band, kept for a day
in the store and interpolated inside the band.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from allegro_sync.contracts.allegro_errors import AllegroError
from allegro_sync.domain.pricing import CENT
from allegro_sync.domain.repricing import FeeAt, FeesUnknown, LinearFee
from allegro_sync.services.repricing.ports import RepricingAllegro, RepricingStore

FEE_TTL = timedelta(hours=24)
# Price bands for the fee cache: fees are measured at both ends of a band and interpolated inside it.
BANDS = (Decimal(0), Decimal(20), Decimal(50), Decimal(100), Decimal(200), Decimal(500), Decimal(1000))
BAND_TOP = Decimal(10_000)
PREVIEW_NAME = "Podgląd opłat"  # PricingOffer.name is required by the spec; the fee does not depend on it


def band_of(price: Decimal) -> int:
    index = 0
    for i, low in enumerate(BANDS):
        if price >= low:
            index = i
    return index


def band_edges(band: int) -> tuple[Decimal, Decimal]:
    low = max(BANDS[band], Decimal("1.00"))
    high = (BANDS[band + 1] if band + 1 < len(BANDS) else BAND_TOP) - CENT
    return low, high


class FeeBook:
    """Fee functions per category for one round: the store's cache first, then two fee previews per band."""

    def __init__(
        self,
        store: RepricingStore,
        client: RepricingAllegro,
        now: datetime,
        *,
        marketplace: tuple[str, str] | None = None,
    ) -> None:
        """`marketplace`: (id, currency) of an additional marketplace whose fees this book measures (its
        lines are cached under `category@marketplace`, prices in its currency)."""
        self._store, self._client, self._now = store, client, now
        self._marketplace = marketplace
        self._lines: dict[tuple[str, int], LinearFee] = {}
        self.previews = 0

    def for_category(self, category_id: str | None) -> FeeAt | None:
        if not category_id:
            return None
        return lambda price: self._line(category_id, band_of(price)).at(price)

    def _line(self, category_id: str, band: int) -> LinearFee:
        key = (category_id, band)
        cached_as = f"{category_id}@{self._marketplace[0]}" if self._marketplace else category_id
        if key not in self._lines:
            line = self._store.fee(cached_as, band, self._now)
            if line is None:
                low, high = band_edges(band)
                try:
                    f_low, f_high = self._preview(category_id, low), self._preview(category_id, high)
                except AllegroError as error:
                    raise FeesUnknown(f"fee preview for category {category_id} failed: {error}") from error
                rate = (f_high - f_low) / (high - low)
                line = LinearFee(
                    fixed=(f_low - rate * low).quantize(Decimal("0.0001")),
                    rate=rate.quantize(Decimal("0.000001")),
                )
                self._store.save_fee(cached_as, band, line, self._now + FEE_TTL)
            self._lines[key] = line
        return self._lines[key]

    def _preview(self, category_id: str, price: Decimal) -> Decimal:
        self.previews += 1
        currency = self._marketplace[1] if self._marketplace else "PLN"
        body: dict[str, Any] = {
            "offer": {
                "name": PREVIEW_NAME,
                "category": {"id": category_id},
                "sellingMode": {
                    "format": "BUY_NOW",
                    "price": {"amount": amount(price), "currency": currency},
                },
            }
        }
        if self._marketplace:  # the marketplace's own fees, in its currency (#7346)
            body["marketplaceId"] = self._marketplace[0]
        preview = self._client.offer_fee_preview(body)
        # Commissions are charged per sale; quotes are listing fees per 30-day cycle, not per sale.
        return sum(
            (Decimal(str(c.get("fee", {}).get("amount", "0"))) for c in preview.commissions), Decimal(0)
        )


def amount(value: Decimal) -> str:
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")
