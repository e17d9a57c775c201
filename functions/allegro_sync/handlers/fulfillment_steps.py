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
