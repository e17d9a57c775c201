"""The seller's competitor-price feed: CSV or JSON in, clean prices per SKU out, every bad row named.

Allegro's API shows no rival prices (#11890), so the seller brings them from a source they own. The format
(docs/repricing.md): CSV with a header `sku|ean, competitor, price[, currency]`, or JSON
`{"prices": [{"sku"|"ean": ..., "competitor": ..., "price": "12.34", "currency": "PLN"}]}` (or a bare list).
A garbage row (no id, non-numeric, negative or zero price, unknown SKU/EAN, another currency) is skipped
with its reason and changes nothing; the good rows still count.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from allegro_sync.domain.pricing import CENT
from allegro_sync.domain.repricing import CompetitorPrice

MAX_PRICE = Decimal("9999999999.99")


@dataclass(frozen=True)
class SkippedRow:
    row: int  # 1-based data row (CSV: not counting the header)
    reason: str


@dataclass
class FeedResult:
    prices: dict[str, list[CompetitorPrice]] = field(default_factory=dict)
    skipped: list[SkippedRow] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(len(v) for v in self.prices.values())


class FeedFormatError(ValueError):
    """The whole feed is unreadable (not CSV with the expected header, not JSON of the documented shape)."""


def parse_feed(
    raw: bytes | str,
    *,
    known_skus: frozenset[str],
    ean_to_sku: Mapping[str, str] | None = None,
    currency: str = "PLN",
    kind: str | None = None,
) -> FeedResult:
    """Parse a CSV or JSON feed (`kind` "csv"/"json", or guessed from the first character)."""
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    if kind is None:
        kind = "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    rows = _json_rows(text) if kind == "json" else _csv_rows(text)
    result = FeedResult()
    eans = ean_to_sku or {}
    for number, row in enumerate(rows, start=1):
        reason, price = _check(row, known_skus, eans, currency)
        if reason or price is None:
            result.skipped.append(SkippedRow(number, reason or "invalid row"))
        else:
            result.prices.setdefault(price.sku, []).append(price)
    return result


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    header = {h.strip().lower() for h in reader.fieldnames or []}
    if not ({"sku", "ean"} & header) or not {"competitor", "price"} <= header:
        raise FeedFormatError(f"CSV header must have sku or ean, competitor, price; got {sorted(header)}")
    return [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]


def _json_rows(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FeedFormatError(f"feed is not valid JSON: {error}") from None
    rows = data.get("prices") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise FeedFormatError('JSON feed must be a list or {"prices": [...]}')
    return [r if isinstance(r, dict) else {} for r in rows]


def _check(  # noqa: PLR0911 - one return per named reason
    row: Mapping[str, Any], known_skus: frozenset[str], eans: Mapping[str, str], currency: str
) -> tuple[str | None, CompetitorPrice | None]:
    sku = str(row.get("sku") or "").strip()
    ean = str(row.get("ean") or "").strip()
    if not sku and ean:
        if ean not in eans:
            return f"unknown EAN {ean!r}", None
        sku = eans[ean]
    if not sku:
        return "no sku or ean", None
    if sku not in known_skus:
        return f"unknown SKU {sku!r}", None
    competitor = str(row.get("competitor") or "").strip()
    if not competitor:
        return "no competitor", None
    row_currency = str(row.get("currency") or currency).strip().upper()
    if row_currency != currency:
        return f"currency {row_currency} is not {currency}", None
    raw_price = row.get("price")
    if isinstance(raw_price, bool) or raw_price is None:
        return f"price {raw_price!r} is not a number", None
    try:
        price = Decimal(str(raw_price).strip().replace(",", "."))
    except InvalidOperation:
        return f"price {raw_price!r} is not a number", None
    if not price.is_finite():
        return f"price {raw_price!r} is not a number", None
    if price <= 0 or price > MAX_PRICE:
        return f"price {price} is out of range", None
    return None, CompetitorPrice(sku=sku, competitor=competitor, price=price.quantize(CENT))
