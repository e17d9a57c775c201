"""The after-sale steps a shop's order update may ask for besides its fulfilment (issue 15): a refund, a
shipping label by the seller's rule, the invoice the shop keeps. Each is exactly once by its own use case; a
refusal is logged with its reason and never fails the record (resending cannot fix it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from allegro_sync.adapters import alarm_metrics

if TYPE_CHECKING:
    from allegro_sync.bootstrap import Application
    from allegro_sync.contracts.messages import ShopOrderStatus
    from allegro_sync.domain.orders import OrderRecord

logger = Logger(child=True)

# Each step imports its use case when an update asks for it: most updates carry only a status and parcels,
# and the worker's cold start should not pay for labels, invoices and refunds (bench.cold_import).


def refund(built: Application, account: str, update: ShopOrderStatus) -> bool:
    """The shop's refund, once; True when the update carries a status or parcels too."""
    from allegro_sync.contracts.after_sale import RefundRefused
    from allegro_sync.services.refunds import shop_refund_request

    try:
        done = built.refunds(account).refund(shop_refund_request(account, update))
        logger.info("refund sent", extra={"refund_id": done.refund_id, "repeat": done.already})
    except RefundRefused as refused:  # nothing was sent: the seller looks (`orders refund` once fixed)
        alarm_metrics.count("FulfillmentUpdatesDropped")
        logger.warning("refund refused; nothing sent", extra={"reason": str(refused)})
    return update.status is not None or bool(update.parcels)


def label(built: Application, account: str, update: ShopOrderStatus) -> None:
    """The seller's status buys the label (LabelPending fails the record; the retry finds the command)."""
    rule = built.label_rules().get(account)
    if rule is None or not rule.matches(update.status, update.shop_status):
        return
    from allegro_sync.services.labels import LabelRefused

    try:
        shipped = built.labels(account).ship(update.checkout_form_id, rule)
        logger.info("label ready", extra={"label_steps": shipped.steps, "label_state": shipped.record.state})
    except LabelRefused as refused:  # kept on the label record for `orders label ORDER`
        alarm_metrics.count("FulfillmentUpdatesDropped")
        logger.warning("label refused", extra={"reason": str(refused)[:200]})


def invoice(built: Application, account: str, update: ShopOrderStatus) -> None:
    """Uploaded once when the buyer asked for an invoice (item 2)."""
    if not update.invoice_url:
        return
    from allegro_sync.services.invoices import InvoiceRefused

    try:
        invoiced = built.invoices(account).upload_from(update, built.invoice_fetch())
        logger.info("invoice", extra={"invoice": invoiced.outcome})
    except InvoiceRefused as refused:
        logger.warning("invoice refused", extra={"reason": str(refused)[:200]})


def shop_refunds(built: Application, order: OrderRecord, update: ShopOrderStatus) -> None:
    """Each WooCommerce refund the order lists, per line, once per refund id (item 3); the shop is read only
    for refunds not sent yet. One that maps to no Allegro line is logged and left to `orders refund`."""
    shop = built.woocommerce_refunds() if update.shop_refund_ids and update.shop_order_id else None
    if shop is None or update.shop_order_id is None:
        return
    from allegro_sync.adapters.shop.woocommerce_after_sale import REFUND_ID_PREFIX, shop_refund

    issuer, form_id = built.refunds(order.account), order.checkout_form_id
    new = [i for i in update.shop_refund_ids if not issuer.sent(form_id, f"shop-{REFUND_ID_PREFIX}{i}")]
    skus = {line.sku: line.line_item_id for line in order.lines if line.sku}
    not_passed: list[str] = []
    for found in shop.refunds(update.shop_order_id, new) if new else []:
        mapped, why = shop_refund(found, skus)
        if mapped is None:
            not_passed.append(why)
            continue
        refund(built, order.account, update.model_copy(update={"refund": mapped}))
    if not_passed:
        logger.warning("shop refunds not passed on", extra={"count": len(not_passed), "why": not_passed[:5]})
