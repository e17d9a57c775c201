"""Fake shops for the shop-out tests: a generic shop and a WooCommerce that verify, record and can be down.

Both speak plain (method, path, headers, body) -> (status, json) so the same fake serves an
`httpx.MockTransport` in unit tests and a real 127.0.0.1 HTTP server in integration tests.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from allegro_sync.adapters.shop import signing
from allegro_sync.local.loopback import AnswerServer

Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]  # (status, JSON[, headers])


class FakeShop(Protocol):
    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer: ...


@dataclass
class FakeGenericShop:
    """Verifies our signature, de-duplicates by Idempotency-Key, applies TAKEN lines to its stock once."""

    secret: str
    stock: dict[str, int] = field(default_factory=dict)
    down: bool = False
    down_for_attempts: int = 0  # answer 503 to the first N attempts (a shop that comes back)
    received: list[dict[str, Any]] = field(default_factory=list)  # every verified, new delivery
    attempts: int = 0
    keys: set[str] = field(default_factory=set)
    applied_sales: set[str] = field(default_factory=set)
    returned: set[str] = field(default_factory=set)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    clock: datetime = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    labels: list[dict[str, Any]] = field(default_factory=list)  # issue 15: `order.label` deliveries

    def answer(  # noqa: PLR0911 - one branch per kind of message
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        self.attempts += 1
        if self.down or self.attempts <= self.down_for_attempts:
            return 503, {"error": "maintenance"}
        h = {k.lower(): v for k, v in headers.items()}
        timestamp = int(h.get(signing.TIMESTAMP_HEADER.lower(), "0"))
        delivery = h.get(signing.DELIVERY_HEADER.lower(), "")
        if not signing.matches(
            [self.secret], h.get(signing.SIGNATURE_HEADER.lower(), ""), timestamp, delivery, body
        ):
            return 401, {"error": "bad signature"}
        if json.loads(body).get("kind") == "ping":  # `shop set-credentials` checks the URL and secret
            return 200, {"ok": True}
        key = h.get("idempotency-key", "")
        self.clock += timedelta(seconds=1)
        if key in self.keys:
            return 200, {"order_id": "dup", "applied_at": self.clock.isoformat()}
        self.keys.add(key)
        message = json.loads(body)
        self.received.append(message)
        if message.get("kind") in ("order.returned", "buyer.message"):  # issue 15: a return, a buyer's words
            for line in message.get("lines", []):  # put the returned items back, once per key
                self.stock[line["sku"]] = self.stock.get(line["sku"], 0) + line["quantity"]
            return 200, {"applied_at": self.clock.isoformat()}
        if message.get("kind") == "order.label":  # issue 15: the label's link, once per key
            self.labels.append(message)
            return 200, {"applied_at": self.clock.isoformat()}
        self.orders[message["checkout_form_id"]] = message
        for line in message["lines"]:
            if line["stock_effect"] == "TAKEN" and line["sale_id"] not in self.applied_sales:
                self.applied_sales.add(line["sale_id"])
                self.stock[line["sku"]] = self.stock.get(line["sku"], 0) - line["quantity"]
            elif line["stock_effect"] == "RETURNED" and line["sale_id"] in self.applied_sales - self.returned:
                self.returned.add(line["sale_id"])
                self.stock[line["sku"]] += line["quantity"]
        return 200, {"order_id": f"G-{message['checkout_form_id'][:8]}", "applied_at": self.clock.isoformat()}


@dataclass
class FakeWooCommerce:
    """wc/v3 as the adapters use it, with WooCommerce's stock rules (reduce once, restore on cancel).

    Products and variations share one id space (WordPress posts). `GET /products?sku=` finds variations
    too, as WooCommerce's v3 controller does (it queries post types product AND product_variation when
    `sku` is given); `sku_finds_variations=False` is an older shop that searched products only.
    """

    key: str
    secret: str
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    sku_finds_variations: bool = True
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    fail_next_create_response: bool = False  # the order is created, then the connection "drops"
    requests: list[tuple[str, str]] = field(default_factory=list)
    clock: datetime = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    _next: int = 100

    def add_product(self, sku: str, stock: int) -> int:
        self._next += 1
        self.products[self._next] = {"id": self._next, "sku": sku, "stock_quantity": stock, "type": "simple"}
        return self._next

    def add_variable(self, parent: dict[str, Any], variations: list[dict[str, Any]]) -> dict[str, int]:
        """A variable product and its variations as the REST API shows them; returns SKU -> id."""
        self._next += 1
        parent_id = self._next
        ids = {}
        for variation in variations:
            self._next += 1
            self.products[self._next] = {
                **variation,
                "id": self._next,
                "parent_id": parent_id,
                "type": "variation",
            }
            ids[variation["sku"]] = self._next
        self.products[parent_id] = {
            **parent,
            "id": parent_id,
            "type": "variable",
            "variations": list(ids.values()),
        }
        ids[parent.get("sku", "")] = parent_id
        return ids

    def stock(self, sku: str) -> int:
        return next(int(p["stock_quantity"]) for p in self.products.values() if p["sku"] == sku)

    def _found_by_sku(self, sku: str | None) -> list[dict[str, Any]]:
        return [
            p
            for p in self.products.values()
            if p["sku"] == sku and (self.sku_finds_variations or p.get("type") != "variation")
        ]

    def _product_routes(self, path: str) -> Answer | None:
        parts = path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "products" or not parts[1].isdigit():
            return None
        found = self.products.get(int(parts[1]))
        if found is None:
            return 404, {"code": "woocommerce_rest_product_invalid_id"}
        if len(parts) == 2:
            return 200, found
        if parts[2:] == ["variations"]:
            return 200, [p for p in self.products.values() if p.get("parent_id") == found["id"]]
        return None

    def _tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return self.clock.replace(tzinfo=None).isoformat()

    def _move_stock(self, order: dict[str, Any], new_status: str, set_paid: bool) -> None:
        reduces = new_status in ("processing", "on-hold", "completed") or set_paid
        if reduces and not order["_stock_reduced"]:
            for li in order["line_items"]:
                if "product_id" in li:
                    self.products[li.get("variation_id") or li["product_id"]]["stock_quantity"] -= li[
                        "quantity"
                    ]
            order["_stock_reduced"] = True
        if new_status == "cancelled" and order["_stock_reduced"]:
            for li in order["line_items"]:
                if "product_id" in li:
                    self.products[li.get("variation_id") or li["product_id"]]["stock_quantity"] += li[
                        "quantity"
                    ]
            order["_stock_reduced"] = False

    def answer(  # noqa: PLR0911 - one branch per route, like a router
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        self.requests.append((method, target))
        if self.down:
            return 502, {"code": "bad_gateway"}
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if auth != "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode():
            return 401, {"code": "woocommerce_rest_cannot_view"}
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path.removeprefix("/wp-json/wc/v3")
        data = json.loads(body) if body else {}
        if method == "GET" and path == "/products":
            return 200, self._found_by_sku(query.get("sku"))
        product = self._product_routes(path) if method == "GET" else None
        if product is not None:
            return product
        if method == "GET" and path == "/orders":
            return 200, [self._public(o) for o in self.orders.values()]
        if method == "POST" and path == "/orders":
            self._next += 1
            status = "processing" if data.get("set_paid") else data.get("status", "pending")
            order = {**data, "id": self._next, "status": status, "_stock_reduced": False}
            self._move_stock(order, status, bool(data.get("set_paid")))
            order["date_modified_gmt"] = self._tick()
            self.orders[self._next] = order
            if self.fail_next_create_response:
                self.fail_next_create_response = False
                return 504, {"code": "gateway_timeout"}
            return 201, self._public(order)
        if method == "PUT" and path.startswith("/orders/"):
            found = self.orders.get(int(path.rsplit("/", 1)[1]))
            if found is None:
                return 404, {"code": "woocommerce_rest_shop_order_invalid_id"}
            status = data.get("status", found["status"])
            self._move_stock(found, status, bool(data.get("set_paid")))
            found.update({k: v for k, v in data.items() if k in ("shipping", "customer_note")})
            found["status"] = status
            found["date_modified_gmt"] = self._tick()
            return 200, self._public(found)
        return self._after_sale(method, path, data) or (404, {"code": "rest_no_route"})

    def _public(self, order: dict[str, Any]) -> dict[str, Any]:
        links = {"self": [{"href": f"{self.site}/wp-json/wc/v3/orders/{order.get('id')}"}]}
        return {k: v for k, v in order.items() if not k.startswith("_")} | {"_links": links}

    # --- issue 15: order notes and refunds as wc/v3 has them (developer.woocommerce.com, REST API v3) -----

    site: str = "https://sklep.example"  # what `_links.self` names (the fake answers on any address)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    lose_next_note_answer: bool = False  # the note is added, then the connection "drops"

    def refund(self, order_id: int, lines: list[tuple[str, int, str]], reason: str = "") -> int:
        """The seller refunds (sku, quantity, total) lines in wp-admin: a refund object with negative
        `quantity`/`total` lines, listed on the order as `refunds` (id, reason, negative total)."""
        self._next += 1
        order = self.orders[order_id]
        items = [
            {"id": self._next * 10 + n, "sku": sku, "quantity": -qty, "total": f"-{total}", "total_tax": "0"}
            for n, (sku, qty, total) in enumerate(lines)
        ]
        amount = sum(float(total) for _, _, total in lines)
        refund = {"id": self._next, "amount": f"{amount:.2f}", "reason": reason, "line_items": items}
        self.refunds.setdefault(order_id, []).insert(0, refund)
        listed = {"id": self._next, "reason": reason, "total": f"-{amount:.2f}"}
        order.setdefault("refunds", []).insert(0, listed)
        order["date_modified_gmt"] = self._tick()
        return self._next

    def _after_sale(  # noqa: PLR0911 - one branch per route, like a router
        self, method: str, path: str, data: dict[str, Any]
    ) -> Answer | None:
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "orders" or not parts[1].isdigit():
            return None
        order_id = int(parts[1])
        if order_id not in self.orders:
            return 404, {"code": "woocommerce_rest_shop_order_invalid_id"}
        if parts[2] == "refunds" and method == "GET":
            return 200, self.refunds.get(order_id, [])
        if parts[2] != "notes":
            return None
        if method == "GET":
            return 200, self.notes.get(order_id, [])
        self._next += 1
        note = {
            "id": self._next,
            "author": "system",
            "date_created_gmt": self._tick(),
            "note": str(data.get("note") or ""),
            "customer_note": bool(data.get("customer_note", False)),
        }
        self.notes.setdefault(order_id, []).insert(0, note)
        if self.lose_next_note_answer:
            self.lose_next_note_answer = False
            return 504, {"code": "gateway_timeout"}
        return 201, note


def mock_transport(shop: FakeShop) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode()
        answer = shop.answer(request.method, target, dict(request.headers), request.content)
        return httpx.Response(answer[0], json=answer[1], headers=answer[2] if len(answer) > 2 else None)

    return httpx.MockTransport(handle)


class ShopServer(AnswerServer):
    """A fake shop on 127.0.0.1 (a real socket: the Lambda code's real httpx client talks to it)."""
