"""`orders refund`: one payment refund per request, checked against what was paid (issue 15, item 3)."""

from __future__ import annotations

import pytest

from allegro_sync.adapters.dynamodb.after_sale import DynamoRefundJournal
from tests.fixtures.shop_webhooks import post_signed
from tests.integration.after_sale.conftest import AfterSaleWorld

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "webhook-secret-0123456789"


def _refund(world: AfterSaleWorld, *args: str) -> tuple[int, str]:
    result = world.stack.cli("orders", "refund", *args, env=world.stack.env("fulfillment_worker"))
    return result.exit_code, result.output


def test_a_refund_goes_out_once_however_often_it_is_asked(world: AfterSaleWorld) -> None:
    form_id, line = world.sold("SKU-F1", quantity=2)

    code, said = _refund(world, form_id, "--line", f"{line}:1")
    assert code == 0, said
    assert "refund sent: 1299.00 PLN" in said
    again, said_again = _refund(world, form_id, "--line", f"{line}:1")

    assert again == 0, said_again
    assert "already refunded earlier, nothing sent now" in said_again
    refunds = world.emulator.marketplace.refunds_of(form_id)
    assert [(r["totalValue"]["amount"], r["lineItems"]) for r in refunds] == [
        ("1299.00", [{"id": line, "type": "QUANTITY", "quantity": 1}])
    ]


def test_more_than_was_paid_is_refused_and_nothing_is_sent(world: AfterSaleWorld) -> None:
    form_id, line = world.sold("SKU-F2", quantity=2)
    assert _refund(world, form_id, "--line", f"{line}:1")[0] == 0

    code, said = _refund(world, form_id, "--line", f"{line}:2")  # only one item is left to refund
    code_amount, said_amount = _refund(world, form_id, "--line", f"{line}=1300.00")

    assert code == 1
    assert "2 item(s) asked, 1 of 2 not refunded yet; nothing was sent" in said
    assert code_amount == 1
    assert "1300.00 PLN asked, 1299.00 PLN paid and not refunded yet" in said_amount
    assert len(world.emulator.marketplace.refunds_of(form_id)) == 1


def test_the_whole_order_with_its_delivery_when_no_line_is_named(world: AfterSaleWorld) -> None:
    form_id, _ = world.sold("SKU-F3", quantity=2)

    code, said = _refund(world, form_id)

    assert code == 0, said
    [refund] = world.emulator.marketplace.refunds_of(form_id)
    assert refund["totalValue"] == {"amount": "2607.99", "currency": "PLN"}  # 2 x 1299.00 + 9.99 delivery
    assert _refund(world, form_id, "--key", "second")[0] == 1  # nothing is left to give back


def test_a_crash_after_allegro_paid_never_pays_twice(
    world: AfterSaleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    form_id, line = world.sold("SKU-F4", quantity=2)
    mark = DynamoRefundJournal.mark_sent

    def crash(self: DynamoRefundJournal, checkout_form_id: str, key: str, refund_id: str) -> None:
        raise RuntimeError("the process died after Allegro answered")

    monkeypatch.setattr(DynamoRefundJournal, "mark_sent", crash)
    with pytest.raises(RuntimeError, match="died"):
        _refund(world, form_id, "--line", f"{line}:1")
    monkeypatch.setattr(DynamoRefundJournal, "mark_sent", mark)

    code, said = _refund(world, form_id, "--line", f"{line}:1")  # the retry sends the same command

    assert code == 0, said
    assert len(world.emulator.marketplace.refunds_of(form_id)) == 1
    assert "already" in _refund(world, form_id, "--line", f"{line}:1")[1]


def test_the_shops_refund_event_pays_once_whatever_the_shop_resends(world: AfterSaleWorld) -> None:
    form_id, line = world.sold("SKU-F5", quantity=2)
    world.runtime.put_secret("webhook-signing", {"secret": WEBHOOK_SECRET})
    base = world.runtime.start_gateway()
    event = {
        "type": "order.refunded",
        "checkout_form_id": form_id,
        "refund_id": "wc-refund-77",
        "lines": [{"line_item_id": line, "quantity": 1}],
    }

    first = post_signed(base + "/webhooks/shop/orders", event, secret=WEBHOOK_SECRET, delivery="r-1")
    world.runtime.drain()
    again = post_signed(base + "/webhooks/shop/orders", event, secret=WEBHOOK_SECRET, delivery="r-2")
    world.runtime.drain()
    too_much = {**event, "refund_id": "wc-refund-78", "lines": [{"line_item_id": line, "amount": "9999.00"}]}
    third = post_signed(base + "/webhooks/shop/orders", too_much, secret=WEBHOOK_SECRET, delivery="r-3")
    world.runtime.drain()

    assert (first.status_code, again.status_code, third.status_code) == (202, 202, 202)
    refunds = world.emulator.marketplace.refunds_of(form_id)
    assert [r["totalValue"]["amount"] for r in refunds] == ["1299.00"]  # once; the excessive one: never
    assert world.stack.queued("fulfillment") == (0, 0)  # a refusal is not retried into the DLQ
