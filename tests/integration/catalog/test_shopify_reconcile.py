"""A Shopify product whose webhooks were lost reaches Allegro through the scheduled shop_reconciler."""

from __future__ import annotations

import pytest

from allegro_sync.local.fake_shopify import MAIN, POPUP, WAREHOUSE, FakeShopify
from allegro_sync.local.loopback import AnswerServer
from tests.fixtures.products import SONY_EAN
from tests.integration.catalog.conftest import CatalogStack, approved

pytestmark = pytest.mark.integration


def test_a_variant_product_whose_webhooks_were_lost_is_published_per_variant_on_the_next_run(
    stack: CatalogStack,
) -> None:
    shop = FakeShopify()
    shop.add_product(
        "Słuchawki bezprzewodowe Sony WH-1000XM5",
        [
            {"sku": "SONY-SH-CZ", "price": "1299.00", "barcode": SONY_EAN, "options": ["czarne", "Nowy"]},
            {"sku": "SONY-SH-SR", "price": "1349.00", "options": ["srebrne", "Nowy"]},
        ],
        options=["Kolor", "Stan"],
        product_type="Słuchawki",
    )
    shop.set_level("SONY-SH-CZ", MAIN, 4)
    shop.set_level("SONY-SH-CZ", WAREHOUSE, 2)
    shop.set_level("SONY-SH-SR", POPUP, 9)  # a location the seller does not count
    with AnswerServer(shop) as server:
        stack.runtime.put_secret("shop-credentials", shop.credentials(server.url, (MAIN, WAREHOUSE)))
        stack.runtime.application("shop_reconciler").shop_credentials().forget()
        stack.mappings.put_mapping(approved(("Słuchawki",), "101"))
        report = stack.runtime.fire("shop_reconciler")  # no webhook was ever delivered
        stack.runtime.drain(timeout=30)
        again = stack.runtime.fire("shop_reconciler")

    assert report["queued"] == 1, report  # one product, one event per variant
    assert stack.shown(stack.offer("SONY-SH-CZ")["id"]) == ("ACTIVE", 6)
    waiting = stack.catalog.link("SONY-SH-SR", "shop1")
    assert waiting is not None
    assert waiting.status.value == "WAITING"  # stock 0: only the pop-up store, not counted, has it
    assert again["queued"] == 0
