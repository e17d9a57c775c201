"""Issue 15: a customer return to the shop, and the ledger's credit settled by the shop's word."""

from __future__ import annotations

from datetime import timedelta

from allegro_sync.contracts.messages import OrderReturned, ReturnedLine
from allegro_sync.domain.ledger import Sale
from allegro_sync.domain.returns import return_line_id
from allegro_sync.services.shop_delivery import ShopDelivery
from allegro_sync.services.stock import StockLedger
from tests.fixtures.ledger import InMemoryLedgerRepository
from tests.unit.orders.fakes import MemoryBuyers
from tests.unit.shop_out.fake_shops import FakeGenericShop
from tests.unit.shop_out.test_shop_delivery import FORM, SECRET, T0, MemoryLog, generic

KEY = return_line_id("ret-1", "7768432155")


def returned(quantity: int = 1) -> OrderReturned:
    line = ReturnedLine(
        line_item_id="li-1",
        sale_id=f"{FORM}:li-1",
        offer_id="7768432155",
        sku="SKU-1",
        quantity=quantity,
        return_line_id=KEY,
    )
    return OrderReturned(
        message_id="return:ret-1",
        account="shop1",
        checkout_form_id=FORM,
        return_id="ret-1",
        status="DELIVERED",
        lines=(line,),
    )


def sold_and_settled(repo: InMemoryLedgerRepository) -> StockLedger:
    """10 in the shop, 2 sold and applied by the shop: its level says 8."""
    ledger = StockLedger(repo)
    ledger.apply_shop_level("SKU-1", 10, T0)
    ledger.apply_sale(Sale(f"{FORM}:li-1", "SKU-1", 2, T0, "shop1", "7768432155"))
    ledger.confirm_delivered("SKU-1", f"{FORM}:li-1", T0 + timedelta(seconds=1))
    ledger.apply_shop_level("SKU-1", 8, T0 + timedelta(minutes=5))
    return ledger


def test_a_credited_return_reaches_the_shop_once_and_its_next_level_settles_the_credit(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    ledger = sold_and_settled(memory_ledger)
    first = ledger.apply_return("SKU-1", KEY, 1, T0 + timedelta(minutes=6), "shop1")
    again = ledger.apply_return("SKU-1", KEY, 1, T0 + timedelta(minutes=7), "shop1")
    assert (first.changed, again.changed, ledger.view("SKU-1").available) == (True, False, 9)
    fake = FakeGenericShop(secret=SECRET, stock={"SKU-1": 8})
    delivery = ShopDelivery(generic(fake), ledger, MemoryLog(), MemoryBuyers())

    sent = delivery.deliver_return(returned())
    repeat = delivery.deliver_return(returned())
    ledger.apply_shop_level("SKU-1", fake.stock["SKU-1"], fake.clock + timedelta(minutes=5))

    assert (sent.confirmed, repeat.duplicate) == ((KEY,), True)
    assert [m["kind"] for m in fake.received] == ["order.returned"]
    assert fake.stock["SKU-1"] == 9
    assert ledger.view("SKU-1").available == 9  # the shop's 9, not 9 + the credit


def test_a_shop_that_ignored_the_return_corrects_the_ledger_with_its_next_level(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    """The credit never outlives the shop's own word: a level after the acknowledgement wins."""
    ledger = sold_and_settled(memory_ledger)
    ledger.apply_return("SKU-1", KEY, 1, T0 + timedelta(minutes=6), "shop1")
    ledger.confirm_delivered("SKU-1", KEY, T0 + timedelta(minutes=7))

    ledger.apply_shop_level("SKU-1", 8, T0 + timedelta(minutes=20))  # still 8: the item went elsewhere

    assert ledger.view("SKU-1").available == 8
