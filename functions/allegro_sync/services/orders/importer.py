"""`OrderImporter.import_form`: the current checkout form applied exactly once.

Each line is one sale, taken or given back by the stock ledger exactly once per sale id; the order
record, an `OrderChanged` for the shop and a `StockChanged` per moved SKU follow. Emission happens before
the record is saved, so a crash in between re-emits with the same ids instead of losing a message. The
buyer's personal data is stored before the `OrderChanged` that refers to it (docs/privacy.md), so the shop
notifier always finds it, however soon it reads the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import KW_ONLY, asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from allegro_sync.contracts.allegro import (
    CheckoutForm,
    OrderLineItem,
)
from allegro_sync.contracts.messages import OrderChanged, OrderNotice, OutboxLine, StockChanged
from allegro_sync.contracts.orders import DEFAULT_BUYER_DATA_DAYS
from allegro_sync.domain.ledger import LedgerError, Outcome, Sale, StockView
from allegro_sync.domain.orders import (
    DELETED,
    MERGED,
    BuyerDetails,
    FormLine,
    LineAction,
    OrderDomainError,
    OrderRecord,
    PlannedLine,
    StockCountPoint,
    StoredLine,
    order_message_id,
    plan_lines,
    unknown_status_problem,
)
from allegro_sync.services.orders.polling import parse_time
from allegro_sync.services.orders.ports import (
    BuyerDataStore,
    OfferLinks,
    OrderRepository,
    ShopOutbox,
    StockChangeHook,
    StockPort,
)
from allegro_sync.services.stock import StockResult


@dataclass(frozen=True)
class ImportResult:
    checkout_form_id: str
    status: str
    changed: bool
    taken: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()
    attention: tuple[str, ...] = ()
    stock_messages: int = 0


@dataclass
class _SkuChange:
    view: StockView
    cause: Literal["sale", "cancellation"]
    sale_ids: list[str]


@dataclass(frozen=True, eq=False)
class OrderImporter:
    orders: OrderRepository
    stock: StockPort
    outbox: ShopOutbox
    stock_changes: StockChangeHook
    links: OfferLinks
    buyer_data: BuyerDataStore
    _: KW_ONLY
    count_at: StockCountPoint = StockCountPoint.BOUGHT
    buyer_data_days: int = DEFAULT_BUYER_DATA_DAYS
    clock: Callable[[], float] = time.time

    def import_form(self, account: str, form: CheckoutForm) -> ImportResult:
        """Apply the form's current state once; a repeat with nothing new changes and emits nothing."""
        existing = self.orders.get(form.id)
        if existing is not None and existing.account != account:
            raise OrderDomainError(
                f"checkout form {form.id} is recorded for account {existing.account!r}, not {account!r}"
            )
        lines = [_form_line(item) for item in form.line_items]
        known, replaces = self._sale_ids(form.id, existing, lines)
        status_problem = unknown_status_problem(form.status)
        planned = plan_lines(
            form.status,
            lines,
            self.count_at,
            lambda offer_id: self.links.skus_for_offer(account, offer_id),
            known,
        )
        taken = set(existing.taken) if existing else set()
        returned = set(existing.returned) if existing else set()
        attention = [status_problem] if status_problem else []
        changes: dict[str, _SkuChange] = {}
        for line in planned:
            if line.problem:
                attention.append(line.problem)
            if status_problem or line.sku is None:
                continue
            try:
                self._apply_line(
                    account=account, form=form, line=line, taken=taken, returned=returned, changes=changes
                )
            except LedgerError as error:
                attention.append(f"line {line.line.line_item_id}: {error}")
        record = OrderRecord(
            checkout_form_id=form.id,
            account=account,
            status=form.status,
            revision=form.revision,
            updated_at=form.updated_at,
            lines=tuple(_stored(p) for p in planned),
            taken=frozenset(taken),
            returned=frozenset(returned),
            attention=tuple(attention),
            version=(existing.version if existing else 0) + 1,
            replaces=tuple(sorted({*(existing.replaces if existing else ()), *replaces})),
        )
        if existing is not None and existing.same_state(record):
            if not existing.published:  # saved, then the worker died before its message went out
                self._publish(existing, form)
            return ImportResult(form.id, form.status, changed=False, attention=record.attention)
        stock_messages = [
            StockChanged.from_view(
                c.view, cause=c.cause, checkout_form_id=form.id, account=account, sale_ids=tuple(c.sale_ids)
            )
            for _, c in sorted(changes.items())
        ]
        if stock_messages:
            self.stock_changes.publish(stock_messages)
        if form.buyer is not None or form.delivery is not None:
            self.buyer_data.keep(
                BuyerDetails.until(
                    form.id, account, form.buyer, form.delivery, now=self.clock(), days=self.buyer_data_days
                )
            )
        for replaced in replaces:  # before the owners move: a crash here finds them again on the retry
            self._merge(replaced, into=form.id, account=account)
        new_lines = {p.line.line_item_id: p.sale_id for p in planned}
        if existing is None or replaces or set(new_lines) != {line.line_item_id for line in existing.lines}:
            self.orders.set_line_owners(form.id, new_lines)
        # The record first, then its message: a message names its state by the record's version, so a
        # version must be taken before it is sent. Sent first, a worker that died before the save left a
        # version a different state could take on the retry (a cancellation after a payment), and the shop
        # dropped that state as a repeat of the one it had.
        self.orders.save(replace(record, published=False), existing.version if existing else 0)
        self._publish(record, form)
        before_taken = existing.taken if existing else frozenset()
        before_returned = existing.returned if existing else frozenset()
        return ImportResult(
            form.id,
            form.status,
            changed=True,
            taken=tuple(sorted(record.taken - before_taken)),
            returned=tuple(sorted(record.returned - before_returned)),
            attention=record.attention,
            stock_messages=len(stock_messages),
        )

    def _publish(self, record: OrderRecord, form: CheckoutForm | None) -> None:
        """The record's state to the shop outbox, then the record marked sent (a crash between the two sends
        the same message, same id, again on the retry: the notifier drops the repeat)."""
        stored = form is not None and (form.buyer is not None or form.delivery is not None)
        self.outbox.publish_order(_order_changed(record, form, buyer_data_stored=stored))
        self.orders.mark_published(record.checkout_form_id, record.version)

    def _apply_line(
        self,
        *,
        account: str,
        form: CheckoutForm,
        line: PlannedLine,
        taken: set[str],
        returned: set[str],
        changes: dict[str, _SkuChange],
    ) -> None:
        assert line.sku is not None
        sale_id = line.sale_id
        if line.action is LineAction.TAKE and sale_id not in taken and sale_id not in returned:
            sold_at = parse_time(line.line.bought_at) or datetime.fromtimestamp(self.clock(), UTC)
            sale = Sale(sale_id, line.sku, line.line.quantity, sold_at, account, line.line.offer_id)
            result = self.stock.apply_sale(sale)
            if result.outcome is Outcome.CANCELLED_FIRST:
                returned.add(sale_id)  # its cancellation was applied first: this sale takes nothing
                return
            taken.add(sale_id)
            _note(changes, line.sku, result, "sale", sale_id)
        elif line.action is LineAction.GIVE_BACK and sale_id not in returned:
            cancelled_at = parse_time(form.updated_at) or datetime.fromtimestamp(self.clock(), UTC)
            result = self.stock.apply_cancellation(line.sku, sale_id, cancelled_at)
            if sale_id in taken or result.outcome is Outcome.APPLIED:
                returned.add(sale_id)
                _note(changes, line.sku, result, "cancellation", sale_id)
            # else: never counted (cancelled before it counted): the ledger keeps a tombstone, stock unchanged

    # --- combined payments (allegro-api #1111, #1705, #2172) ----------------------------------------------

    def _sale_ids(
        self, form_id: str, existing: OrderRecord | None, lines: list[FormLine]
    ) -> tuple[dict[str, str], list[str]]:
        """(line item id -> sale id already given, forms whose lines this form carries now).

        A line keeps the sale id it was first recorded with (old records: `<form>:<line>`); a line item
        recorded on ANOTHER form means a combined payment replaced that form by this one."""
        known = {line.line_item_id: line.sale_id for line in existing.lines} if existing else {}
        unseen = [line.line_item_id for line in lines if line.line_item_id not in known]
        owners = self.orders.line_owners(unseen) if unseen else {}
        replaces = sorted({o.checkout_form_id for o in owners.values() if o.checkout_form_id != form_id})
        known.update({line_id: owner.sale_id for line_id, owner in owners.items()})
        return known, replaces

    def _merge(self, form_id: str, *, into: str, account: str) -> None:
        """The replaced form is closed: status MERGED, nothing for the seller to do, stock untouched (its
        sales live on in `into`). The shop hears it once, so it can close its order for that purchase."""
        existing = self.orders.get(form_id)
        if existing is not None and existing.status == MERGED:
            if not existing.published:  # saved, then the worker died before the shop heard it
                self._publish(existing, None)
            return
        record = OrderRecord(
            checkout_form_id=form_id,
            account=existing.account if existing else account,
            status=MERGED,
            revision=existing.revision if existing else None,
            updated_at=existing.updated_at if existing else None,
            lines=existing.lines if existing else (),
            taken=existing.taken if existing else frozenset(),
            returned=existing.returned if existing else frozenset(),
            version=(existing.version if existing else 0) + 1,
            merged_into=into,
        )
        # As an import: the record, then its message (a form the shop never heard of needs none).
        self.orders.save(replace(record, published=existing is None), existing.version if existing else 0)
        if existing is not None:
            self._publish(record, None)

    def record_deleted(self, notice: OrderNotice) -> bool:
        """Allegro answers 404 for a form it knew: it deletes a form only when a combined payment replaced
        it (#1111, #1705), and that form's import marks this one MERGED. Until then: DELETED, stock and
        shop untouched, nothing for the seller to do."""
        existing = self.orders.get(notice.checkout_form_id)
        if existing is not None and existing.status in (MERGED, DELETED):
            return False
        record = OrderRecord(
            checkout_form_id=notice.checkout_form_id,
            account=existing.account if existing else notice.account,
            status=DELETED,
            revision=None,
            updated_at=existing.updated_at if existing else notice.occurred_at,
            lines=existing.lines if existing else (),
            taken=existing.taken if existing else frozenset(),
            returned=existing.returned if existing else frozenset(),
            version=(existing.version if existing else 0) + 1,
            replaces=existing.replaces if existing else (),
        )
        self.orders.save(record, existing.version if existing else 0)
        return True

    # --- forms that cannot be read -------------------------------------------------------------------------

    def record_unreachable(self, notice: OrderNotice, reason: str) -> bool:
        """The form cannot be read for this account (not connected, not found): make it visible to the
        seller instead of retrying forever. The gap scan re-enqueues it (no revision is stored)."""
        existing = self.orders.get(notice.checkout_form_id)
        problem = f"could not read the order from Allegro for account {notice.account!r}: {reason}"
        if existing is not None and problem in existing.attention:
            return False
        record = OrderRecord(
            checkout_form_id=notice.checkout_form_id,
            account=existing.account if existing else notice.account,
            status=existing.status if existing else "UNKNOWN",
            revision=None,
            updated_at=existing.updated_at if existing else notice.occurred_at,
            lines=existing.lines if existing else (),
            taken=existing.taken if existing else frozenset(),
            returned=existing.returned if existing else frozenset(),
            attention=(*(existing.attention if existing else ()), problem),
            version=(existing.version if existing else 0) + 1,
        )
        self.orders.save(record, existing.version if existing else 0)
        return True


