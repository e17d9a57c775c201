"""Shop outbox -> the shop: deliver each `OrderChanged` once, then tell the ledger the shop applied it.

Order of steps matters for "exactly once" without a distributed transaction:
1. skip a message already recorded as delivered (a redelivery of the standard queue costs one read), or
   one older than a state of the same order the shop already has (the standard queue may reorder); take
   the order's delivery turn, so two workers never send two states of one order at once (the older one
   could reach the shop last: a cancelled order paid again); a state that finds the turn taken is retried;
2. fill in the buyer's data the order worker stored for it (the message carries references only: a
   message queued before that carries the data itself and goes as it is), and hand it to the shop
   adapter, which is idempotent on its own (the generic shop de-duplicates by the
   `Idempotency-Key` header; the WooCommerce adapter finds the order it created before);
3. confirm every TAKEN line in the ledger with the shop's acknowledgement time (idempotent: a second
   confirmation is a DUPLICATE), so a stale shop webhook is told apart from a real restock; for every
   RETURNED line ask for a re-read of the SKU's level (the shop restocked it, or not: its call, and it
   need not report it);
4. record the delivery (which ends the turn). A crash anywhere before 4 repeats 2-3, which both tolerate
   (a crashed holder's turn lapses on its own).

Any shop failure raises, so SQS redelivers: a shop that is down delays delivery and loses nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from allegro_sync.contracts.messages import BuyerMessage, OrderChanged, OrderLabel, OrderReturned
from allegro_sync.contracts.shop import (
    DeliveryTurn,
    LabelLink,
    ShopAck,
    ShopDeliveryError,
    ShopLabelSink,
    ShopMessageSink,
    ShopOrderSink,
    ShopReturnSink,
    ShopUnavailable,
    state_version,
)
from allegro_sync.domain.ledger import LedgerError, Outcome
from allegro_sync.domain.orders import BuyerDetails
from allegro_sync.services.shop_probe import ShopProbe
from allegro_sync.services.stock import StockLedger


class DeliveryLog(Protocol):
    """Which outbox messages the shop already has (the `orders` table in AWS)."""

    def delivered(self, message_id: str) -> bool: ...

    def take_turn(self, checkout_form_id: str, version: int, holder: str) -> DeliveryTurn:
        """Take the order's delivery turn for state `version` (held by `holder`, the message id, until
        `record` or `end_turn`, or until it lapses): "superseded" when the shop has a newer state, "busy"
        while another holder's turn runs."""
        ...

    def end_turn(self, checkout_form_id: str, holder: str) -> None:
        """Give the turn back (the shop did not take the state); nothing when another holder has it."""
        ...

    def record(self, message: OrderChanged | OrderReturned | OrderLabel | BuyerMessage, ack: ShopAck) -> None:
        """Remember the message, raise the order's newest version to this message's (never lower) and end
        its delivery turn."""
        ...


class BuyerDataSource(Protocol):
    """The buyer data the order worker stored for a checkout form (the `orders` table in AWS)."""

    def read(self, checkout_form_id: str) -> BuyerDetails | None:
        """None: never stored, erased by `buyers forget`, or expired."""
        ...


@dataclass(frozen=True)
class DeliveryResult:
    message_id: str
    duplicate: bool
    superseded: bool = False  # a newer state of the order already reached the shop: not sent
    shop_order_id: str | None = None
    confirmed: tuple[str, ...] = ()  # sale ids the ledger now knows the shop applied
    unconfirmed: tuple[str, ...] = ()  # sale ids the ledger did not know (logged, never retried)
    buyer_data_gone: bool = False  # the stored buyer data was erased or expired: sent without it
    skipped: bool = False  # issue 15: the shop has no documented place for this message (not sent)


def failure_reason(error: Exception) -> str:
    """Why a delivery failed, in words a seller can act on (`dlq show`); never a secret or an order body."""
    if isinstance(error, ShopDeliveryError):
        return str(error)
    if isinstance(error, LookupError):  # the shop-credentials secret is missing or malformed
        return f"{error}; store them: allegro-sync shop set-credentials"
    return f"{type(error).__name__} in shop_notifier (its log has the details)"


