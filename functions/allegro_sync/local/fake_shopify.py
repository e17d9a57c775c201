"""A local Shopify (tests, `allegro-sync demo --shop shopify`) from Shopify's documented formats: its
webhooks as Shopify sends them, and the Admin GraphQL calls the adapter makes, answered in Shopify's shapes.

Webhooks (shopify.dev "About webhooks" / "Deliver webhooks through HTTPS"): a POST with the REST JSON of
the resource (`products/*`: the product with its `variants` and `options`; `products/delete`: `{"id"}`;
`inventory_levels/update`: `inventory_item_id`, `location_id`, `available`, `updated_at`,
`admin_graphql_api_id`), compact UTF-8 JSON, and the headers `X-Shopify-Topic`, `X-Shopify-Hmac-Sha256`
(base64 HMAC-SHA256 of the raw body with the app's client secret), `X-Shopify-Shop-Domain`,
`X-Shopify-API-Version`, `X-Shopify-Webhook-Id` (kept by every retry of a delivery),
`X-Shopify-Event-Id`, `X-Shopify-Triggered-At` (nanoseconds, `Z`).

Admin GraphQL (`POST /admin/api/<version>/graphql.json`, `X-Shopify-Access-Token`): `{"data": ...,
"extensions": {"cost": ...}}`; a wrong token is a 401 with `{"errors": "[API] Invalid API key or access
token ..."}`. Orders: `orderCreate` (inventoryBehaviour BYPASS | DECREMENT_*; the first location fulfils),
`orderCancel` (restock), `orderMarkAsPaid`, `tagsRemove`; `orders(query: "tag:'..'")` and
`productVariants(query: "sku:'..'")` searches; `inventoryAdjustQuantities` with `@idempotent(key:)`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from allegro_sync.adapters.shop import shopify
from allegro_sync.adapters.shop import woocommerce as hmac_base64
from allegro_sync.adapters.shop.platforms import SHOPIFY_API_VERSION

Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]  # (status, JSON[, headers])

DOMAIN = "sklep-testowy.myshopify.com"
TOKEN = "shpat_0123456789abcdef0123456789abcdef"  # noqa: S105 - a throwaway value for the fake
CLIENT_SECRET = "shpss_0123456789abcdef0123456789abcdef"  # noqa: S105 - a throwaway value
MAIN, WAREHOUSE, POPUP = 24826418, 48752903, 90210001  # location ids; the seller counts the first two
_SEARCH = re.compile(r"^(?:sku|tag):'((?:[^'\\]|\\.)*)'$")


def _gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


@dataclass
class FakeShopify:
    """One shop: its catalogue, inventory levels per location, orders, and the webhooks it sends."""

    domain: str = DOMAIN
    token: str = TOKEN
    client_secret: str = CLIENT_SECRET
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    levels: dict[tuple[int, int], int] = field(default_factory=dict)  # (inventory item, location)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    adjust_keys: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)  # the GraphQL operation of every call
    fail_next_create_response: bool = False  # orderCreate succeeds, then the gateway times out (504)
    clock: datetime = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7_000_000_001))

    # --- the catalogue ----------------------------------------------------------------------------------

    def add_product(
        self, title: str, variants: list[dict[str, Any]], *, options: list[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A product as `products/create` carries it; each variant gets ids and an inventory item."""
        product_id = next(self._ids)
        names = options or ["Title"]
        built = []
        for position, given in enumerate(variants, start=1):
            variant_id, item = next(self._ids), next(self._ids)
            values = given.pop("options", None) or ["Default Title"]
            built.append(
                {
                    "id": variant_id,
                    "product_id": product_id,
                    "title": " / ".join(values),
                    "price": "0.00",
                    "position": position,
                    "inventory_policy": "deny",
                    "compare_at_price": None,
                    "option1": values[0],
                    "option2": values[1] if len(values) > 1 else None,
                    "option3": values[2] if len(values) > 2 else None,
                    "created_at": self._stamp(),
                    "updated_at": self._stamp(),
                    "taxable": True,
                    "barcode": None,
                    "sku": "",
                    "inventory_item_id": item,
                    "inventory_quantity": 0,
                    "old_inventory_quantity": 0,
                    "requires_shipping": True,
                    "admin_graphql_api_id": _gid("ProductVariant", variant_id),
                    "image_id": None,
                    **given,
                }
            )
        product = {
            "admin_graphql_api_id": _gid("Product", product_id),
            "body_html": f"<p>{title}</p>",
            "created_at": self._stamp(),
            "handle": re.sub(r"\W+", "-", title.lower()).strip("-"),
            "id": product_id,
            "product_type": "Kuchnia",
            "published_at": self._stamp(),
            "template_suffix": None,
            "title": title,
            "updated_at": self._stamp(),
            "vendor": "Sklep Testowy",
            "status": "active",
            "published_scope": "global",
            "tags": "",
            "variants": built,
            "options": [
                {
                    "name": name,
                    "id": next(self._ids),
                    "product_id": product_id,
                    "position": i,
                    "values": sorted({v[f"option{i}"] for v in built if v.get(f"option{i}")}),
                }
                for i, name in enumerate(names, start=1)
            ],
            "images": [],
            "image": None,
            "media": [],
            "variant_gids": [
                {"admin_graphql_api_id": v["admin_graphql_api_id"], "updated_at": v["updated_at"]}
                for v in built
            ],
            **extra,
        }
        self.products[product_id] = product
        return product

    def variant(self, sku: str) -> dict[str, Any]:
        return next(v for p in self.products.values() for v in p["variants"] if v["sku"] == sku)

    def available(self, sku: str, location: int = MAIN) -> int:
        return self.levels.get((self.variant(sku)["inventory_item_id"], location), 0)

    def set_level(self, sku: str, location: int, available: int) -> dict[str, Any]:
        """Set a level as the admin does; returns the `inventory_levels/update` payload Shopify sends."""
        item = self.variant(sku)["inventory_item_id"]
        self.levels[(item, location)] = available
        return self.level_payload(item, location)

    def level_payload(self, item: int, location: int) -> dict[str, Any]:
        return {
            "inventory_item_id": item,
            "location_id": location,
            "available": self.levels.get((item, location)),
            "updated_at": self._stamp(),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location}?inventory_item_id={item}",
        }

    def _stamp(self) -> str:
        """The shop's clock in Shopify's REST format (shop time zone: Warsaw, winter)."""
        self.clock += timedelta(seconds=1)
        return self.clock.astimezone(UTC).replace(tzinfo=None).isoformat() + "+00:00"

    # --- webhooks, as Shopify sends them ---------------------------------------------------------------

    def webhook(
        self, topic: str, payload: Any, *, webhook_id: str | None = None, secret: str | None = None
    ) -> tuple[bytes, list[tuple[str, str]]]:
        """(body, headers) of one delivery; a retry passes the same `webhook_id`."""
        body = shopify.dumps(payload)
        headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", "Shopify-Captain-Hook"),
            ("X-Shopify-Topic", topic),
            ("X-Shopify-Hmac-Sha256", sign(secret or self.client_secret, body)),
            ("X-Shopify-Shop-Domain", self.domain),
            ("X-Shopify-API-Version", SHOPIFY_API_VERSION),
            ("X-Shopify-Webhook-Id", webhook_id or str(uuid.uuid4())),
            ("X-Shopify-Event-Id", str(uuid.uuid4())),
            ("X-Shopify-Triggered-At", self.clock.strftime("%Y-%m-%dT%H:%M:%S.%f") + "877Z"),
        ]
        return body, headers

    def order_payload(self, number: int) -> dict[str, Any]:
        """An order as `orders/updated` carries it (REST shape: `customAttributes` -> `note_attributes`)."""
        order = self.orders[number]
        return {
            "id": number,
            "admin_graphql_api_id": order["id"],
            "name": order["name"],
            "cancelled_at": order["cancelledAt"],
            "financial_status": order["displayFinancialStatus"].lower(),
            "fulfillment_status": order.get("_fulfillment_status"),
            "tags": ", ".join(order["tags"]),
            "note_attributes": [{"name": a["key"], "value": a["value"]} for a in order["customAttributes"]],
            "fulfillments": order.get("_fulfillments", []),
            "updated_at": self._stamp(),
        }

    def fulfil(self, number: int, company: str, tracking: str) -> dict[str, Any]:
        """The seller fulfils the whole order with one tracking number; returns `orders/fulfilled`'s body."""
        order = self.orders[number]
        order["_fulfillment_status"] = "fulfilled"
        order.setdefault("_fulfillments", []).append(
            {
                "id": next(self._ids),
                "order_id": number,
                "status": "success",
                "tracking_company": company,
                "tracking_number": tracking,
                "tracking_numbers": [tracking],
                "tracking_url": f"https://tracking.example/{tracking}",
                "tracking_urls": [f"https://tracking.example/{tracking}"],
                "created_at": self._stamp(),
            }
        )
        return self.order_payload(number)

    # --- the Admin GraphQL API -------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        given = {k.lower(): v for k, v in headers.items()}
        if method != "POST" or not re.fullmatch(r"/admin/api/\d{4}-\d{2}/graphql\.json", target):
            return 404, {"errors": "Not Found"}
        if given.get("x-shopify-access-token") != self.token:
            return 401, {
                "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
            }
        request = json.loads(body)
        query, variables = request["query"], request.get("variables") or {}
        operation = next(
            (
                name
                for name in (
                    "orderCreate",
                    "orderCancel",
                    "orderMarkAsPaid",
                    "inventoryAdjustQuantities",
                    "tagsRemove",
                    "productVariants",
                    "products",
                    "orders",
                    "order",
                    "shop",
                )
                if re.search(rf"\b{name}\s*[({{]", query)
            ),
            "unknown",
        )
        self.calls.append(operation)
        data = getattr(self, f"_{operation}", self._unknown)(query, variables)
        cost = {"requestedQueryCost": 10, "actualQueryCost": 10}
        answer = {"data": data, "extensions": {"cost": cost}}
        if operation == "orderCreate" and self.fail_next_create_response:
            self.fail_next_create_response = False
            return 504, {"errors": "Gateway Timeout"}
        return 200, answer

    def _unknown(self, _query: str, _variables: dict[str, Any]) -> Any:
        raise AssertionError("the adapter made a GraphQL call the fake does not know")

    @staticmethod
    def _search(variables: dict[str, Any]) -> str:
        match = _SEARCH.match(variables["q"])
        assert match, variables["q"]
        return re.sub(r"\\(.)", r"\1", match.group(1))

    def _shop(self, _query: str, _variables: dict[str, Any]) -> Any:
        return {"shop": {"name": "Sklep Testowy"}}

    def _productVariants(self, _query: str, variables: dict[str, Any]) -> Any:
        sku = self._search(variables)
        nodes = [
            {
                "id": v["admin_graphql_api_id"],
                "sku": v["sku"],
                "inventoryItem": {"id": _gid("InventoryItem", v["inventory_item_id"])},
            }
            for p in self.products.values()
            for v in p["variants"]
            if v["sku"].lower() == sku.lower()
        ]
        return {"productVariants": {"nodes": nodes}}

    def _products(self, _query: str, variables: dict[str, Any]) -> Any:
        """`products(query: "updated_at:>'<ISO>'", sortKey: UPDATED_AT)`, one page, in GraphQL's shape."""
        after = re.fullmatch(r"updated_at:>'([^']+)'", variables.get("q") or "")
        since = datetime.fromisoformat(after.group(1).replace("Z", "+00:00")) if after else None
        chosen = [
            p
            for p in self.products.values()
            if since is None or datetime.fromisoformat(p["updated_at"]) > since
        ]
        nodes = [self._graphql_product(p) for p in sorted(chosen, key=lambda p: p["updated_at"])]
        return {"products": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": nodes}}

    def _graphql_product(self, product: dict[str, Any]) -> dict[str, Any]:
        names = [o["name"] for o in sorted(product["options"], key=lambda o: o["position"])]

        def levels(item: int) -> list[dict[str, Any]]:
            return [
                {
                    "location": {"id": _gid("Location", location)},
                    "quantities": [{"name": "available", "quantity": n}],
                }
                for (found, location), n in self.levels.items()
                if found == item
            ]

        return {
            "id": product["admin_graphql_api_id"],
            "title": product["title"],
            "descriptionHtml": product["body_html"],
            "productType": product["product_type"],
            "status": product["status"].upper(),
            "updatedAt": product["updated_at"].replace("+00:00", "Z"),
            "options": [{"name": o["name"], "position": o["position"]} for o in product["options"]],
            "variants": {
                "nodes": [
                    {
                        "id": v["admin_graphql_api_id"],
                        "sku": v["sku"],
                        "barcode": v["barcode"],
                        "price": v["price"],
                        "selectedOptions": [
                            {"name": name, "value": v[f"option{i}"]}
                            for i, name in enumerate(names, start=1)
                            if v.get(f"option{i}")
                        ],
                        "inventoryItem": {
                            "id": _gid("InventoryItem", v["inventory_item_id"]),
                            "inventoryLevels": {"nodes": levels(v["inventory_item_id"])},
                        },
                    }
                    for v in product["variants"]
                ]
            },
        }

    def _public(self, order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if not k.startswith("_")}

    def _orders(self, _query: str, variables: dict[str, Any]) -> Any:
        tag = self._search(variables)
        return {"orders": {"nodes": [self._public(o) for o in self.orders.values() if tag in o["tags"]]}}

    def _order(self, _query: str, variables: dict[str, Any]) -> Any:
        found = self.orders.get(int(variables["id"].rsplit("/", 1)[-1]))
        return {"order": self._public(found) if found else None}

    def _move(self, order: dict[str, Any], sign_: int) -> None:
        for line in order["_lines"]:
            key = (line["item"], MAIN)
            self.levels[key] = self.levels.get(key, 0) + sign_ * line["quantity"]

    def _orderCreate(self, _query: str, variables: dict[str, Any]) -> Any:
        given, options = variables["order"], variables.get("options") or {}
        number = next(self._ids)
        lines = []
        for line in given["lineItems"]:
            variant = next(
                (
                    v
                    for p in self.products.values()
                    for v in p["variants"]
                    if v["admin_graphql_api_id"] == line.get("variantId")
                ),
                None,
            )
            if variant is not None:
                lines.append({"item": variant["inventory_item_id"], "quantity": line["quantity"]})
        order = {
            "id": _gid("Order", number),
            "name": f"#{1000 + len(self.orders) + 1}",
            "tags": sorted(given.get("tags") or []),
            "updatedAt": self.clock.isoformat().replace("+00:00", "Z"),
            "cancelledAt": None,
            "displayFinancialStatus": given.get("financialStatus", "PENDING"),
            "customAttributes": given.get("customAttributes") or [],
            "_lines": lines,
            "_input": given,
        }
        if options.get("inventoryBehaviour", "BYPASS") != "BYPASS":
            self._move(order, -1)
        self.orders[number] = order
        self._stamp()
        return {"orderCreate": {"order": self._public(order), "userErrors": []}}

    def _orderCancel(self, _query: str, variables: dict[str, Any]) -> Any:
        order = self.orders[int(variables["id"].rsplit("/", 1)[-1])]
        if order["cancelledAt"] is None:
            order["cancelledAt"] = self._stamp()
            if variables["restock"]:
                self._move(order, +1)
        return {"orderCancel": {"job": {"id": _gid("Job", next(self._ids))}, "orderCancelUserErrors": []}}

    def _orderMarkAsPaid(self, _query: str, variables: dict[str, Any]) -> Any:
        order = self.orders[int(variables["input"]["id"].rsplit("/", 1)[-1])]
        order["displayFinancialStatus"] = "PAID"
        return {"orderMarkAsPaid": {"order": self._public(order), "userErrors": []}}

    def _tagsRemove(self, _query: str, variables: dict[str, Any]) -> Any:
        order = self.orders[int(variables["id"].rsplit("/", 1)[-1])]
        order["tags"] = [t for t in order["tags"] if t not in variables["tags"]]
        return {"tagsRemove": {"userErrors": []}}

    def _inventoryAdjustQuantities(self, _query: str, variables: dict[str, Any]) -> Any:
        key = variables["key"]
        if key not in self.adjust_keys:  # @idempotent: the same key applies once
            self.adjust_keys.add(key)
            for change in variables["input"]["changes"]:
                item = int(change["inventoryItemId"].rsplit("/", 1)[-1])
                location = int(change["locationId"].rsplit("/", 1)[-1])
                self.levels[(item, location)] = self.levels.get((item, location), 0) + change["delta"]
        group = {
            "id": _gid("InventoryAdjustmentGroup", int(hashlib.sha256(key.encode()).hexdigest()[:8], 16))
        }
        return {"inventoryAdjustQuantities": {"inventoryAdjustmentGroup": group, "userErrors": []}}

    def credentials(self, url: str, locations: tuple[int, ...] = (MAIN, WAREHOUSE)) -> dict[str, Any]:
        """The `shopify` shop-credentials secret pointing at this fake served at `url`."""
        return {
            "kind": "shopify",
            "shop_domain": self.domain,
            "access_token": self.token,
            "api_secret": self.client_secret,
            "location_ids": [str(location) for location in locations],
            "base_url": url,
        }


def sign(secret: str, body: bytes) -> str:
    """`X-Shopify-Hmac-Sha256`: the same base64 HMAC-SHA256 of the raw body that WooCommerce uses."""
    return hmac_base64.sign(secret, body)
