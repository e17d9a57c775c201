"""Lost WooCommerce webhooks repaired by the scheduled shop_reconciler, through the local runtime.

A WooCommerce shop on 127.0.0.1 (`WooCatalog`: wc/v3's `modified_after` listing with its paging headers),
the real topology (shop_reconciler -> webhook intake -> shop-events -> catalog_worker) and the Allegro
emulator: a stock change whose webhook never came reaches the offer on the next run, a re-run changes
nothing, a change a webhook already brought is not applied twice, and a run that dies before saving its
cursor is repeated without doing anything twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from allegro_sync.adapters.dynamodb.shop_cursor import DynamoShopCursor
from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.local.events import HttpRequest, http_api_v2_event
from tests.fixtures.products import SONY_EAN
from tests.fixtures.woo_shop import WooCatalog
from tests.integration.catalog.conftest import CatalogStack, approved
from tests.unit.shop_out.fake_shops import ShopServer

pytestmark = pytest.mark.integration

WOO_SECRET = "woo-webhook-secret"


@pytest.fixture(scope="module")
def woo(stack: CatalogStack) -> Iterator[WooCatalog]:
    shop = WooCatalog("ck_live", "cs_live")
    with ShopServer(shop) as server:
        credentials = {
            "kind": "woocommerce",
            "url": server.url,
            "consumer_key": "ck_live",
            "consumer_secret": "cs_live",
        }
        stack.runtime.put_secret("shop-credentials", credentials)
        stack.runtime.put_secret("webhook-signing", {"secret": WOO_SECRET})
        stack.mappings.put_mapping(approved(("Słuchawki",), "101"))
        yield shop


def reconcile(stack: CatalogStack) -> dict[str, Any]:
    report: dict[str, Any] = stack.runtime.fire("shop_reconciler")
    stack.runtime.drain(timeout=30)
    return report


def webhook(stack: CatalogStack, product: dict[str, Any]) -> int:
    body = wc.dumps(product)
    headers = [
        ("Content-Type", "application/json"),
        ("X-WC-Webhook-Topic", "product.updated"),
        ("X-WC-Webhook-ID", "7"),
        ("X-WC-Webhook-Delivery-ID", f"d-{product['id']}-{product['date_modified_gmt']}"),
        ("X-WC-Webhook-Signature", wc.sign(WOO_SECRET, body)),
    ]
    request = HttpRequest("POST", "/webhooks/woocommerce", headers=headers, body=body)
    answer = stack.runtime.invoke(
        "shop_webhook", http_api_v2_event(request, route_key="POST /webhooks/woocommerce")
    )
    stack.runtime.drain(timeout=30)
    return int(answer["statusCode"])


def sony(shop: WooCatalog, sku: str, stock: int) -> int:
    return shop.put_product(
        sku,
        name="Słuchawki bezprzewodowe Sony WH-1000XM5 czarne",
        price="1299.00",
        stock=stock,
        global_unique_id=SONY_EAN,
        categories=[{"id": 5, "name": "Słuchawki", "slug": "sluchawki"}],
        attributes=[{"name": "Stan", "options": ["Nowy"]}],
    )


def test_a_stock_change_whose_webhook_was_lost_reaches_allegro_on_the_next_run(
    stack: CatalogStack, woo: WooCatalog
) -> None:
    product = sony(woo, "SONY-LOST", 7)
    first = reconcile(stack)  # no cursor yet: the whole catalogue once (a shop without webhooks starts here)
    assert first["queued"] == 1
    assert stack.shown(stack.offer("SONY-LOST")["id"]) == ("ACTIVE", 7)

    woo.edit(product, stock_quantity=2)  # the product.updated webhook is lost (outage, disabled webhook)
    preview = stack.cli("reconcile", "--shop", "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert "SONY-LOST" in preview.output
    assert "stock 2)" in preview.output
    assert "would apply" in preview.output
    stack.runtime.drain(timeout=30)
    assert stack.shown(stack.offer("SONY-LOST")["id"]) == ("ACTIVE", 7)  # the dry run queued nothing
    second = reconcile(stack)
    assert second["queued"] == 1
    assert second["cursor_saved"]
    assert stack.shown(stack.offer("SONY-LOST")["id"]) == ("ACTIVE", 2)
    changes = len(stack.changes.history("SONY-LOST"))

    again = reconcile(stack)  # the overlap reads the same state: nothing queued, nothing changed
    assert (again["queued"], again["duplicates"]) == (0, 1)
    assert len(stack.changes.history("SONY-LOST")) == changes

    delivered = woo.edit(product, stock_quantity=5)
    assert webhook(stack, delivered) == 202  # this time the webhook arrives
    assert stack.shown(stack.offer("SONY-LOST")["id"]) == ("ACTIVE", 5)
    changes = len(stack.changes.history("SONY-LOST"))
    after = reconcile(stack)  # the reconciliation reads that change too: the worker already has it
    assert after["queued"] == 1
    assert len(stack.changes.history("SONY-LOST")) == changes
    assert stack.shown(stack.offer("SONY-LOST")["id"]) == ("ACTIVE", 5)


def test_a_run_that_dies_before_saving_its_cursor_is_repeated_without_doing_anything_twice(
    stack: CatalogStack, woo: WooCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = sony(woo, "SONY-CRASH", 4)
    reconcile(stack)
    woo.edit(product, stock_quantity=1)

    def timed_out(*args: Any, **kwargs: Any) -> bool:
        raise TimeoutError("the Lambda timed out after queueing, before saving the cursor")

    with monkeypatch.context() as patched:
        patched.setattr(DynamoShopCursor, "save", timed_out)
        with pytest.raises(TimeoutError):
            stack.runtime.fire("shop_reconciler")
    stack.runtime.drain(timeout=30)
    assert stack.shown(stack.offer("SONY-CRASH")["id"]) == ("ACTIVE", 1)  # queued before the crash
    changes = len(stack.changes.history("SONY-CRASH"))

    rerun = reconcile(stack)  # the cursor did not move: the same changes are read again
    assert rerun["queued"] == 0
    assert rerun["cursor_saved"]
    assert len(stack.changes.history("SONY-CRASH")) == changes
    assert stack.shown(stack.offer("SONY-CRASH")["id"]) == ("ACTIVE", 1)
