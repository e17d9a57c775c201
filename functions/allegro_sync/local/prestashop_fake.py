"""A PrestaShop webservice (`/api/`) on 127.0.0.1 for the demo and the tests, answering as PrestaShop does.

What it models, from PrestaShop's documentation and code (docs/shop-adapters.md cites each):
- the key as the HTTP Basic user name with an empty password (401 otherwise); JSON only with
  `output_format=JSON`; `display=full` or `display=[a,b]`; `filter[field]=[a|b]` (any of), `[from,to]`
  (an interval, inclusive) and `[value]` (literal, not case sensitive); a date field is filtered only with
  `date=1` (without it nothing matches, PrestaShop/PrestaShop#10822); `sort=[field_ASC,...]`;
  `limit=offset,count`; an empty listing is `[]`, a listing `{"<resource>": [...]}`.
- `date_upd` in the shop's local time, whole seconds, stamped on each product save; stock moved by an order
  or set directly does NOT touch it (#20465). Combinations and stock rows have no `date_upd`.
- POST bodies are XML (`<prestashop><order>...`); an order is made from a cart: validateOrder takes every
  cart row's stock, generates a 9-letter `reference`, keeps the `payment` label it was given and starts in
  PS_OS_WS_PAYMENT, or in PS_OS_ERROR without taking stock when the amount paid is not the cart's total
  (PaymentModule::validateOrder); `order_histories` moves the state (cancelling gives the stock back,
  leaving an error or cancelled state takes it).
"""

from __future__ import annotations

import base64
import random
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

from allegro_sync.local.loopback import AnswerServer

Row = dict[str, Any]
STATE_WS_PAYMENT, STATE_CANCELLED, STATE_ERROR = 11, 6, 8
VAT = Decimal("1.23")
RESOURCES = (
    "products",
    "combinations",
    "stock_availables",
    "categories",
    "product_features",
    "carriers",
    "product_feature_values",
    "product_option_values",
    "customers",
    "addresses",
    "carts",
    "orders",
    "order_histories",
    "currencies",
)
SINGULAR = {"addresses": "address", "order_histories": "order_history", "currencies": "currency"}


def _matches(value: Any, wanted: str, *, date: bool) -> bool:
    text = str(value if value is not None else "")
    inner = wanted.strip()[1:-1] if wanted.strip().startswith("[") else wanted.strip()
    if wanted.strip().endswith("]%"):  # the begin operator: `[Jo]%`
        return text.lower().startswith(wanted.strip()[1:-2].lower())
    if "|" in inner:
        return text.lower() in {v.lower() for v in inner.split("|")}
    if "," in inner:
        low, high = inner.split(",", 1)
        if text[:4].isdigit() and "-" in text and not date:
            return False  # a date interval without `date=1` matches nothing (#10822)
        if text.lstrip("-").isdigit() and low.lstrip("-").isdigit():
            return int(low) <= int(text) <= int(high)
        return low <= text <= high
    return text.lower() == inner.lower()


def _sort_key(row: Row, name: str) -> str:
    value = str(row.get(name, ""))
    return value.zfill(12) if value.isdigit() else value