def _note(
    changes: dict[str, _SkuChange],
    sku: str,
    result: StockResult,
    cause: Literal["sale", "cancellation"],
    sale_id: str,
) -> None:
    held = changes.get(sku)
    if held is None:
        changes[sku] = _SkuChange(result.view, cause, [sale_id])
        return
    held.sale_ids.append(sale_id)
    if result.view.revision >= held.view.revision:
        held.view, held.cause = result.view, cause


def _form_line(item: OrderLineItem) -> FormLine:
    external = item.offer.external.id if item.offer.external is not None else None
    return FormLine(
        line_item_id=item.id,
        offer_id=item.offer.id,
        quantity=item.quantity,
        external_id=external,
        unit_price=item.price.amount if item.price else None,
        currency=item.price.currency if item.price else None,
        bought_at=item.bought_at,
    )


def _stored(planned: PlannedLine) -> StoredLine:
    line = planned.line
    return StoredLine(
        line_item_id=line.line_item_id,
        sale_id=planned.sale_id,
        offer_id=line.offer_id,
        sku=planned.sku,
        quantity=line.quantity,
        unit_price=line.unit_price,
        currency=line.currency,
    )


def _order_changed(
    record: OrderRecord, form: CheckoutForm | None, *, buyer_data_stored: bool = False
) -> OrderChanged:
    """The outbox message: references and bookkeeping; the buyer's data only as `buyer_data_stored`."""

    def effect(sale_id: str) -> Literal["TAKEN", "RETURNED", "NONE"]:
        if sale_id in record.returned:
            return "RETURNED" if sale_id in record.taken else "NONE"
        return "TAKEN" if sale_id in record.taken else "NONE"

    return OrderChanged(
        message_id=order_message_id(record.checkout_form_id, record.version),
        account=record.account,
        checkout_form_id=record.checkout_form_id,
        revision=record.revision,
        status=record.status,
        updated_at=record.updated_at,
        lines=tuple(OutboxLine(**asdict(line), stock_effect=effect(line.sale_id)) for line in record.lines),
        needs_attention=record.attention,
        merged_into=record.merged_into,
        replaces=record.replaces,
        payment=form.payment if form else None,
        summary=form.summary if form else None,
        buyer_data_stored=buyer_data_stored,
    )
