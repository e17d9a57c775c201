"""WooCommerce REST JSON for the local shops (the demo's, the tests' fake catalogue): one place says what a
sellable product or variation carries, so the two fakes cannot drift apart from each other."""

from __future__ import annotations

from typing import Any


def sellable(sku: str, price: str, stock: int) -> dict[str, Any]:
    """A published product or variation with its price and the stock WooCommerce manages (wc/v3 fields)."""
    return {
        "sku": sku,
        "status": "publish",
        "price": price,
        "regular_price": price,
        "manage_stock": True,
        "stock_quantity": stock,
        "stock_status": "instock" if stock > 0 else "outofstock",
    }
