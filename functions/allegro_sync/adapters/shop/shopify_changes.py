"""What changed in a Shopify shop since a cursor, through the Admin GraphQL API (the shop reconciliation).

Repairs what webhooks cannot: a delivery Shopify gave up on after its 8 retries over 4 hours, and an
`inventory_levels/update` whose inventory item no product delivery had named yet (the intake answered it
"not known yet"). `products(query: "updated_at:>'<cursor>'", sortKey: UPDATED_AT)` pages through the
products changed since the cursor (minus an overlap, for saves committed out of order), each with its
variants, their inventory item and its `available` quantity per location, so every variant is mapped as its
`products/update` delivery is, with the stock of the counted locations, and its inventory item linked.
A level change alone does not touch the product's `updated_at`: that case is still the webhook's.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from allegro_sync.adapters.shop.shopify import SfProduct, map_product
from allegro_sync.adapters.shop.shopify_admin import ShopifyAdmin
from allegro_sync.contracts.shop import ShopDeliveryError
from allegro_sync.contracts.shop_changes import ShopChanges, ShopFeedFailed, changed_delivery
from allegro_sync.contracts.webhooks import Delivery

PAGE = 50
MAX_PAGES = 2_000  # 100,000 products: a safety stop
OVERLAP = timedelta(minutes=5)
PRODUCTS = (
    """query($q: String, $after: String) {
  products(first: PAGE, after: $after, query: $q, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id title descriptionHtml productType status updatedAt
      options { name position }
      variants(first: 100) { nodes { id sku barcode price selectedOptions { name value }
        inventoryItem { id inventoryLevels(first: 50) { nodes { location { id }
          quantities(names: ["available"]) { name quantity } } } } } } } } }"""
).replace("PAGE", str(PAGE))


def _number(gid: Any) -> int:
    return int(str(gid).rsplit("/", 1)[-1])


def _rest_shape(node: dict[str, Any]) -> tuple[dict[str, Any], dict[int, dict[str, int]]]:
    """A GraphQL product as the webhook's REST JSON (what the mapping reads), and the levels per item."""
    options = sorted(node.get("options") or [], key=lambda o: o.get("position", 0))
    variants, levels = [], {}
    for variant in (node.get("variants") or {}).get("nodes") or []:
        chosen = {o.get("name"): o.get("value") for o in variant.get("selectedOptions") or []}
        item = variant.get("inventoryItem") or {}
        row = {
            "id": _number(variant["id"]),
            "sku": variant.get("sku") or "",
            "barcode": variant.get("barcode"),
            "price": variant.get("price"),
            "inventory_item_id": _number(item["id"]) if item.get("id") else None,
        }
        for i, option in enumerate(options[:3], start=1):
            row[f"option{i}"] = chosen.get(option.get("name"))
        variants.append(row)
        if row["inventory_item_id"]:
            levels[row["inventory_item_id"]] = {
                str(_number(level["location"]["id"])): int(q["quantity"])
                for level in (item.get("inventoryLevels") or {}).get("nodes") or []
                for q in level.get("quantities") or []
                if q.get("name") == "available" and q.get("quantity") is not None
            }
    product = {
        "id": _number(node["id"]),
        "title": node.get("title") or "",
        "body_html": node.get("descriptionHtml") or "",
        "product_type": node.get("productType") or "",
        "status": str(node.get("status") or "ACTIVE").lower(),
        "updated_at": node.get("updatedAt"),
        "options": [{"name": o.get("name"), "position": o.get("position", 1)} for o in options],
        "variants": variants,
    }
    return product, levels


class ShopifyChanges:
    """`ShopChangeFeed` over the Admin GraphQL API (the token the orders already use)."""

    kind = "shopify"

    def __init__(
        self,
        admin: ShopifyAdmin,
        shop_domain: str,
        locations: frozenset[str],
        *,
        overlap: timedelta = OVERLAP,
    ) -> None:
        self._admin, self._shop, self._locations = admin, shop_domain.lower(), locations
        self._overlap = overlap

    def read(self, since: str | None) -> ShopChanges:
        start = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
        query = f"updated_at:>'{(start - self._overlap).strftime('%Y-%m-%dT%H:%M:%SZ')}'" if start else None
        nodes, calls, after = [], 0, None
        while calls < MAX_PAGES:
            calls += 1
            try:
                data = self._admin.graphql(PRODUCTS, {"q": query, "after": after})
            except ShopDeliveryError as exc:
                raise ShopFeedFailed(f"Shopify did not list the products: {exc}") from None
            page = data.get("products") or {}
            nodes += [n for n in page.get("nodes") or [] if isinstance(n, dict)]
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
        deliveries: list[Delivery] = []
        notes: list[str] = []
        newest = start
        for node in nodes:
            product, levels = _rest_shape(node)
            parsed = SfProduct.model_validate(product)
            stamp = datetime.fromisoformat(str(parsed.updated_at).replace("Z", "+00:00"))
            newest = stamp if newest is None or stamp > newest else newest
            stock = {
                item: sum(max(0, n) for location, n in found.items() if location in self._locations)
                for item, found in levels.items()
            }
            mapped = map_product(parsed, self._shop, f"shopify-{parsed.id}-{parsed.updated_at}", stamp, stock)
            notes += mapped.notes
            changed = changed_delivery("shopify", mapped.events, ignored=mapped.ignored, notes=mapped.notes)
            deliveries.append(dataclasses.replace(changed, inventory_items=mapped.inventory_items))
        cursor = newest.astimezone(UTC).isoformat() if newest is not None else None
        return ShopChanges(deliveries, cursor if cursor != since else None, calls, notes)
