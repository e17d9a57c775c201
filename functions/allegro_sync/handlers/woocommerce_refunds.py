"""The fulfillment worker's WooCommerce refunds (issue 15, item 3): each refund the order lists, per line,
once per refund id. WooCommerce is read only for refunds not sent yet; one that maps to no Allegro line is
logged and left to `orders refund` (docs/after-sale.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from allegro_sync.handlers.fulfillment_steps import refund

if TYPE_CHECKING:
    from allegro_sync.bootstrap import Application
    from allegro_sync.contracts.messages import ShopOrderStatus
    from allegro_sync.domain.orders import OrderRecord

logger = Logger(child=True)


def shop_refunds(built: Application, order: OrderRecord, update: ShopOrderStatus) -> None:
    """Pass on the refunds of `update.shop_refund_ids` not sent yet."""
    if not update.shop_refund_ids or update.shop_order_id is None:
        return
    from allegro_sync.adapters.shop.woocommerce_after_sale import REFUND_ID_PREFIX, shop_refund

    issuer, form_id = built.refunds(order.account), order.checkout_form_id
    new = [i for i in update.shop_refund_ids if not issuer.sent(form_id, f"shop-{REFUND_ID_PREFIX}{i}")]
    shop = built.woocommerce_refunds() if new else None  # the shop is read only for refunds not sent yet
    if shop is None:
        return
    skus = {line.sku: line.line_item_id for line in order.lines if line.sku}
    not_passed: list[str] = []
    from allegro_sync.contracts.shop import ShopRejected

    try:
        listed = shop.refunds(update.shop_order_id, new)
    except ShopRejected as refused:  # a key without read rights: retrying cannot fix it (ShopUnavailable can)
        logger.warning("shop refunds not read", extra={"reason": str(refused)[:200]})
        return
    for found in listed:
        mapped, why = shop_refund(found, skus)
        if mapped is None:
            not_passed.append(why)
            continue
        refund(built, order.account, update.model_copy(update={"refund": mapped}))
    if not_passed:
        logger.warning("shop refunds not passed on", extra={"count": len(not_passed), "why": not_passed[:5]})
