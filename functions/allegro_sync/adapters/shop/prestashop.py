"""PrestaShop's Webservice API (`/api/`): the client, and what changed since a cursor (reconciliation).

PrestaShop sends no webhooks of its own, so its products reach us only through the shop reconciliation.
Facts relied on (docs/shop-adapters.md cites each):
- the API key is the HTTP Basic user name with an empty password; answers in JSON with
  `output_format=JSON`; `display=full` gives every field; `filter[date_upd]=[from,to]&date=1` filters
  on a date (without `date=1` a date filter matches nothing, PrestaShop/PrestaShop#10822);
  `limit=offset,count` pages; `sort=[date_upd_ASC,id_ASC]` orders.
- `date_upd` is the shop's local time (PS_TIMEZONE), whole seconds; prices are tax excluded.
- a combination (`combinations`) is a variant: its own `reference` (our SKU) and `ean13`, and a `price`
  that is an impact added to the product's price. `combinations` and `stock_availables` have no
  `date_upd`, and a stock movement (an order, the Stocks page, a webservice PUT) does NOT touch the
  product's `date_upd` (PrestaShop/PrestaShop#20465; the fix #29249 was closed unmerged).

So each run reads (1) the products changed since the cursor, with `OVERLAP` for saves in the same second,
and the combinations of those products; (2) every `stock_availables` row (4 small fields), whose digest goes
into the cursor: when the digest is unchanged no stock is sent; when it changed every level is sent once as
an absolute `stock.set` stamped with the read time, keyed by (SKU, level, the cursor the run started from),
so two overlapping runs from one cursor queue each level once, and a level that goes back and forth between
runs is still sent (the cursor moved in between).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import httpx
from pydantic import ValidationError

from allegro_sync.adapters.shop.errors import schema_violation
from allegro_sync.adapters.shop.mapping import printable
from allegro_sync.contracts.fulfillment_status import FulfillmentStatus
from allegro_sync.contracts.messages import (
    MAX_PRICE,
    Parcel,
    ProductDelete,
    ProductUpsert,
    ShopEvent,
    ShopOrderStatus,
    StockSet,
)
from allegro_sync.contracts.shop_changes import KEY_PREFIX, ShopChanges, ShopFeedFailed, changed_delivery
from allegro_sync.contracts.webhooks import Delivery, Refusal

API = "/api"
PAGE = 500
MAX_PAGES = 400  # 200,000 rows: a safety stop for a shop that never ends its listing
OVERLAP = timedelta(minutes=5)
ID_CHUNK = 50  # ids per `filter[id_product]=[1|2|...]` (keeps the URL short)
_PS_TIME = "%Y-%m-%d %H:%M:%S"
_EAN = ("8", "12", "13", "14")
MAX_SEEN = 500  # orders remembered within the overlap (a cursor stays well under DynamoDB's item size)
PAYMENT_PREFIX = "Allegro "  # the `payment` label of the orders we create (prestashop_orders.py)
# A default installation's states the seller moves an order to: Processing in progress, Shipped, Delivered.
# Our own (payment accepted, awaiting, cancelled by a combined payment) are not sent back.
ORDER_STATES: dict[str, FulfillmentStatus] = {"3": "PROCESSING", "4": "SENT", "5": "SENT"}


class WebserviceError(RuntimeError):
    """PrestaShop answered with a status we cannot use; `status` says which (0: no answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Webservice:
    """PrestaShop's `/api/` with the shop's key (HTTP Basic user, empty password), JSON out, XML in."""

    def __init__(self, url: str, key: str, http: httpx.Client) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the PrestaShop URL must start with https:// (http:// only for a local shop)")
        self._base = url.rstrip("/") + API
        self._auth = httpx.BasicAuth(key, "")
        self._http = http
        self.calls = 0

    def call(
        self, method: str, resource: str, params: dict[str, str] | None = None, body: bytes = b""
    ) -> Any:
        """The JSON answer, or WebserviceError with the status (the caller decides retry or refusal)."""
        self.calls += 1
        query = {"output_format": "JSON", **(params or {})}
        try:
            response = self._http.request(
                method,
                f"{self._base}/{resource}",
                params=query,
                content=body or None,
                headers={"Content-Type": "application/xml"} if body else None,
                auth=self._auth,
            )
        except httpx.HTTPError as exc:
            raise WebserviceError(
                0, f"PrestaShop did not answer {method} {resource}: {type(exc).__name__}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise WebserviceError(
                response.status_code, f"PrestaShop answered {method} {resource} with {response.status_code}"
            )
        try:
            return response.json() if response.content.strip() else {}
        except ValueError:
            raise WebserviceError(502, f"PrestaShop sent non-JSON to {method} {resource}") from None

    def list(self, resource: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every row of a listing, `PAGE` at a time (`limit=offset,count`)."""
        rows: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            answer = self.call("GET", resource, params | {"limit": f"{page * PAGE},{PAGE}"})
            # An empty listing is `[]` (not an object) in PrestaShop's JSON output.
            batch = answer.get(resource, []) if isinstance(answer, dict) else []
            rows += [r for r in batch if isinstance(r, dict)]
            if len(batch) < PAGE:
                break
        return rows


def xml_body(kind: str, fields: dict[str, Any], rows: dict[str, list[dict[str, Any]]] | None = None) -> bytes:
    """`<prestashop><kind>...</kind></prestashop>`, the body PrestaShop's webservice takes for POST/PUT;
    `rows`: associations such as `{"cart_rows": [{...}]}` (each row element named by the singular)."""
    root = ET.Element("prestashop")
    node = ET.SubElement(root, kind)
    for name, value in fields.items():
        ET.SubElement(node, name).text = str(value)
    if rows:
        associations = ET.SubElement(node, "associations")
        for name, items in rows.items():
            group = ET.SubElement(associations, name)
            for item in items:
                row = ET.SubElement(group, name.removesuffix("s"))
                for key, value in item.items():
                    ET.SubElement(row, key).text = str(value)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _text(value: Any, language: int) -> str:
    """A multilingual field (`[{"id": "1", "value": ...}]`) in the chosen language, or a plain one."""
    if isinstance(value, list):
        chosen = [v for v in value if isinstance(v, dict) and str(v.get("id")) == str(language)]
        first = (chosen or [v for v in value if isinstance(v, dict)] or [{}])[0]
        return str(first.get("value") or "")
    return "" if value is None else str(value)


def money(raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _ean(raw: Any, sku: str, notes: list[str]) -> str | None:
    value = str(raw or "").strip()
    if not value or value == "0":
        return None
    if value.isdigit() and str(len(value)) in _EAN:
        return value
    notes.append(f"{printable(sku)}: EAN {value[:20]!r} is not 8 or 12-14 digits; dropped")
    return None


@dataclass(frozen=True)
class Catalogue:
    """What one run read besides the changed products: stock rows, names of categories and options."""

    stock: dict[tuple[int, int], int]  # (id_product, id_product_attribute) -> quantity
    categories: dict[str, str]
    options: dict[str, str]
    features: dict[str, str]  # product_features id -> name ("Stan")
    feature_values: dict[str, str]  # product_feature_values id -> value ("Nowy")
    vat: Decimal
    language: int
    base_url: str


class _Mapper:
    def __init__(self, delivery_id: str, received_at: datetime, catalogue: Catalogue) -> None:
        self.delivery_id, self.received_at, self.catalogue = delivery_id, received_at, catalogue
        self.notes: list[str] = []
        self.refused: list[Refusal] = []

    def _build(self, kind: type[ShopEvent], **fields: Any) -> list[ShopEvent]:
        try:
            return [kind(delivery_id=self.delivery_id, source="prestashop", **fields)]
        except ValidationError as exc:
            problems = schema_violation(exc).details
            reason = "; ".join(f"{p.field}: {p.problem}" for p in problems)
            self.refused.append(Refusal(printable(str(fields.get("sku", ""))), f"not synced: {reason}"))
            return []

    def _gross(self, sku: str, net: Decimal | None) -> Decimal | None:
        if net is None:
            self.refused.append(Refusal(printable(sku), "not synced: price: not a number"))
            return None
        if net < 0:
            self.refused.append(
                Refusal(printable(sku), f"not synced: price {net} is below 0 (fix it in PrestaShop)")
            )
            return None
        gross = net * (1 + self.catalogue.vat / 100)
        return gross if abs(gross) > MAX_PRICE else gross.quantize(Decimal("0.01"), ROUND_HALF_UP)

    def product(
        self, product: dict[str, Any], combinations: list[dict[str, Any]], when: datetime
    ) -> list[ShopEvent]:
        c, pid = self.catalogue, int(product["id"])
        skus = [str(x.get("reference") or "").strip() for x in combinations] or [
            str(product.get("reference") or "").strip()
        ]
        if str(product.get("active", "1")) != "1":
            return [e for sku in skus if sku for e in self._build(ProductDelete, sku=sku, occurred_at=when)]
        name = _text(product.get("name"), c.language).strip()
        shared = {
            "description_html": _text(product.get("description"), c.language)
            or _text(product.get("description_short"), c.language),
            "image_urls": self._images(product),
            "category_path": [c.categories.get(str(product.get("id_category_default")), "Home")],
        }
        base = money(product.get("price"))
        if not combinations:
            sku = skus[0]
            if not sku:
                self.notes.append(f"product {pid} has no reference; not synced")
                return []
            price = self._gross(sku, base)
            if price is None:
                return []
            return self._build(
                ProductUpsert,
                sku=sku,
                occurred_at=when,
                name=name,
                price=price,
                ean=_ean(product.get("ean13"), sku, self.notes),
                stock=c.stock.get((pid, 0)),
                attributes=self._features(product),
                **shared,
            )
        events: list[ShopEvent] = []
        for combination in combinations:
            sku = str(combination.get("reference") or "").strip()
            if not sku:
                self.notes.append(f"combination {combination.get('id')} of {pid} has no reference; skipped")
                continue
            impact = money(combination.get("price"))
            price = self._gross(sku, None if base is None or impact is None else base + impact)
            if price is None:
                continue
            options = self._options(combination)
            events += self._build(
                ProductUpsert,
                sku=sku,
                occurred_at=when,
                price=price,
                name=f"{name} - {', '.join(options)}" if options else name,
                ean=_ean(combination.get("ean13"), sku, self.notes),
                stock=c.stock.get((pid, int(combination["id"]))),
                attributes=self._features(product) | ({"Wariant": ", ".join(options)} if options else {}),
                **shared,
            )
        return events

    def _features(self, product: dict[str, Any]) -> dict[str, str]:
        """The product's features (`associations.product_features`: feature id + value id) by name."""
        found: dict[str, str] = {}
        for pair in (product.get("associations") or {}).get("product_features") or []:
            name = self.catalogue.features.get(str(pair.get("id")), "").strip()
            value = self.catalogue.feature_values.get(str(pair.get("id_feature_value")), "").strip()
            if name and value:
                found[name] = value
        return found

    def _options(self, combination: dict[str, Any]) -> list[str]:
        values = (combination.get("associations") or {}).get("product_option_values") or []
        found = [self.catalogue.options.get(str(v.get("id"))) for v in values if isinstance(v, dict)]
        return [f for f in found if f]

    def _images(self, product: dict[str, Any]) -> list[str]:
        """Each image's original file, served publicly at `img/p/<id digits as folders>/<id>.jpg`."""
        images = (product.get("associations") or {}).get("images") or []
        ids = [str(i.get("id")) for i in images if isinstance(i, dict) and str(i.get("id", "")).isdigit()]
        return [f"{self.catalogue.base_url}/img/p/{'/'.join(i)}/{i}.jpg" for i in ids[:16]]


def _digest(stock: dict[tuple[int, int], int]) -> str:
    text = ";".join(f"{p}:{a}={q}" for (p, a), q in sorted(stock.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _chunks(ids: Iterable[int]) -> Iterable[str]:
    listed = sorted(set(ids))
    for start in range(0, len(listed), ID_CHUNK):
        yield "[" + "|".join(str(i) for i in listed[start : start + ID_CHUNK]) + "]"


class PrestaShopChanges:
    """`ShopChangeFeed` over PrestaShop's Webservice API. The cursor is `<date_upd>|<stock digest>`."""

    kind = "prestashop"

    def __init__(
        self,
        url: str,
        key: str,
        http: httpx.Client,
        *,
        timezone: str = "Europe/Warsaw",
        vat_percent: Decimal = Decimal("23"),
        language: int = 1,
        clock: Callable[[], float] = time.time,
        overlap: timedelta = OVERLAP,
    ) -> None:
        self._ws, self._url = Webservice(url, key, http), url.rstrip("/")
        self._zone, self._vat, self._language = ZoneInfo(timezone), vat_percent, language
        self._clock, self._overlap = clock, overlap

    def read(self, since: str | None) -> ShopChanges:
        self._ws.calls = 0
        try:
            return self._read(since)
        except WebserviceError as exc:
            raise ShopFeedFailed(str(exc)) from None

    def _read(self, since: str | None) -> ShopChanges:
        since_date, since_digest, since_orders = [*(since or "").split("|"), "", ""][:3]
        params = {"display": "full", "sort": "[date_upd_ASC,id_ASC]"}
        params |= self._window(since_date)
        products = self._ws.list("products", params)
        rows = self._ws.list("stock_availables", {"display": "[id,id_product,id_product_attribute,quantity]"})
        stock = {(int(r["id_product"]), int(r["id_product_attribute"])): int(r["quantity"]) for r in rows}
        digest = _digest(stock)
        combinations = self._combinations([int(p["id"]) for p in products])
        options = [
            v.get("id")
            for c in combinations
            for v in (c.get("associations") or {}).get("product_option_values") or []
        ]
        features = [f for p in products for f in (p.get("associations") or {}).get("product_features") or []]
        catalogue = Catalogue(
            {k: max(0, q) for k, q in stock.items()},
            self._names("categories", [int(p.get("id_category_default") or 0) for p in products]),
            self._names("product_option_values", [int(i) for i in options if str(i).isdigit()]),
            self._names("product_features", [int(f.get("id") or 0) for f in features]),
            self._names(
                "product_feature_values", [int(f.get("id_feature_value") or 0) for f in features], "value"
            ),
            self._vat,
            self._language,
            self._url,
        )
        now = datetime.fromtimestamp(self._clock(), UTC)
        deliveries, notes, newest = [], [], since_date
        for product in products:
            upd = str(product.get("date_upd") or "")
            newest = max(newest, upd)
            mapper = _Mapper(f"prestashop-{product.get('id')}-{upd}", now, catalogue)
            own = [c for c in combinations if str(c.get("id_product")) == str(product.get("id"))]
            events = mapper.product(product, own, self._utc(upd, now))
            notes += mapper.notes
            delivery = changed_delivery(
                "prestashop",
                events,
                ignored=None
                if events
                else "; ".join(mapper.notes) or f"product {product.get('id')}: nothing to sync",
                notes=mapper.notes,
            )
            deliveries.append(
                Delivery(
                    delivery.source,
                    delivery.key,
                    delivery.events,
                    delivery.ignored,
                    notes=delivery.notes,
                    refused=tuple(mapper.refused),
                )
            )
        if digest != since_digest:
            deliveries += self._stock(stock, since or "", now)
        orders, newest_order = self._orders(since_orders)
        cursor = f"{newest}|{digest}|{newest_order}"
        return ShopChanges(deliveries, cursor if cursor != since else None, self._ws.calls, notes, orders)

    def _orders(self, since: str) -> tuple[list[ShopOrderStatus], str]:
        """Our orders (`payment` label) the seller moved since the cursor: state and `shipping_number`.

        The cursor part is `<newest date_upd>#<id@date_upd;...>`: the orders seen within the overlap, so
        one re-read in the overlap is not sent again while a later save (a new `date_upd`) is."""
        newest, _, seen_text = since.partition("#")
        seen = set(seen_text.split(";")) if seen_text else set()
        params = {
            "display": "[id,payment,current_state,shipping_number,id_carrier,date_upd]",
            "filter[payment]": f"[{PAYMENT_PREFIX.strip()}]%",
            "sort": "[date_upd_ASC,id_ASC]",
        }
        params |= self._window(newest)
        rows = [
            r for r in self._ws.list("orders", params) if f"{r.get('id')}@{r.get('date_upd')}" not in seen
        ]
        carriers = self._names(
            "carriers", [int(r.get("id_carrier") or 0) for r in rows if r.get("shipping_number")]
        )
        updates = []
        for row in rows:
            newest = max(newest, str(row.get("date_upd") or ""))
            form = str(row.get("payment") or "").removeprefix(PAYMENT_PREFIX)
            number = str(row.get("shipping_number") or "").strip()
            carrier = carriers.get(str(row.get("id_carrier")), "") or "OTHER"
            try:
                parcels = (Parcel(carrier=carrier, waybill=number),) if number else ()
                status = ORDER_STATES.get(str(row.get("current_state")))
                if status is not None or parcels:
                    updates.append(ShopOrderStatus(checkout_form_id=form, status=status, parcels=parcels))
            except ValidationError:
                continue  # not one of ours after all (a label someone typed), or an unusable number
        if not newest:
            return updates, ""
        floor = (datetime.strptime(newest, _PS_TIME) - self._overlap).strftime(_PS_TIME)
        kept = {k for k in seen if k.partition("@")[2] >= floor}
        kept |= {f"{r.get('id')}@{r.get('date_upd')}" for r in rows if str(r.get("date_upd")) >= floor}
        return updates, newest + "#" + ";".join(sorted(kept)[-MAX_SEEN:])

    def _window(self, newest: str) -> dict[str, str]:
        """`filter[date_upd]=[<newest - overlap>,<tomorrow>]&date=1` (no filter without a cursor)."""
        if not newest:
            return {}
        start = datetime.strptime(newest, _PS_TIME) - self._overlap
        end = datetime.now(self._zone).replace(tzinfo=None) + timedelta(days=1)
        return {"filter[date_upd]": f"[{start.strftime(_PS_TIME)},{end.strftime(_PS_TIME)}]", "date": "1"}

    def _utc(self, local: str, now: datetime) -> datetime:
        """The shop's local `date_upd` in UTC, never later than now (a shop clock running ahead)."""
        try:
            parsed = datetime.strptime(local, _PS_TIME).replace(tzinfo=self._zone).astimezone(UTC)
        except ValueError:
            return now
        return min(parsed, now)

    def _combinations(self, product_ids: list[int]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for ids in _chunks(product_ids):
            found += self._ws.list("combinations", {"display": "full", "filter[id_product]": ids})
        return found

    def _names(self, resource: str, ids: list[int], field: str = "name") -> dict[str, str]:
        names: dict[str, str] = {}
        for chunk in _chunks(i for i in ids if i > 0):
            for row in self._ws.list(resource, {"display": f"[id,{field}]", "filter[id]": chunk}):
                names[str(row.get("id"))] = _text(row.get(field), self._language)
        return names

    def _stock(self, stock: dict[tuple[int, int], int], since: str, now: datetime) -> list[Delivery]:
        """Every level as `stock.set`, keyed by (SKU, level, the cursor the run started from)."""
        products = self._ws.list("products", {"display": "[id,reference]"})
        combinations = self._ws.list("combinations", {"display": "[id,id_product,reference]"})
        varied = {int(c["id_product"]) for c in combinations}
        sku = {
            (int(p["id"]), 0): str(p.get("reference") or "").strip()
            for p in products
            if int(p["id"]) not in varied
        }
        sku |= {
            (int(c["id_product"]), int(c["id"])): str(c.get("reference") or "").strip() for c in combinations
        }
        deliveries = []
        for where, level in sorted(stock.items()):
            name = sku.get(where)
            if not name:
                continue
            try:
                event = StockSet(
                    delivery_id=f"prestashop-stock-{where[0]}-{where[1]}",
                    source="prestashop",
                    sku=name,
                    occurred_at=now,
                    stock=max(0, level),
                )
            except ValidationError:
                continue
            key = KEY_PREFIX + hashlib.sha256(f"stock|{name}|{level}|{since}".encode()).hexdigest()[:40]
            deliveries.append(Delivery("prestashop", key, (event,)))
        return deliveries
