"""WooCommerce exactly as it sends, through the local HTTP API, to offers on the Allegro emulator.

Deliveries are built byte for byte as `WC_Webhook::deliver` builds them (`trim(wp_json_encode(...))`:
`\\/` and `\\uXXXX` escapes, `X-WC-Webhook-*` headers, base64 HMAC-SHA256 over the raw body), the ping as
`deliver_ping` sends it, and the shop's REST API is a fake WooCommerce on 127.0.0.1 holding the same
products (tests/unit/shop_out/fake_shops.py), read with the stored shop credentials.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from allegro_sync.contracts.catalog import LinkStatus
from allegro_sync.local.demo_shop import woocommerce_credentials
from allegro_sync.local.events import HttpRequest, http_api_v2_event
from tests.fixtures.shop_webhooks import LOADED_MACHINE_SECONDS, post_woocommerce, woocommerce_delivery
from tests.integration.catalog.conftest import ACCOUNT, CatalogStack, approved
from tests.unit.shop_out.fake_shops import FakeWooCommerce, ShopServer

pytestmark = pytest.mark.integration

WOO_SECRET = "woo-s3cret/ż"
PING_EVENT = Path(__file__).resolve().parents[3] / "events" / "shop_webhook-woocommerce-ping.json"
PARENT: dict[str, Any] = {
    "name": "Słuchawki nauszne Aura",
    "sku": "AURA",
    "status": "publish",
    "price": "199.99",
    "regular_price": "",
    "description": "<p>Lekkie słuchawki nauszne, 40 h na baterii.</p>",
    "categories": [{"id": 5, "name": "Słuchawki", "slug": "sluchawki"}],
    "images": [{"id": 70, "src": "https://sklep.example.pl/wp-content/uploads/2026/11/aura.jpg"}],
    "attributes": [
        {"id": 0, "name": "Kolor", "options": ["czarny", "biały"], "variation": True},
        {"id": 0, "name": "Stan", "options": ["Nowy"], "variation": False},
        {"id": 0, "name": "Typ słuchawek", "options": ["nauszne"], "variation": False},
    ],
    "date_modified_gmt": "2026-11-27T21:00:00",
}


def variation(colour: str, sku: str, price: str, stock: int, modified: str = "21:00:00") -> dict[str, Any]:
    return {
        "name": f"Słuchawki nauszne Aura - {colour}",
        "sku": sku,
        "status": "publish",
        "price": price,
        "regular_price": price,
        "sale_price": "",
        "manage_stock": True,
        "stock_quantity": stock,
        "stock_status": "instock",
        "description": "",
        "attributes": [{"id": 0, "name": "Kolor", "option": colour}],
        "image": {"id": 71, "src": f"https://sklep.example.pl/wp-content/uploads/2026/11/{sku.lower()}.jpg"},
        "date_modified_gmt": f"2026-11-27T{modified}",
    }


@dataclass
class Woo:
    api: str
    shop: FakeWooCommerce
    ids: dict[str, int]

    def deliver(self, product_id: int, **options: Any) -> httpx.Response:
        """WooCommerce delivering the product as its REST API shows it now (the webhook's payload)."""
        payload = self.shop.products[product_id]
        return post_woocommerce(f"{self.api}/webhooks/woocommerce", payload, secret=WOO_SECRET, **options)


@pytest.fixture(scope="module")
def woo(stack: CatalogStack) -> Iterator[Woo]:
    stack.mappings.put_mapping(approved(("Słuchawki",), "101"))
    shop = FakeWooCommerce("ck_woo", "cs_woo")
    ids = shop.add_variable(
        PARENT,
        [variation("czarny", "AURA-CZARNE", "199.99", 4), variation("biały", "AURA-BIALE", "249.00", 9)],
    )
    with ShopServer(shop) as server:
        stack.runtime.put_secret(
            "webhook-signing", {"secret": "generic-secret-0123456789", "woocommerce": WOO_SECRET}
        )
        stack.runtime.put_secret("shop-credentials", woocommerce_credentials(server.url, "ck_woo", "cs_woo"))
        webhook = stack.app("shop_webhook")
        webhook.signing_secrets().forget()
        webhook.shop_credentials().forget()
        yield Woo(stack.runtime.start_gateway(), shop, ids)


def test_the_ping_answers_200_as_text_and_as_api_gateways_base64(stack: CatalogStack) -> None:
    as_text = http_api_v2_event(
        HttpRequest(
            "POST", "/webhooks/woocommerce", headers=[("Content-Type", "text/plain")], body=b"webhook_id=15"
        ),
        route_key="POST /webhooks/woocommerce",
    )
    as_aws_sends_it = json.loads(PING_EVENT.read_text(encoding="utf-8"))

    answers = [stack.runtime.invoke("shop_webhook", e) for e in (as_text, as_aws_sends_it)]

    assert as_text["isBase64Encoded"] is False
    assert (as_aws_sends_it["isBase64Encoded"], base64.b64decode(as_aws_sends_it["body"])) == (
        True,
        b"webhook_id=15",
    )
    assert [(a["statusCode"], json.loads(a["body"])) for a in answers] == [(200, {"status": "pong"})] * 2


def test_the_ping_through_the_gateway_arrives_base64_and_gets_200_even_on_the_orders_route(woo: Woo) -> None:
    ping = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "WooCommerce/9.4.2 Hookshot"}
    for route in ("/webhooks/woocommerce", "/webhooks/woocommerce/orders"):
        answer = httpx.post(
            woo.api + route, content=b"webhook_id=15", headers=ping, timeout=LOADED_MACHINE_SECONDS
        )
        assert (answer.status_code, answer.json()) == (200, {"status": "pong"}), route