@dataclass
class FakePrestaShop:
    key: str
    tables: dict[str, dict[int, Row]] = field(default_factory=lambda: {r: {} for r in RESOURCES})
    clock: datetime = field(default_factory=lambda: datetime(2026, 10, 1, 12, 0, 0))  # shop local time
    step: timedelta = timedelta(seconds=1)
    down_for: int = 0  # answer 503 to the next N requests
    lose_order_answers: int = 0  # create the next N orders but answer 500 (the answer lost on the way)
    calls: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.tables["currencies"]:  # a fresh installation's default currency
            self.add_currency("PLN", Decimal(1))

    # --- the seller's back office -----------------------------------------------------------------------

    def add_currency(self, iso_code: str, conversion_rate: Decimal, *, active: bool = True) -> int:
        """International > Localization > Currencies: 1 default currency = `conversion_rate` of this one."""
        row = {"iso_code": iso_code, "conversion_rate": str(conversion_rate), "active": str(int(active))}
        return self._new("currencies", row | {"deleted": "0"})

    def _new(self, resource: str, row: Row) -> int:
        table = self.tables[resource]
        row["id"] = max(table, default=0) + 1
        table[row["id"]] = row
        return int(row["id"])

    def _save(self, product_id: int) -> None:
        self.clock += self.step
        self.tables["products"][product_id]["date_upd"] = self.clock.strftime("%Y-%m-%d %H:%M:%S")

    def category(self, name: str) -> int:
        return self._new("categories", {"name": [{"id": "1", "value": name}]})

    def add_product(
        self, reference: str, *, price: str, stock: int = 0, name: str = "", category: int = 2, **more: Any
    ) -> int:
        pid = self._new(
            "products",
            {
                "reference": reference,
                "price": price,
                "active": "1",
                "ean13": more.pop("ean13", ""),
                "name": [{"id": "1", "value": name or f"Produkt {reference}"}],
                "description": [{"id": "1", "value": f"<p>{name or reference}</p>"}],
                "id_category_default": str(category),
                "associations": {"combinations": [], "stock_availables": [], "images": []},
                **more,
            },
        )
        self._stock_row(pid, 0, stock)
        self._save(pid)
        return pid

    def add_combination(
        self, product_id: int, reference: str, *, impact: str, stock: int, option: str, ean13: str = ""
    ) -> int:
        value = self._new("product_option_values", {"name": [{"id": "1", "value": option}]})
        cid = self._new(
            "combinations",
            {
                "id_product": str(product_id),
                "reference": reference,
                "ean13": ean13,
                "price": impact,
                "associations": {"product_option_values": [{"id": str(value)}]},
            },
        )
        self.tables["products"][product_id]["associations"]["combinations"].append({"id": str(cid)})
        self._stock_row(product_id, cid, stock)
        self._stock_sum(product_id)
        self._save(product_id)  # saving a combination in the back office saves its product
        return cid

    def add_feature(self, product_id: int, name: str, value: str) -> None:
        """A feature (Stan: Nowy), as the product page's Features section saves it."""
        feature = self._new("product_features", {"name": [{"id": "1", "value": name}]})
        chosen = self._new(
            "product_feature_values", {"id_feature": str(feature), "value": [{"id": "1", "value": value}]}
        )
        associations = self.tables["products"][product_id]["associations"]
        associations.setdefault("product_features", []).append(
            {"id": str(feature), "id_feature_value": str(chosen)}
        )
        self._save(product_id)

    def edit_product(self, product_id: int, **fields: Any) -> None:
        self.tables["products"][product_id].update(fields)
        self._save(product_id)

    def set_stock(self, product_id: int, attribute: int, quantity: int) -> None:
        """A stock movement (the Stocks page, a shop sale): `date_upd` stays as it was (#20465)."""
        with self._lock:
            self._row_for(product_id, attribute)["quantity"] = str(quantity)
            self._stock_sum(product_id)

    def stock(self, product_id: int, attribute: int = 0) -> int:
        return int(self._row_for(product_id, attribute)["quantity"])

    def _stock_row(self, product_id: int, attribute: int, quantity: int) -> None:
        sid = self._new(
            "stock_availables",
            {
                "id_product": str(product_id),
                "id_product_attribute": str(attribute),
                "quantity": str(quantity),
            },
        )
        self.tables["products"][product_id]["associations"]["stock_availables"].append(
            {"id": str(sid), "id_product_attribute": str(attribute)}
        )

    def _row_for(self, product_id: int, attribute: int) -> Row:
        return next(
            r
            for r in self.tables["stock_availables"].values()
            if r["id_product"] == str(product_id) and r["id_product_attribute"] == str(attribute)
        )

    def _stock_sum(self, product_id: int) -> None:
        rows = [r for r in self.tables["stock_availables"].values() if r["id_product"] == str(product_id)]
        if any(
            r["id_product_attribute"] != "0" for r in rows
        ):  # the product row is the sum of its combinations
            self._row_for(product_id, 0)["quantity"] = str(
                sum(int(r["quantity"]) for r in rows if r["id_product_attribute"] != "0")
            )

    def ship(self, order_id: int, number: str, carrier: str = "InPost") -> None:
        """The seller marks the order Shipped (state 4) and types the tracking number into it."""
        with self._lock:
            found = [c["id"] for c in self.tables["carriers"].values() if c["name"] == carrier]
            carrier_id = found[0] if found else self._new("carriers", {"name": carrier})
            order = self.tables["orders"][order_id]
            order |= {"current_state": "4", "shipping_number": number, "id_carrier": str(carrier_id)}
            self._stamp(order)

    def _stamp(self, row: Row) -> None:
        self.clock += self.step
        row["date_upd"] = self.clock.strftime("%Y-%m-%d %H:%M:%S")

    def orders(self) -> list[Row]:
        return list(self.tables["orders"].values())

    # --- the webservice ---------------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        resource = url.path.removeprefix("/api/").strip("/")
        with self._lock:
            self.calls.append(f"{method} {resource}")
            if self.down_for > 0:
                self.down_for -= 1
                return 503, {"errors": [{"code": 0, "message": "maintenance"}]}
            auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
            if auth != "Basic " + base64.b64encode(f"{self.key}:".encode()).decode():
                return 401, {"errors": [{"code": 17, "message": "Authentication key is empty"}]}
            if query.get("output_format") != "JSON" or resource not in self.tables:
                return 400, {"errors": [{"code": 0, "message": "JSON only here; unknown resource"}]}
            if method == "GET":
                return self._list(resource, query)
            if method == "POST":
                return self._create(resource, body)
            return 405, {"errors": [{"code": 0, "message": f"{method} not modelled"}]}

    def _list(self, resource: str, query: dict[str, str]) -> tuple[int, Any]:
        date = query.get("date") == "1"
        rows = [
            r
            for r in self.tables[resource].values()
            if all(
                _matches(r.get(k[7:-1]), v, date=date) for k, v in query.items() if k.startswith("filter[")
            )
        ]
        for part in reversed(query.get("sort", "[id_ASC]").strip("[]").split(",")):
            name, _, direction = part.rpartition("_")
            rows.sort(key=lambda r: _sort_key(r, name), reverse=direction == "DESC")
        offset, _, count = query.get("limit", "0,1000000").rpartition(",")
        rows = rows[int(offset or 0) : int(offset or 0) + int(count)]
        display = query.get("display", "")
        if display != "full":
            fields = display.strip("[]").split(",") if display else ["id"]
            rows = [{f: r.get(f) for f in fields} for r in rows]
        return 200, ({resource: rows} if rows else [])

    def _create(self, resource: str, body: bytes) -> tuple[int, Any]:
        kind = SINGULAR.get(resource, resource.removesuffix("s"))
        node = ET.fromstring(body).find(kind)  # noqa: S314 - our own client's body, on 127.0.0.1
        if node is None:
            return 400, {"errors": [{"code": 0, "message": f"expected <{kind}>"}]}
        row: Row = {c.tag: (c.text or "") for c in node if c.tag != "associations"}
        associations = node.find("associations")
        if associations is not None:
            row["associations"] = {
                g.tag: [{f.tag: f.text or "" for f in item} for item in g] for g in associations
            }
        if resource == "orders":
            return self._order(row)
        if resource == "order_histories":
            return self._history(row)
        self._new(resource, row)
        return 201, {kind: row}

    def _order(self, row: Row) -> tuple[int, Any]:
        cart = self.tables["carts"].get(int(row.get("id_cart") or 0))
        if cart is None or any(o["id_cart"] == str(cart["id"]) for o in self.orders()):
            return 400, {
                "errors": [
                    {
                        "code": 0,
                        "message": "Cart cannot be loaded or an order has already been placed "
                        "using this cart",
                    }
                ]
            }
        # validateOrder: an amount paid other than the cart's total puts the order in PS_OS_ERROR, and an
        # order in PS_OS_ERROR or PS_OS_CANCELED takes no stock (OrderDetail::checkProductStock).
        state = (
            STATE_WS_PAYMENT
            if Decimal(row.get("total_paid") or "0") == self._cart_total(cart)
            else STATE_ERROR
        )
        if state == STATE_WS_PAYMENT:
            self._move_cart_stock(cart, -1)
        row |= {
            "reference": "".join(random.choices(string.ascii_uppercase, k=9)),
            "current_state": str(state),
            "id_cart": str(cart["id"]),
            "shipping_number": "",
        }
        self._stamp(row)
        self._new("orders", row)
        if self.lose_order_answers > 0:
            self.lose_order_answers -= 1
            return 500, {"errors": [{"code": 0, "message": "the answer was lost"}]}
        return 201, {"order": row}

    def _cart_total(self, cart: Row) -> Decimal:
        """Tax included, in the cart's currency, as the cart computes it: (product price + combination
        impact) x the currency's conversion rate x VAT x quantity."""
        currency = self.tables["currencies"].get(int(cart.get("id_currency") or 1))
        rate = Decimal(currency["conversion_rate"]) if currency else Decimal(1)
        total = Decimal("0")
        for line in (cart.get("associations") or {}).get("cart_rows") or []:
            price = Decimal(self.tables["products"][int(line["id_product"])]["price"])
            if int(line["id_product_attribute"]):
                price += Decimal(self.tables["combinations"][int(line["id_product_attribute"])]["price"])
            total += (price * rate * VAT).quantize(Decimal("0.01")) * int(line["quantity"])
        return total

    def _move_cart_stock(self, cart: Row, sign: int) -> None:
        for line in (cart.get("associations") or {}).get("cart_rows") or []:
            stock = self._row_for(int(line["id_product"]), int(line["id_product_attribute"]))
            stock["quantity"] = str(int(stock["quantity"]) + sign * int(line["quantity"]))
            self._stock_sum(int(line["id_product"]))

    def _history(self, row: Row) -> tuple[int, Any]:
        order = self.tables["orders"].get(int(row.get("id_order") or 0))
        if order is None:
            return 404, {"errors": [{"code": 0, "message": "no such order"}]}
        state, before = int(row["id_order_state"]), int(order["current_state"])
        cart = self.tables["carts"][int(order["id_cart"])]
        # OrderHistory::changeIdOrderState: into cancelled gives stock back, out of error/cancelled takes it
        if state in (STATE_CANCELLED, STATE_ERROR) and before not in (STATE_CANCELLED, STATE_ERROR):
            self._move_cart_stock(cart, +1)
        elif before in (STATE_CANCELLED, STATE_ERROR) and state not in (STATE_CANCELLED, STATE_ERROR):
            self._move_cart_stock(cart, -1)
        order["current_state"] = str(state)
        self._stamp(order)
        self._new("order_histories", row)
        return 201, {"order_history": row}


class PrestaShopServer(AnswerServer):
    """The fake on a real 127.0.0.1 socket: the Lambda code's own httpx client talks to it."""
