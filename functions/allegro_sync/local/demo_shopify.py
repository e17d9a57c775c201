"""The demo's Shopify chapter (`allegro-sync demo --shop shopify`, `make demo SHOP=shopify`): the same story
as the WooCommerce chapter, told by a local Shopify (`local/fake_shopify.py`) that sends webhooks as Shopify
does and answers the Admin GraphQL API; then an Allegro order goes back to it and its fulfilment returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from rich.table import Table

from allegro_sync.adapters.shop.shopify_admin import form_tag
from allegro_sync.adapters.shop_credentials import ShopCredentialsStore
from allegro_sync.contracts.catalog import CategoryMapping, StoredMapping
from allegro_sync.local.fake_shopify import MAIN, POPUP, WAREHOUSE, FakeShopify
from allegro_sync.local.loopback import AnswerServer

if TYPE_CHECKING:
    from allegro_sync.local.demo import Demo

WAYBILL = "620111222333444555666777"


def _post(demo: Demo, path: str, delivery: tuple[bytes, list[tuple[str, str]]]) -> httpx.Response:
    body, headers = delivery
    return httpx.post(f"{demo.http_url}{path}", content=body, headers=headers, timeout=30)


def _forget_credentials(demo: Demo) -> None:
    """The functions cache the shop credentials for minutes; the demo switches shops at once."""
    for function in ("shop_webhook", "fulfillment_intake", "shop_notifier"):
        demo.runtime.application(function).shop_credentials().forget()


def shopify_chapter(demo: Demo, expect: Any, accounts: list[str]) -> None:
    demo._chapter("7b. A Shopify shop, as Shopify really sends: a product with variants")
    shop = FakeShopify()
    with AnswerServer(shop) as server:
        previous = demo.runtime.application("shop_notifier").shop_credentials().read()
        demo.runtime.put_secret("shop-credentials", shop.credentials(server.url, (MAIN, WAREHOUSE)))
        _forget_credentials(demo)
        mapping = CategoryMapping(shop_path=["Słuchawki"], allegro_category_id="101", approved=True)
        demo._mappings().put_mapping(StoredMapping(mapping=mapping))
        demo.console.print(
            f"The shop is Shopify now ({server.url}/admin/api/2026-01/graphql.json): a custom app's token, "
            f"its client secret for the webhooks' HMAC, and the locations that count: {MAIN}, {WAREHOUSE} "
            f"(not the pop-up store {POPUP})."
        )
        product = shop.add_product(
            "Słuchawki nauszne Nova",
            [
                {"sku": "NOVA-CZARNE", "price": "199.00", "barcode": "5901234123457", "options": ["czarny"]},
                {"sku": "NOVA-BIALE", "price": "209.00", "options": ["biały"]},
            ],
            options=["Kolor"],
            product_type="Słuchawki",
        )
        for variant in product["variants"]:
            variant["option2"], variant["option3"] = "Nowy", "nauszne"
        product["options"] += [
            {"name": "Stan", "position": 2, "values": ["Nowy"]},
            {"name": "Typ słuchawek", "position": 3, "values": ["nauszne"]},
        ]
        body, headers = shop.webhook("products/create", product)
        forged = _post(demo, "/webhooks/shopify", (body.replace(b"199.00", b"19.00"), headers))
        expect(forged.status_code == 401, f"a tampered delivery got {forged.status_code}")
        created = _post(demo, "/webhooks/shopify", (body, headers))
        retried = _post(demo, "/webhooks/shopify", (body, headers))  # Shopify retries: same webhook id
        expect(created.json().get("events") == 2, f"products/create answered {created.text}")
        expect(retried.json().get("status") == "duplicate", f"the retry answered {retried.text}")
        levels = [
            shop.set_level("NOVA-CZARNE", MAIN, 5),
            shop.set_level("NOVA-CZARNE", WAREHOUSE, 2),
            shop.set_level("NOVA-BIALE", MAIN, 3),
            shop.set_level("NOVA-BIALE", POPUP, 40),
        ]
        answers = [
            _post(demo, "/webhooks/shopify", shop.webhook("inventory_levels/update", p)) for p in levels
        ]
        demo.runtime.drain(timeout=120)
        demo.console.print(
            "A tampered products/create -> 401, nothing queued; the real one -> 202 (one SKU per variant); "
            "Shopify's retry with the same X-Shopify-Webhook-Id -> 202 duplicate. inventory_levels/update: "
            + ", ".join(
                f"{p['location_id']}: {a.json()['status']}" for p, a in zip(levels, answers, strict=True)
            )
        )
        table = Table("variant", "account", "offer", "price", "stock (counted locations)")
        for sku, stock in (("NOVA-CZARNE", 7), ("NOVA-BIALE", 3)):
            for account in accounts:
                offer_id = demo._offer_of(sku, account)
                offer = demo.emulator.marketplace.offer(offer_id)
                shown = offer["stock"]["available"]
                expect(shown == stock, f"{sku} shows {shown}, not {stock}")
                table.add_row(sku, account, offer_id, offer["sellingMode"]["price"]["amount"], str(shown))
        demo.console.print(table)

        _order_and_fulfilment(demo, shop, expect, accounts[0])
        secrets = demo.runtime.client("secretsmanager")
        ShopCredentialsStore(demo.runtime.wiring.secrets["shop-credentials"], secrets).write(
            previous, secrets
        )
        _forget_credentials(demo)  # orders go to the demo shop's generic API again


def _order_and_fulfilment(demo: Demo, shop: FakeShopify, expect: Any, account: str) -> None:
    """An Allegro sale becomes one Shopify order that takes its unit; its fulfilment goes back to Allegro."""
    form = demo._sell(demo._offer_of("NOVA-CZARNE", account), 1)
    demo.runtime.drain(timeout=120)
    ours = {"key": "allegro_checkout_form_id", "value": form}
    orders = [o for o in shop.orders.values() if ours in o["customAttributes"]]
    expect(len(orders) == 1, f"Shopify holds {len(orders)} orders for {form}")
    expect(shop.available("NOVA-CZARNE", MAIN) == 4, "Shopify did not take the sold unit once")
    [number] = [n for n, o in shop.orders.items() if o in orders]
    demo.console.print(
        f"An Allegro buyer pays 1 x NOVA-CZARNE on {account} -> shop_notifier: orderCreate (tag "
        f"{form_tag(form)}, inventoryBehaviour DECREMENT_IGNORING_POLICY) -> Shopify order "
        f"{orders[0]['name']}, its {MAIN} level 5 -> {shop.available('NOVA-CZARNE', MAIN)}."
    )
    fulfilment = shop.webhook("orders/fulfilled", shop.fulfil(number, "InPost", WAYBILL))
    fulfilled = _post(demo, "/webhooks/shopify/orders", fulfilment)
    demo.runtime.drain(timeout=120)
    checkout = demo.emulator.marketplace.state.checkout_forms[form]
    shipments = [(s["carrierId"], s["waybill"]) for s in checkout.shipments]
    expect(fulfilled.status_code == 202, f"orders/fulfilled answered {fulfilled.status_code}")
    expect(checkout.fulfillment_status == "SENT", f"Allegro shows {checkout.fulfillment_status}")
    expect(shipments == [("INPOST", WAYBILL)], f"Allegro shows shipments {shipments}")
    demo.console.print(
        f"The seller fulfils it in Shopify with InPost {WAYBILL} -> orders/fulfilled -> 202 -> Allegro: "
        f"{checkout.fulfillment_status}, parcel {shipments[0][0]} {shipments[0][1]}."
    )
