"""One SKU's stock read from the shop now, with the shop's own time of the read (`ShopStockReader`).

Used to settle a sale the ledger is in doubt about (services/stock_recheck.py). What matters besides the
number is WHEN the shop read it, on the shop's clock: the ledger compares that time with the shop's
acknowledgement of the sale, and orders it against the shop's webhooks.

- WooCommerce: `GET /wp-json/wc/v3/products?sku=<sku>` (exact match, variations included since the v3
  controller), the stock as its webhook would carry it (`woocommerce.stock_of`), and the answer's `Date`
  header (RFC 9110: the origin's clock, whole seconds) less one second, so the time is never after the
  read. Without a `Date` header: our clock at the request less the ledger's clock-skew margin.
- Generic contract: the optional `stock_url` (docs/shop-adapters.md), `GET <stock_url>?sku=<sku>` signed
  like the order deliveries over an empty body, answered `{"sku", "stock", "read_at"[, "version"]}` or 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Annotated, ClassVar, Literal

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.woocommerce import WcProduct, stock_of
from allegro_sync.adapters.shop.woocommerce_rest import WooCommerceRest
from allegro_sync.contracts.shop import ShopStockLevel, ShopUnavailable
from allegro_sync.domain.ledger import DEFAULT_CLOCK_SKEW

USER_AGENT = "allegro-sync/stock-rechecker"
DATE_RESOLUTION = timedelta(seconds=1)


def _shop_time(response: httpx.Response, requested_at: float) -> datetime:
    try:
        return parsedate_to_datetime(response.headers["date"]).astimezone(UTC) - DATE_RESOLUTION
    except (KeyError, TypeError, ValueError):
        return datetime.fromtimestamp(requested_at, UTC) - DEFAULT_CLOCK_SKEW


class WooCommerceStock(WooCommerceRest):
    kind: Literal["woocommerce"] = "woocommerce"
    clock: Callable[[], float] = staticmethod(time.time)  # ours, only when the shop sends no Date

    def level(self, sku: str) -> ShopStockLevel | None:
        requested_at = self.clock()
        response = self._request("GET", "/products", params={"sku": sku})
        try:
            found = response.json()
        except ValueError:
            raise ShopUnavailable("WooCommerce sent non-JSON to GET /products") from None
        for raw in found if isinstance(found, list) else []:
            if not isinstance(raw, dict) or raw.get("sku") != sku:
                continue
            try:
                product = WcProduct.model_validate(raw)
            except ValidationError:
                continue
            return ShopStockLevel(stock_of(product), _shop_time(response, requested_at))
        return None


class StockIn(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sku: Annotated[str, Field(min_length=1, max_length=100)]
    stock: int | None
    read_at: AwareDatetime
    version: Annotated[int, Field(ge=0)] | None = None


@dataclass(frozen=True)
class GenericStock:
    url: str
    signing_secret: str
    http: httpx.Client
    clock: Callable[[], float] = time.time
    kind: ClassVar[Literal["generic"]] = "generic"

    def level(self, sku: str) -> ShopStockLevel | None:
        timestamp = int(self.clock())
        headers = {
            "User-Agent": USER_AGENT,
            **signing.signed_headers(self.signing_secret, f"stock-{timestamp}", b"", timestamp),
        }
        try:
            response = self.http.get(self.url, params={"sku": sku}, headers=headers)
        except httpx.HTTPError as exc:
            raise ShopUnavailable(f"the shop's stock endpoint did not answer: {type(exc).__name__}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ShopUnavailable(f"the shop's stock endpoint answered {response.status_code}")
        try:
            body = StockIn.model_validate_json(response.content)
        except ValidationError as exc:
            where = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
            raise ShopUnavailable(f"the shop's stock answer is not the documented shape: {where}") from None
        if body.sku != sku:
            raise ShopUnavailable(f"the shop's stock endpoint answered for another SKU than {sku!r}")
        return ShopStockLevel(body.stock, body.read_at, body.version)
