"""The seller's shop for `make demo`: a tiny HTTP server on 127.0.0.1 speaking the generic shop contract.

Why a real socket: the shop_notifier's own httpx client has to reach it, as it reaches a real shop. It
verifies our signature, applies each order once per `Idempotency-Key` and keeps its stock, so the demo can
show what the shop ended up with rather than what we meant to send. The soak also takes it down for a while
(`down`) and reads what it applied per order (`taken`), to tell a lost or doubled order from a delayed one.
It also keeps a change log served as the generic contract's optional `GET /changes?since=N&limit=M`
(docs/shop-adapters.md), which the shop reconciliation reads to repair a lost webhook, and answers the
optional one-SKU stock read `GET /stock?sku=S`, with which a sale the ledger is in doubt about is settled.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from allegro_sync.adapters.shop import signing
from allegro_sync.local.loopback import LoopbackServer, QuietHandler


@dataclass
class DemoShop:
    secret: str
    stock: dict[str, int] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # checkout form id -> last message
    deliveries: int = 0  # signed, new deliveries (a redelivery with a known key is not counted)
    competitor_feed: str = "sku,competitor,price,currency\n"  # what GET /feed.csv serves (repricing)
    # The shop's WooCommerce REST reads (`/wp-json/wc/v3/products/<id>[/variations]` -> JSON), for the
    # chapter where the shop is a WooCommerce shop whose webhooks leave out a variation's parent.
    rest: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # GET /files/<name>: safety manual, invoice
    down: bool = False  # answer 503 to every order delivery, like a shop in maintenance
    taken: dict[str, Counter[str]] = field(default_factory=dict)  # form id -> SKU -> units still taken
    labels: dict[str, str] = field(default_factory=dict)  # issue 15: form id -> the `order.label` link
    first_seen: dict[str, float] = field(default_factory=dict)  # form id -> time.time() of its first delivery
    changes: list[dict[str, Any]] = field(default_factory=list)  # every product change, in order
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # the shop's own clock (applied_at, read_at)
    _keys: set[str] = field(default_factory=set)
    buyer_messages: list[dict[str, Any]] = field(default_factory=list)  # issue 15, item 4
    _sales: dict[str, set[str]] = field(default_factory=dict)  # sale id -> the effects applied (each once)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        h = {k.lower(): v for k, v in headers.items()}
        if self.down:
            return 503, {"error": "shop in maintenance"}
        timestamp = int(h.get(signing.TIMESTAMP_HEADER.lower(), "0") or 0)
        delivery = h.get(signing.DELIVERY_HEADER.lower(), "")
        signature = h.get(signing.SIGNATURE_HEADER.lower(), "")
        if not signing.matches([self.secret], signature, timestamp, delivery, body):
            return 401, {"error": "bad signature"}
        applied_at = self.clock().isoformat()
        message = json.loads(body)
        if message.get("kind") == "ping":  # `shop set-credentials` checks the URL and the secret
            return 200, {"ok": True}
        with self._lock:
            key = h.get("idempotency-key", "")
            form_id = str(message["checkout_form_id"])
            if message.get("kind") == "buyer.message":  # issue 15, item 4: kept for the demo to show
                if key not in self._keys:
                    self._keys.add(key)
                    self.buyer_messages.append(message)
            elif key not in self._keys and message.get("kind") == "order.label":  # issue 15: the link, once
                self._keys.add(key)
                self.labels[form_id] = str(message["label_url"])
            elif key not in self._keys and message.get("kind") == "order.returned":
                self._keys.add(key)
                self._apply_return(message)
            elif key not in self._keys:
                self._keys.add(key)
                self.deliveries += 1
                self.orders[form_id] = message
                self.first_seen.setdefault(form_id, time.time())
                held = self.taken.setdefault(form_id, Counter())
                if message.get("status") == "MERGED" and message.get("merged_into"):
                    # Paid together: close this order without touching stock (the contract); its units
                    # live on in the combined one. Its lines are as the replaced form last had them: a sale
                    # the combined order has given back since would otherwise be taken again.
                    self.taken.setdefault(str(message["merged_into"]), Counter()).update(held)
                    held.clear()
                else:
                    for line in message.get("lines", []):
                        self._apply(held, line)
        return 200, {"order_id": f"SHOP-{form_id[:8]}", "applied_at": applied_at}

    def open_orders(self) -> list[str]:
        """The orders the shop still has to fulfil: not closed by a combined payment."""
        with self._lock:
            return [f for f, m in self.orders.items() if m.get("status") != "MERGED"]

    def record_change(self, event: dict[str, Any]) -> None:
        """The shop logs each product change it makes (whether or not its webhook gets through)."""
        with self._lock:
            self.changes.append(event)

    def _signed_get(self, headers: dict[str, str]) -> bool:
        """A GET signed by the caller over an empty body, as the contract asks."""
        h = {k.lower(): v for k, v in headers.items()}
        timestamp = int(h.get(signing.TIMESTAMP_HEADER.lower(), "0") or 0)
        delivery = h.get(signing.DELIVERY_HEADER.lower(), "")
        signature = h.get(signing.SIGNATURE_HEADER.lower(), "")
        return signing.matches([self.secret], signature, timestamp, delivery, b"")

    def stock_level(self, headers: dict[str, str], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """`GET /stock?sku=S`: the level now and the shop's time of the read (404: no such SKU)."""
        if not self._signed_get(headers):
            return 401, {"error": "bad signature"}
        sku = query.get("sku", "")
        with self._lock:
            if sku not in self.stock:
                return 404, {"error": "no such SKU"}
            level, read_at = self.stock[sku], self.clock().isoformat()
        return 200, {"sku": sku, "stock": level, "read_at": read_at}

    def changes_page(self, headers: dict[str, str], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """`GET /changes`: signed by the caller over an empty body; the cursor is a position in the log."""
        if not self._signed_get(headers):
            return 401, {"error": "bad signature"}
        start, limit = int(query.get("since", "0")), min(int(query.get("limit", "100")), 100)
        with self._lock:
            page = self.changes[start : start + limit]
            more = start + len(page) < len(self.changes)
        return 200, {"events": page, "cursor": str(start + len(page)), "has_more": more}

    def received(self) -> dict[str, Any]:
        """What `allegro-sync local shop` shows: each order as last received (no buyer data), stock."""
        with self._lock:
            orders = [
                {
                    "checkout_form_id": form_id,
                    "status": message.get("status"),
                    "account": message.get("account"),
                    "lines": [
                        {k: line.get(k) for k in ("sku", "quantity", "stock_effect")}
                        for line in message.get("lines", [])
                    ],
                }
                for form_id, message in self.orders.items()
            ]
            return {"orders": orders, "stock": dict(self.stock)}

    def adjust(self, sku: str, delta: int) -> int:
        """The shop's own stock movement (a sale over the counter, a delivery); returns the new level."""
        with self._lock:
            self.stock[sku] = self.stock.get(sku, 0) + delta
            return self.stock[sku]

    def _apply_return(self, message: dict[str, Any]) -> None:
        """Issue 15, `order.returned`: the returned items go back into stock (the caller holds the lock and
        de-duplicates by Idempotency-Key)."""
        for line in message.get("lines", []):
            sku = str(line["sku"])
            self.stock[sku] = self.stock.get(sku, 0) + int(line["quantity"])

    def _apply(self, held: Counter[str], line: dict[str, Any]) -> None:
        """The contract: each effect once per `sale_id` (a TAKEN after its RETURNED is not taken again);
        RETURNED gives back only what TAKEN took."""
        sale, effect = str(line.get("sale_id", "")), line.get("stock_effect")
        applied = self._sales.setdefault(sale, set())
        if line.get("sku") is None or effect not in ("TAKEN", "RETURNED") or effect in applied:
            return
        if effect == "RETURNED" and "TAKEN" not in applied:
            return
        sku, quantity = str(line["sku"]), int(line["quantity"])
        applied.add(str(effect))
        sign = -1 if effect == "TAKEN" else 1
        self.stock[sku] = self.stock.get(sku, 0) + sign * quantity
        held[sku] -= sign * quantity


class DemoShopServer(LoopbackServer):
    """GET /feed.csv (the competitor feed), GET /orders (what it received), POST anything: an order."""

    def __init__(self, shop: DemoShop, *, port: int = 0) -> None:
        owner = shop

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path in ("/changes", "/stock"):
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    read = owner.changes_page if url.path == "/changes" else owner.stock_level
                    status, payload = read(dict(self.headers.items()), query)
                    self.send_body(status, json.dumps(payload).encode(), "application/json")
                    return
                if url.path == "/orders":
                    self.send_body(200, json.dumps(owner.received()).encode(), "application/json")
                    return
                if url.path.removeprefix("/files/") in owner.files:
                    self.send_body(200, owner.files[url.path.removeprefix("/files/")], "application/pdf")
                    return
                if url.path in owner.rest:
                    self.send_body(200, json.dumps(owner.rest[url.path]).encode(), "application/json")
                    return
                status = 200 if self.path == "/feed.csv" else 404
                self.send_body(status, owner.competitor_feed.encode(), "text/csv; charset=utf-8")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, payload = owner.answer(dict(self.headers.items()), self.rfile.read(length))
                self.send_body(status, json.dumps(payload).encode(), "application/json")

        super().__init__(Handler, port=port)


def woocommerce_credentials(url: str, key: str, secret: str) -> dict[str, str]:
    """The `shop-credentials` secret of a WooCommerce shop at `url` (the demo's, the tests' fake)."""
    return {"kind": "woocommerce", "url": url, "consumer_key": key, "consumer_secret": secret}
