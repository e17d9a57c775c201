"""WooCommerce's refunds with their lines (issue 15, item 3): `GET /wp-json/wc/v3/orders/<id>/refunds`
(developer.woocommerce.com, REST API v3, "Order refunds"); the mapping is in `woocommerce_after_sale`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from allegro_sync.adapters.shop.woocommerce_rest import WooCommerceRest
from allegro_sync.contracts.shop import ShopUnavailable


class WooCommerceRefunds(WooCommerceRest):
    """`GET /orders/<id>/refunds`: every refund of the order with its lines (at most 100, newest first)."""

    def refunds(self, order_id: int, wanted: Sequence[int]) -> list[dict[str, Any]]:
        found = self._call("GET", f"/orders/{order_id}/refunds", params={"per_page": 100})
        if not isinstance(found, list):
            raise ShopUnavailable(f"WooCommerce sent no refund list for order {order_id}")
        return [r for r in found if isinstance(r, dict) and r.get("id") in wanted]
