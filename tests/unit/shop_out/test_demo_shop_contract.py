"""The demo shop (the soak's and `make demo`'s shop) keeps the generic contract it is the local stand-in
for: each stock effect once per `sale_id`, and a MERGED order closed without touching stock."""

from __future__ import annotations

import json
import time
from typing import Any

from allegro_sync.adapters.shop import signing
from allegro_sync.local.demo_shop import DemoShop

SECRET = "demo-shop-contract-secret"


def deliver(shop: DemoShop, message_id: str, message: dict[str, Any]) -> None:
    body = json.dumps({"message_id": message_id, **message}).encode()
    headers = signing.signed_headers(SECRET, message_id, body, int(time.time()))
    status, _ = shop.answer({**headers, "Idempotency-Key": message_id}, body)
    assert status == 200


def line(sale_id: str, effect: str) -> dict[str, Any]:
    return {"sale_id": sale_id, "sku": "A", "quantity": 1, "stock_effect": effect}


def test_a_replaced_orders_merged_message_after_the_combined_order_was_cancelled_takes_nothing() -> None:
    """The soak of 2026-12-07 (d38f8c45): F1 took sale s1; F1 and F2 paid together became F3 (s1, s2); F3
    was cancelled and gave both back; F1's MERGED message, held by the notifier until F3 was in the shop,
    came last and listed s1 as TAKEN, as F1 last had it. The shop took s1 again and kept a unit."""
    shop = DemoShop(secret=SECRET, stock={"A": 10})
    deliver(
        shop, "order:F1:v1", {"checkout_form_id": "F1", "status": "BOUGHT", "lines": [line("s1", "TAKEN")]}
    )
    f3 = [line("s1", "TAKEN"), line("s2", "TAKEN")]
    deliver(shop, "order:F3:v1", {"checkout_form_id": "F3", "status": "READY_FOR_PROCESSING", "lines": f3})
    cancelled = [line("s1", "RETURNED"), line("s2", "RETURNED")]
    deliver(shop, "order:F3:v2", {"checkout_form_id": "F3", "status": "CANCELLED", "lines": cancelled})
    assert shop.stock["A"] == 10

    merged = {
        "checkout_form_id": "F1",
        "status": "MERGED",
        "merged_into": "F3",
        "lines": [line("s1", "TAKEN")],
    }
    deliver(shop, "order:F1:v2", merged)

    assert shop.stock["A"] == 10
    assert shop.taken["F3"]["A"] == 0
    assert shop.taken["F1"]["A"] == 0


def test_a_sale_given_back_is_not_taken_again_by_a_later_message() -> None:
    shop = DemoShop(secret=SECRET, stock={"A": 10})
    deliver(
        shop, "order:F1:v1", {"checkout_form_id": "F1", "status": "BOUGHT", "lines": [line("s1", "TAKEN")]}
    )
    deliver(
        shop,
        "order:F1:v2",
        {"checkout_form_id": "F1", "status": "CANCELLED", "lines": [line("s1", "RETURNED")]},
    )
    deliver(
        shop, "order:F9:v1", {"checkout_form_id": "F9", "status": "BOUGHT", "lines": [line("s1", "TAKEN")]}
    )

    assert shop.stock["A"] == 10
