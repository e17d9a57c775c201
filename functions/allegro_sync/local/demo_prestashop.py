"""`make demo SHOP=prestashop`: the shop chapter told with PrestaShop (its webservice faked on 127.0.0.1).

PrestaShop sends no webhooks, so the catalogue comes in through the scheduled shop reconciliation alone: a
product with two combinations becomes one offer per combination, a second run changes nothing, a stock
movement that PrestaShop does not stamp on the product is still seen, and an Allegro sale becomes one
PrestaShop order (customer, address, cart, order) that took its stock in the shop.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from rich.table import Table

from allegro_sync.local.prestashop_fake import FakePrestaShop, PrestaShopServer

if TYPE_CHECKING:
    from allegro_sync.local.demo import Demo

WAYBILL = "620111222333444555666777"
KEY = "UCCLLQ9N2ARSHWCXLT74KUKSSK34BFKX"  # the documentation's example key, local only
COMBINATIONS = (("NOVA-CZARNE", "0.00", 5, "Czarny"), ("NOVA-BIALE", "20.00", 3, "Biały"))


def prestashop_chapter(demo: Demo) -> None:
    from allegro_sync.local.demo import SELLERS, SHOP_SECRET, expect

    demo._chapter("7c. A PrestaShop shop: no webhooks, its webservice read by the shop reconciliation")
    shop = FakePrestaShop(KEY)
    category = shop.category("Słuchawki")
    product = shop.add_product("NOVA", price="150.00", name="Słuchawki nauszne Nova", category=category)
    shop.add_feature(product, "Stan", "Nowy")  # Allegro's category 101 requires both parameters
    shop.add_feature(product, "Typ słuchawek", "nauszne")
    ids = {
        sku: shop.add_combination(product, sku, impact=i, stock=s, option=o) for sku, i, s, o in COMBINATIONS
    }
    # The last order events of the chapters before (a refund, a return) reach the demo shop, whose orders
    # they are, before the shop is swapped: PrestaShop would refuse orders of products it never had.
    demo.runtime.next_tick()
    with PrestaShopServer(shop) as server:
        credentials = {"kind": "prestashop", "url": server.url, "api_key": KEY}
        demo.runtime.put_secret("shop-credentials", credentials)
        for function in ("shop_reconciler", "shop_notifier"):
            demo.runtime.application(function).shop_credentials().forget()
        demo.console.print(
            f"The shop is PrestaShop now ({server.url}/api/); the webservice key is stored in Secrets "
            "Manager (kind prestashop). Product NOVA has two combinations, each with its own reference."
        )
        run = demo.runtime.fire("shop_reconciler")
        demo.runtime.drain(timeout=120)
        table = Table(
            "combination", "account", "offer", "Allegro price (net + impact, 23% VAT, rule)", "stock"
        )
        for sku, _impact, stock, option in COMBINATIONS:
            for account in SELLERS:
                offer_id = demo._offer_of(sku, account)
                shown = demo._stock(offer_id)
                expect(shown == stock, f"{sku} shows stock {shown}, PrestaShop {stock}")
                table.add_row(f"{sku} ({option})", account, offer_id, demo._price(offer_id), str(shown))
        demo.console.print(
            f"scheduled shop_reconciler: {run['shop_calls']} webservice call(s), queued {run['queued']} -> "
            "one offer per combination:"
        )
        demo.console.print(table)
        again = demo.runtime.fire("shop_reconciler")
        expect(again["queued"] == 0, f"a second run queued {again['queued']}")
        demo.console.print(
            f"The next run (cursor {again['since']!r}): queued 0, duplicates {again['duplicates']}."
        )

        shop.set_stock(product, ids["NOVA-BIALE"], 1)  # a sale in the shop: date_upd stays (#20465)
        demo.runtime.fire("shop_reconciler")
        demo.runtime.drain(timeout=120)
        seller = next(iter(SELLERS))
        white = demo._offer_of("NOVA-BIALE", seller)
        expect(demo._stock(white) == 1, f"NOVA-BIALE shows {demo._stock(white)} after the shop's 1")
        demo.console.print(
            "PrestaShop sells 2 x NOVA-BIALE itself (its product's date_upd does not move): the stock rows' "
            "digest changed, so the next run sends every level once -> offer stock 1."
        )

        form = demo._sell(demo._offer_of("NOVA-CZARNE", seller), 2)
        demo.runtime.drain(timeout=120)
        orders = [o for o in shop.orders() if o["payment"] == f"Allegro {form}"]
        expect(len(orders) == 1, f"PrestaShop holds {len(orders)} orders for {form}")
        left = shop.stock(product, ids["NOVA-CZARNE"])
        expect(left == 3, f"PrestaShop's NOVA-CZARNE stock is {left}, not 5 - 2")
        demo.console.print(
            f"A buyer pays 2 x NOVA-CZARNE on Allegro -> one PrestaShop order {orders[0]['reference']} "
            f"(customer, address, cart, order; state {orders[0]['current_state']} payment accepted), "
            f"which took the stock in PrestaShop: 5 -> {left}."
        )

        _ship_back(demo, shop, int(orders[0]["id"]), form, expect)
    generic = {"kind": "generic", "url": f"{demo.shop_url}/allegro", "signing_secret": SHOP_SECRET}
    demo.runtime.put_secret("shop-credentials", generic)  # orders go to the demo shop's generic API again
    for function in ("shop_reconciler", "shop_notifier"):
        demo.runtime.application(function).shop_credentials().forget()


def _ship_back(
    demo: Demo, shop: FakePrestaShop, order_id: int, form: str, expect: Callable[[bool, str], None]
) -> None:
    """The seller ships in PrestaShop; the next reconciliation carries state and parcel to Allegro, once."""
    shop.ship(order_id, WAYBILL)  # the seller ships it in the back office
    shop.clock += timedelta(minutes=10)
    shipped = demo.runtime.fire("shop_reconciler")
    demo.runtime.drain(timeout=120)
    form_state = demo.emulator.marketplace.state.checkout_forms[form]
    waybills = [str(s.get("waybill")) for s in form_state.shipments]
    expect(form_state.fulfillment_status == "SENT", f"Allegro shows {form_state.fulfillment_status}")
    expect(waybills == [WAYBILL], f"Allegro has the parcels {waybills}")
    again = demo.runtime.fire("shop_reconciler")
    demo.console.print(
        f"The seller marks it Shipped with InPost {WAYBILL} in PrestaShop -> the next run queued "
        f"{shipped['order_updates']} order update -> Allegro: {form_state.fulfillment_status}, parcel "
        f"{waybills[0]}; the run after: {again['order_updates']} update(s)."
    )
