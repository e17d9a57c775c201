"""The demo's label chapter (issue 15, item 1): the shop marks an order ready to ship; the seller's rule buys
one Ship with Allegro label, the PDF lands in the labels bucket, the waybill on the Allegro order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
from rich.table import Table

from allegro_sync.contracts.shipping import LabelRule, Sender

if TYPE_CHECKING:
    from allegro_sync.local.demo import Demo

SENDER = Sender(
    name="Sklep Główny sp. z o.o.",
    street="ul. Prosta 20",
    postal_code="00-850",
    city="Warszawa",
    email="wysylka@sklep-glowny.example",
    phone="221234567",
)


def labels_chapter(demo: Demo) -> None:
    from allegro_sync.local.demo import SELLERS, expect

    demo._chapter("5c. After the sale: a shipping label bought once, an invoice uploaded once")
    account = next(iter(SELLERS))
    worker = demo.runtime.application("fulfillment_worker")
    orders = worker.order_repository()
    market = demo.emulator.marketplace.state
    form = next(
        f.id for f in market.checkout_forms.values() if (o := orders.get(f.id)) and o.account == account
    )
    worker.label_rules().put(LabelRule(account=account, sender=SENDER))
    demo.console.print(
        f"Label rule for {account}: shop status READY_FOR_SHIPMENT buys a label with the buyer's delivery "
        "method, a 30x20x10 cm parcel of 1 kg (`allegro-sync orders label-rule`)."
    )
    update = {"type": "order.status", "checkout_form_id": form, "status": "READY_FOR_SHIPMENT"}
    statuses = [demo._webhook(update, path="/webhooks/shop/orders")[0] for _ in range(2)]  # sent twice
    demo.runtime.drain(timeout=60)
    bought = sum(1 for s in market.wza.shipments.values() if s.get("referenceNumber") == form)
    expect(statuses == [202, 202], f"the shop's order.status was answered {statuses}")
    record = worker.labels(account).latest(form)
    expect(bought == 1, f"{bought} labels were bought for one package (label record: {record})")
    expect(record is not None and record.state == "tracked", f"the label is {record}")
    assert record is not None
    link = worker.labels(account).link(record)
    pdf = httpx.get(link or "", timeout=30)
    expect(pdf.content.startswith(b"%PDF"), "the label link does not serve the PDF")
    handed = demo.shop.labels.get(form)  # the shop got its own link with `order.label`
    expect(handed is not None and httpx.get(handed, timeout=30).content == pdf.content, "no label link")
    on_order = [s["waybill"] for s in market.checkout_forms[form].shipments]
    expect(record.waybill in on_order, f"the waybill {record.waybill} is not on the order ({on_order})")
    table = Table("what", "seen")
    table.add_row("the shop marks the order (twice)", f"order.status READY_FOR_SHIPMENT -> {statuses}")
    table.add_row("labels bought on Allegro", f"{bought} (command id derived from order + package)")
    table.add_row("label PDF", f"{len(pdf.content)} bytes in the labels bucket, 15-minute link")
    table.add_row("the shop's link (order.label)", "sent once, presigned when delivered, serves the PDF")
    table.add_row("tracking on the Allegro order", f"{record.carrier} {record.waybill}")
    table.add_row("Allegro order status", market.checkout_forms[form].fulfillment_status)
    demo.console.print(table)
    _invoice(demo, account, form, expect)


def _invoice(demo: Demo, account: str, labelled: str, expect: Callable[[bool, str], None]) -> None:
    """Another order whose buyer asked for an invoice: the shop hands the PDF over by URL, twice."""
    market = demo.emulator.marketplace.state
    orders = demo.runtime.application("fulfillment_worker").order_repository()
    form = next(
        f.id
        for f in market.checkout_forms.values()
        if f.id != labelled and (o := orders.get(f.id)) is not None and o.account == account
    )
    demo.emulator.marketplace.want_invoice(form)
    name = f"invoice-{form}.pdf"
    demo.shop.files[name] = b"%PDF-1.4\n% FV 12/2026, issued by the shop\n%%EOF\n"
    update = {
        "type": "order.status",
        "checkout_form_id": form,
        "invoice_url": f"{demo.shop_url}/files/{name}",
        "invoice_number": "FV 12/2026",
    }
    statuses = [demo._webhook(update, path="/webhooks/shop/orders")[0] for _ in range(2)]
    demo.runtime.drain(timeout=60)
    invoices = market.checkout_forms[form].invoices
    expect(statuses == [202, 202], f"the shop's invoice update was answered {statuses}")
    expect(len(invoices) == 1 and "uploadedAt" in invoices[0]["file"], f"invoices on the order: {invoices}")
    demo.console.print(
        f"Order {form[:8]}…: the buyer asked for an invoice; the shop's order.status names its PDF "
        f"(sent twice) -> one invoice {invoices[0].get('invoiceNumber')} on the Allegro order, file uploaded."
    )
