"""A WooCommerce shop after the sale (issue 15): the label's link lands as a private order note, the invoice
a PDF-invoice plugin made is uploaded, and the seller's refunds go out per line, each exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from allegro_sync.adapters.shop import woocommerce
from allegro_sync.contracts.shipping import LabelRule
from allegro_sync.local.demo_labels import SENDER
from tests.integration.orders.conftest import OrdersWorld
from tests.integration.shop_out.test_fulfillment_back import WEBHOOK_SECRET
from tests.integration.shop_out.test_invoices_flow import _Invoice, invoice_url
from tests.integration.shop_out.test_shop_notifier import sell
from tests.unit.shop_out.fake_shops import FakeWooCommerce, ShopServer

pytestmark = pytest.mark.integration
__all__ = ["invoice_url"]  # the fixture, used by name


@dataclass
class WooSale:
    world: OrdersWorld
    woo: FakeWooCommerce
    form_id: str
    order_id: int

    def updated(self, delivery: str, **changes: Any) -> int:
        """WooCommerce's `order.updated` for the order as it is now (plus `changes`), signed as it signs."""
        order = self.woo._public(self.woo.orders[self.order_id]) | changes
        raw = woocommerce.dumps(order)
        answer = httpx.post(
            self.world.runtime.start_gateway() + "/webhooks/woocommerce/orders",
            content=raw,
            headers={
                "Content-Type": "application/json",
                woocommerce.TOPIC_HEADER: "order.updated",
                woocommerce.SIGNATURE_HEADER: woocommerce.sign(WEBHOOK_SECRET, raw),
                woocommerce.DELIVERY_HEADER: delivery,
            },
        )
        self.world.runtime.drain()
        return answer.status_code

    def notes(self) -> list[dict[str, Any]]:
        return self.woo.notes.get(self.order_id, [])


@pytest.fixture
def woo_sale(shop_world: OrdersWorld) -> Iterator[WooSale]:
    woo = FakeWooCommerce("ck_live", "cs_live")
    woo.add_product("SKU-WA", 10)
    with ShopServer(woo) as server:
        credentials = {"url": server.url, "consumer_key": "ck_live", "consumer_secret": "cs_live"}
        shop_world.runtime.put_secret("shop-credentials", {"kind": "woocommerce", **credentials})
        secrets = {"secret": WEBHOOK_SECRET, "woocommerce": WEBHOOK_SECRET}
        shop_world.runtime.put_secret("webhook-signing", secrets)
        form_id = sell(shop_world, "SKU-WA", 2)
        [order_id] = woo.orders
        yield WooSale(shop_world, woo, form_id, order_id)


def test_the_label_link_lands_once_as_a_private_note_that_serves_the_pdf(woo_sale: WooSale) -> None:
    rule = LabelRule(account="shop1", sender=SENDER, status="ready-to-ship")
    woo_sale.world.stack.app("fulfillment_worker").label_rules().put(rule)
    woo_sale.woo.lose_next_note_answer = True  # the note is added, WooCommerce's answer is lost

    assert woo_sale.updated("wc-1", status="ready-to-ship") == 202
    assert woo_sale.updated("wc-2", status="ready-to-ship") == 202  # saved again: the same status

    [note] = woo_sale.notes()  # the retry found its note; the second update bought nothing new
    assert note["customer_note"] is False  # private: the shop's staff, never e-mailed to the buyer
    link = next(word for word in note["note"].split() if word.startswith("http"))
    assert httpx.get(link).content.startswith(b"%PDF")
    assert sum(woo_sale.world.emulator.marketplace.state.wza.bought.values()) == 1


def test_the_invoice_of_the_pdf_invoices_plugin_is_uploaded_once(woo_sale: WooSale, invoice_url: str) -> None:
    woo_sale.world.emulator.marketplace.want_invoice(woo_sale.form_id)
    woo_sale.woo.site = invoice_url.split("/invoices/", maxsplit=1)[0]  # where the plugin serves its PDFs
    order = woo_sale.woo.orders[woo_sale.order_id]
    order["order_key"] = "wc_order_AOwpcAp9erC48"
    order["meta_data"].append({"id": 9, "key": "_wcpdf_invoice_number", "value": "17"})

    assert [woo_sale.updated(f"inv-{n}", status="completed") for n in (1, 2)] == [202, 202]

    [invoice] = woo_sale.world.emulator.marketplace.state.checkout_forms[woo_sale.form_id].invoices
    assert (invoice["invoiceNumber"], bool(invoice["file"]["uploadedAt"])) == ("17", True)
    assert _Invoice.fetched == 1  # the second update found it on the order and fetched nothing


def test_refunds_go_out_per_line_once_each_and_a_full_refund_pays_the_rest(woo_sale: WooSale) -> None:
    woo_sale.woo.refund(woo_sale.order_id, [("SKU-WA", 1, "100.00")], reason="scratched")
    assert woo_sale.updated("ref-1") == 202
    assert woo_sale.updated("ref-2") == 202  # the same refund listed again
    refunds = woo_sale.world.emulator.marketplace.refunds_of(woo_sale.form_id)
    assert [r["totalValue"]["amount"] for r in refunds] == ["100.00"]
    [line] = refunds[0]["lineItems"]
    assert line["type"] == "AMOUNT"

    woo_sale.woo.refund(woo_sale.order_id, [("SKU-WA", 1, "9999.00")])  # more than the buyer paid
    assert woo_sale.updated("ref-3") == 202
    assert len(woo_sale.world.emulator.marketplace.refunds_of(woo_sale.form_id)) == 1  # refused, not sent

    assert woo_sale.updated("ref-4", status="refunded") == 202  # the seller refunds the rest
    market = woo_sale.world.emulator.marketplace
    amounts = [Decimal(r["totalValue"]["amount"]) for r in market.refunds_of(woo_sale.form_id)]
    assert len(amounts) == 2
    assert sum(amounts) == market.state.checkout_forms[woo_sale.form_id].total  # all of it, once


def test_a_customer_return_reaches_the_woocommerce_order_as_one_note(woo_sale: WooSale) -> None:
    market, world = woo_sale.world.emulator.marketplace, woo_sale.world
    world.scan()  # following returns starts here
    record = world.order(woo_sale.form_id)
    assert record is not None
    return_id = market.open_return(woo_sale.form_id, {record.lines[0].line_item_id: 1})
    market.advance_return(return_id, "DELIVERED")

    world.scan()
    world.scan()  # nothing happens twice
    world.runtime.drain()

    [note] = woo_sale.notes()
    assert f"Allegro return {return_id} (DELIVERED): 1 x SKU-WA" in note["note"]
    assert note["customer_note"] is False