def test_a_variable_product_from_default_deliveries_is_published_per_variation(
    stack: CatalogStack, woo: Woo
) -> None:
    # WooCommerce's default: the parent lists only variation ids; each variation arrives on its own.
    parent = woo.ids["AURA"]
    assert all(isinstance(v, int) for v in woo.shop.products[parent]["variations"])
    answers = [woo.deliver(parent)] + [woo.deliver(woo.ids[s]) for s in ("AURA-CZARNE", "AURA-BIALE")]
    stack.runtime.drain(timeout=30)

    assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
    shown = {}
    for sku in ("AURA-CZARNE", "AURA-BIALE"):
        link = stack.catalog.link(sku, ACCOUNT)
        assert link is not None, sku
        assert link.status is LinkStatus.PUBLISHED, link.reasons
        offer = stack.offer(sku)
        shown[sku] = (offer["name"], offer["sellingMode"]["price"]["amount"], offer["stock"]["available"])
    assert shown == {
        "AURA-CZARNE": ("Słuchawki nauszne Aura - czarny", "219.99", 4),
        "AURA-BIALE": ("Słuchawki nauszne Aura - biały", "273.99", 9),
    }


def test_a_variations_price_change_reaches_allegro_with_its_stock(stack: CatalogStack, woo: Woo) -> None:
    black = woo.ids["AURA-CZARNE"]
    woo.shop.products[black].update(
        price="179.99", regular_price="179.99", stock_quantity=2, date_modified_gmt="2026-11-27T21:10:00"
    )

    answer = woo.deliver(black)
    stack.runtime.drain(timeout=30)

    assert answer.status_code == 202, answer.text
    offer = stack.offer("AURA-CZARNE")
    assert (offer["sellingMode"]["price"]["amount"], offer["stock"]["available"]) == ("197.99", 2)
    change = next(
        c for c in stack.changes.history("AURA-CZARNE") if c.action != "create" and "price" in c.changes
    )
    assert change.changes["price"] == {"old": "219.99", "new": "197.99"}


def test_a_variations_price_change_reaches_allegro_when_the_shop_cannot_be_read(
    stack: CatalogStack, woo: Woo
) -> None:
    white = woo.ids["AURA-BIALE"]
    woo.shop.products[white].update(
        price="229.00", regular_price="229.00", stock_quantity=5, date_modified_gmt="2026-11-27T21:20:00"
    )
    woo.shop.down = True  # the parent cannot be read: the delivery carries stock.set + price.set
    try:
        answer = woo.deliver(white)
    finally:
        woo.shop.down = False
    stack.runtime.drain(timeout=30)

    assert answer.status_code == 202, answer.text
    offer = stack.offer("AURA-BIALE")
    assert (offer["sellingMode"]["price"]["amount"], offer["stock"]["available"]) == ("251.99", 5)
    assert any("price" in c.changes for c in stack.changes.history("AURA-BIALE"))


def test_a_tampered_byte_is_refused_and_changes_nothing(stack: CatalogStack, woo: Woo) -> None:
    payload = {**woo.shop.products[woo.ids["AURA-CZARNE"]], "price": "1.00"}
    body, headers = woocommerce_delivery(payload, secret=WOO_SECRET)
    assert b"https:\\/\\/sklep.example.pl" in body  # WooCommerce's escapes, as wp_json_encode writes them
    assert b"S\\u0142uchawki" in body
    tampered = body.replace(b'"price":"1.00"', b'"price":"2.00"')

    answer = httpx.post(
        f"{woo.api}/webhooks/woocommerce", content=tampered, headers=headers, timeout=LOADED_MACHINE_SECONDS
    )
    stack.runtime.drain(timeout=30)

    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "invalid_signature")
    assert stack.offer("AURA-CZARNE")["sellingMode"]["price"]["amount"] == "197.99"


def test_an_absurd_price_is_answered_2xx_and_shown_on_the_products_status(
    stack: CatalogStack, woo: Woo
) -> None:
    black = woo.ids["AURA-CZARNE"]
    woo.shop.products[black].update(
        price="1e308", regular_price="1e308", date_modified_gmt="2026-11-27T21:30:00"
    )

    answer = woo.deliver(black)
    stack.runtime.drain(timeout=30)
    shown = stack.cli("products", "status", "AURA-CZARNE")

    assert (answer.status_code, answer.json()["status"]) == (202, "refused")
    assert answer.json()["refused"][0]["sku"] == "AURA-CZARNE"
    assert "price" in answer.json()["reason"]
    assert stack.offer("AURA-CZARNE")["sellingMode"]["price"]["amount"] == "197.99"
    assert "last shop data refused" in shown.output, shown.output
    assert "price: Input should be less than or equal to 99999999.99" in " ".join(shown.output.split())