class ShopDelivery:
    def __init__(
        self,
        sink: ShopOrderSink,
        ledger: StockLedger,
        log: DeliveryLog,
        buyers: BuyerDataSource,
        probe: ShopProbe | None = None,  # the invocation's: a down shop is asked once per batch
    ) -> None:
        self._sink = sink
        self._ledger = ledger
        self._log = log
        self._buyers = buyers
        self._probe = probe or ShopProbe()

    def deliver(self, message: OrderChanged) -> DeliveryResult:
        if self._log.delivered(message.message_id):
            return DeliveryResult(message.message_id, duplicate=True)
        # The outbox is a standard queue read by several workers: a retried old state can arrive after a
        # newer one, or beside it, and must not turn a paid (or cancelled) order in the shop back. The newer
        # state carries every line. One state of an order at a time, never an older one, goes to the shop.
        form_id, version = message.checkout_form_id, state_version(message)
        self._probe.raise_if_down()  # no delivery turn taken (and released) for a shop known down
        if version is not None:
            turn = self._log.take_turn(form_id, version, message.message_id)
            if turn == "superseded":
                return DeliveryResult(message.message_id, duplicate=True, superseded=True)
            if turn == "busy":
                raise ShopUnavailable(
                    f"another state of order {form_id} is on its way to the shop; will retry"
                )
        gone = False
        if message.buyer_data_stored:
            details = self._buyers.read(form_id)
            gone = details is None
            buyer, delivery = (details.buyer, details.delivery) if details else (None, None)
            message = message.with_buyer_data(
                dict(buyer) if buyer else None, dict(delivery) if delivery else None
            )
        try:
            ack = self._probe.call(lambda: self._sink.deliver(message))
        except Exception:
            if version is not None:
                with contextlib.suppress(Exception):  # else the turn lapses on its own
                    self._log.end_turn(form_id, message.message_id)
            raise
        confirmed: list[str] = []
        unconfirmed: list[str] = []
        for line in message.lines:
            if line.stock_effect == "RETURNED" and line.sku is not None:
                self._ledger.reread_after(line.sku, ack.applied_at)
            if line.stock_effect != "TAKEN" or line.sku is None:
                continue
            try:
                result = self._ledger.confirm_delivered(
                    line.sku, line.sale_id, ack.applied_at, ack.stock_versions.get(line.sku)
                )
            except LedgerError:
                # The ledger never counted this sale (or under another SKU): retrying cannot fix that.
                unconfirmed.append(line.sale_id)
                continue
            if result.outcome in (Outcome.APPLIED, Outcome.DUPLICATE):
                confirmed.append(line.sale_id)
        self._log.record(message, ack)
        return DeliveryResult(
            message.message_id,
            duplicate=False,
            shop_order_id=ack.shop_order_id,
            confirmed=tuple(confirmed),
            unconfirmed=tuple(unconfirmed),
            buyer_data_gone=gone,
        )

    # --- issue 15, item 3: a customer return taken back into stock (services/returns.py) -------------------

    def deliver_return(self, message: OrderReturned) -> DeliveryResult:
        """Send the return to a shop that takes returns, then acknowledge each line's ledger credit with the
        shop's time: its next level settles the credit (the shop's word wins). A shop that does not take
        returns yet (WooCommerce, Shopify, PrestaShop) is not called: the credit is acknowledged now, so the
        shop's next level, which counts the item only if the seller restocked it there, decides."""
        if self._log.delivered(message.message_id):
            return DeliveryResult(message.message_id, duplicate=True)
        sink = self._sink
        sent = isinstance(sink, ShopReturnSink)
        ack = (
            self._probe.call(lambda: sink.deliver_return(message))
            if isinstance(sink, ShopReturnSink)
            else ShopAck(datetime.now(UTC))
        )
        confirmed: list[str] = []
        for line in message.lines:
            result = self._ledger.confirm_delivered(
                line.sku, line.return_line_id, ack.applied_at, ack.stock_versions.get(line.sku)
            )
            if result.outcome in (Outcome.APPLIED, Outcome.DUPLICATE):
                confirmed.append(line.return_line_id)
            self._ledger.reread_after(line.sku, ack.applied_at)
        self._log.record(message, ack)
        return DeliveryResult(
            message.message_id,
            duplicate=False,
            shop_order_id=ack.shop_order_id if sent else None,
            confirmed=tuple(confirmed),
        )

    # --- issue 15, item 1: the order's label handed to the shop as a short-lived link --------------------

    def deliver_label(self, message: OrderLabel, link: Callable[[str], LabelLink]) -> DeliveryResult:
        """The link is presigned now, at delivery, so a shop that was down still gets one that works. A shop
        with no documented place for it (Shopify, PrestaShop: docs/after-sale.md) is not called; the
        result says so (`skipped`) and the seller keeps `orders label ORDER`."""
        if self._log.delivered(message.message_id):
            return DeliveryResult(message.message_id, duplicate=True)
        sink = self._sink
        if not isinstance(sink, ShopLabelSink):
            self._log.record(message, ShopAck(datetime.now(UTC)))
            return DeliveryResult(message.message_id, duplicate=False, skipped=True)
        ack = self._probe.call(lambda: sink.deliver_label(message, link(message.label_key)))
        self._log.record(message, ack)
        return DeliveryResult(message.message_id, duplicate=False, shop_order_id=ack.shop_order_id)

    # --- issue 15, item 4: a buyer's message (services/buyer_messages.py) ----------------------------------

    def deliver_buyer_message(self, message: BuyerMessage) -> DeliveryResult:
        """To a shop that takes messages (the generic contract; WooCommerce as a private order note when the
        order is in the shop); another shop is skipped, and the result says so (`skipped`)."""
        if self._log.delivered(message.message_id):
            return DeliveryResult(message.message_id, duplicate=True)
        sink = self._sink
        if not isinstance(sink, ShopMessageSink):
            return DeliveryResult(message.message_id, duplicate=False, skipped=True)
        ack = self._probe.call(lambda: sink.deliver_buyer_message(message))
        if ack is None:
            return DeliveryResult(message.message_id, duplicate=False, skipped=True)
        self._log.record(message, ack)
        return DeliveryResult(message.message_id, duplicate=False, shop_order_id=ack.shop_order_id)
