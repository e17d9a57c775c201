"""Issue 15, item 3 in the demo: a customer return back into stock once, and the shop's refund paid once.

The buyer returns one of two items; when the parcel reaches the seller, the order gap scan's run (its own
schedule, nothing new billed) credits the ledger once, the offers show the item again, and the shop gets the
`order.returned`. The shop then refunds that item with `order.refunded`: one Allegro refund, whatever the shop
resends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from allegro_sync.local.demo import Demo


def returns_chapter(demo: Demo) -> None:
    from allegro_sync.local.demo import COMBINED, SELLERS, expect

    demo._chapter("9b. Returns back into stock once, refunds paid once")
    first, second = SELLERS
    market, ledger = demo.emulator.marketplace, demo._ledger()
    offer = demo.offers[(COMBINED, first)]
    form = demo._sell(offer, 2)
    record = demo._orders().get(form)
    expect(record is not None, f"order {form} was not imported")
    assert record is not None
    before, shop_before = ledger.view(COMBINED).available or 0, demo.shop.stock.get(COMBINED, 0)
    return_id = market.open_return(form, {record.lines[0].line_item_id: 1})
    market.advance_return(return_id, "DELIVERED")
    demo.runtime.fire("order_gap_scan")
    demo.runtime.drain(timeout=30)
    demo.runtime.fire("order_gap_scan")  # a second run: nothing happens twice
    demo.runtime.drain(timeout=30)
    after = ledger.view(COMBINED).available
    expect(after == before + 1, f"the return moved {COMBINED} from {before} to {after}, not by 1")
    expect(demo.shop.stock.get(COMBINED) == shop_before + 1, "the shop did not take the item back once")
    table = Table("what", "seen")
    table.add_row(f"buyer returns 1 of 2 x {COMBINED}", f"return {return_id[:8]}… DELIVERED at the seller")
    table.add_row("order_gap_scan (twice)", f"ledger {before} -> {after}: taken back once")
    table.add_row(f"offer on {second}", f"stock {demo._stock(demo.offers[(COMBINED, second)])}")
    table.add_row("the shop (order.returned)", f"stock {shop_before} -> {demo.shop.stock[COMBINED]}")

    event = {
        "type": "order.refunded",
        "checkout_form_id": form,
        "refund_id": "SHOP-REFUND-1",
        "lines": [{"line_item_id": record.lines[0].line_item_id, "quantity": 1}],
    }
    answers = [demo._webhook(event, path="/webhooks/shop/orders")[0] for _ in range(2)]  # sent twice
    demo.runtime.drain(timeout=30)
    refunds = market.refunds_of(form)
    expect(answers == [202, 202], f"the shop's refund was answered {answers}")
    expect(len(refunds) == 1, f"{len(refunds)} refunds for one shop refund")
    table.add_row(
        "shop: order.refunded (sent twice)",
        f"{answers} -> one Allegro refund of {refunds[0]['totalValue']['amount']} PLN",
    )
    demo.console.print(table)
