"""Issue 15: the shop's refunds in: generic `order.refunded`, WooCommerce's `refunded` status."""

from __future__ import annotations

import pytest

from allegro_sync.adapters.shop import woocommerce
from allegro_sync.adapters.shop.errors import WebhookRejected
from allegro_sync.adapters.shop.fulfillment_in import parse_generic_status, parse_woocommerce_order
from allegro_sync.adapters.shop.woocommerce import CHECKOUT_FORM_META
from allegro_sync.contracts.messages import ShopOrderStatus, ShopRefund, ShopRefundLine
from allegro_sync.services.refunds import shop_refund_request
from tests.unit.shop_out.test_fulfillment import FORM, NOW, SECRET, signed, woo_headers


def test_a_generic_refund_names_its_lines_and_becomes_one_request_per_shop_refund_id() -> None:
    body = {
        "type": "order.refunded",
        "checkout_form_id": FORM,
        "refund_id": "R-9",
        "lines": [{"line_item_id": "li-1", "quantity": 1}, {"line_item_id": "li-2", "amount": "10.50"}],
    }
    headers, raw = signed(body)

    parsed = parse_generic_status(headers, raw, [SECRET], now=NOW, replay_window=300)

    lines = (
        ShopRefundLine(line_item_id="li-1", quantity=1),
        ShopRefundLine(line_item_id="li-2", amount="10.50"),
    )
    assert parsed == ShopOrderStatus(checkout_form_id=FORM, refund=ShopRefund(refund_id="R-9", lines=lines))
    request = shop_refund_request("shop1", parsed)
    assert (request.key, request.checkout_form_id, len(request.lines)) == ("shop-R-9", FORM, 2)


@pytest.mark.parametrize(
    "line",
    [
        {"line_item_id": "li-1"},  # neither a quantity nor an amount
        {"line_item_id": "li-1", "quantity": 1, "amount": "1.00"},  # both
        {"line_item_id": "li-1", "amount": "-1.00"},
        {"line_item_id": "li-1", "quantity": 0},
    ],
)
def test_a_malformed_refund_is_refused_with_422_and_queues_nothing(line: dict[str, object]) -> None:
    body = {"type": "order.refunded", "checkout_form_id": FORM, "refund_id": "R-9", "lines": [line]}
    headers, raw = signed(body)

    with pytest.raises(WebhookRejected) as refused:
        parse_generic_status(headers, raw, [SECRET], now=NOW, replay_window=300)

    assert refused.value.status == 422


def test_a_woocommerce_order_set_to_refunded_refunds_the_whole_order_once() -> None:
    order = {"id": 41, "status": "refunded", "meta_data": [{"key": CHECKOUT_FORM_META, "value": FORM}]}
    raw = woocommerce.dumps(order)

    parsed = parse_woocommerce_order(woo_headers(raw), raw, [SECRET])

    assert parsed is not None
    assert parsed.refund == ShopRefund(refund_id="woocommerce-refunded")
    assert shop_refund_request("shop1", parsed).lines == ()  # no lines: all that is left of the order
