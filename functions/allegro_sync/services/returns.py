"""Customer returns followed, their items taken back into stock once, commission claims filed (issue 15).

Allegro has no return events: each run (the order gap scan's 15-minute schedule, no trigger of its own) asks
each account for the returns created after the last one seen (`from`) and re-reads, by id, the returns it is
still waiting on (a status change does not bring an old return back into `from`). A return that reaches the
seller's moment (`RestockOn`: the parcel arrived, or the seller accepted it) is taken back:
1. each returned line is credited to the ledger once (`StockLedger.apply_return`, keyed by return and offer:
   a repeat is a DUPLICATE) and its SKU's view goes to `stock-changes` (coalesced by revision downstream);
2. one `order.returned` goes to the shop outbox (`message_id` = `return:<id>`: the notifier and the shop
   de-duplicate it), and the shop's acknowledgement settles the ledger's credit like a sale's;
3. the cursor is saved by compare-and-swap. A crash anywhere repeats 1-2 next run, which both tolerate.
A rejected return is dropped. Cancelled orders (never paid ones end cancelled too) get a commission refund
claim per line: Allegro refuses a second one (ClaimExistsException, #9992) and one with no commission
(CommissionAmountException, #6744), both meaning "nothing to do".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from allegro_sync.contracts.after_sale import CustomerReturn, ReturnsCursor
from allegro_sync.contracts.allegro import CheckoutForm
from allegro_sync.contracts.allegro_errors import (
    AllegroApiError,
)
from allegro_sync.contracts.messages import OrderReturned, ReturnedLine
from allegro_sync.contracts.return_status import RestockOn
from allegro_sync.domain.ledger import StockView
from allegro_sync.domain.orders import OrderRecord
from allegro_sync.domain.returns import back_in_stock, return_line_id
from allegro_sync.services.orders.polling import each_account_report
from allegro_sync.services.stock import StockLedger

RETURN_IDS_PER_CALL = 50
CLAIMS_OVERLAP = timedelta(minutes=10)
FIRST_CLAIMS_WINDOW = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=5)  # Allegro's clock against ours, when following starts
NOTHING_TO_CLAIM = ("ClaimExistsException", "CommissionAmountException")


class ReturnsApi(Protocol):
    def customer_returns(
        self, *, after: str | None = None, ids: Sequence[str] = (), created_from: str | None = None
    ) -> list[CustomerReturn]: ...

    def iter_checkout_forms(
        self, *, status: str | None = None, updated_at_gte: str | None = None, max_pages: int = 50
    ) -> Iterator[CheckoutForm]: ...

    def claim_commission_refund(self, line_item_id: str, quantity: int) -> str | None: ...


class ReturnsCursorStore(Protocol):
    def load(self, account: str) -> ReturnsCursor: ...

    def save(self, account: str, cursor: ReturnsCursor, *, expected_version: int) -> bool: ...


class StoredOrders(Protocol):
    def get_many(self, checkout_form_ids: Sequence[str]) -> dict[str, OrderRecord]: ...


class ReturnOutbox(Protocol):
    def publish_return(self, message: OrderReturned) -> None: ...


class StockChangeSink(Protocol):
    def stock_changed(self, view: StockView, cause: str) -> None: ...


@dataclass
class AccountReturns:
    """One account's run, for the handler's log line (ids only: no buyer data)."""

    new: int = 0
    taken_back: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    waiting: int = 0
    units_credited: int = 0
    claims_filed: int = 0
    needs_attention: list[str] = field(default_factory=list)  # "<return id>: why"
    error: str | None = None


@dataclass
class ReturnsFollower:
    """One run over every connected account (the order gap scan's); the module docstring says how."""

    cursors: ReturnsCursorStore
    orders: StoredOrders
    ledger: StockLedger
    outbox: ReturnOutbox
    stock_changes: StockChangeSink
    restock_on: RestockOn
    now: Callable[[], datetime]

    def follow(self, apis: Mapping[str, ReturnsApi]) -> dict[str, AccountReturns]:
        return each_account_report(apis, AccountReturns, self._follow_account)  # the gap scan's rules

    def _follow_account(self, account: str, api: ReturnsApi, outcome: AccountReturns) -> None:
        cursor = self.cursors.load(account)
        started_at = cursor.started_at or _iso(self.now() - CLOCK_SKEW)
        # Until a first return is seen, only returns created since following began: older ones are history.
        created_from = started_at if cursor.last_seen is None else None
        new = api.customer_returns(after=cursor.last_seen, created_from=created_from)
        outcome.new = len(new)
        seen = {r.id for r in new}
        older = [i for i in cursor.waiting if i not in seen]
        current = list(new)
        for start in range(0, len(older), RETURN_IDS_PER_CALL):
            current += api.customer_returns(ids=older[start : start + RETURN_IDS_PER_CALL])
        known = {r.id for r in current}
        waiting = [i for i in older if i not in known]  # not listed this time: asked again next run
        for found in current:
            if found.status == "REJECTED":
                outcome.rejected.append(found.id)
            elif not back_in_stock(found.status, self.restock_on) or not self._take_back(
                account, found, outcome
            ):
                waiting.append(found.id)
            else:
                outcome.taken_back.append(found.id)
        claims_since = self._claim_commissions(api, cursor.claims_since, outcome)
        outcome.waiting = len(waiting)
        last_seen = new[-1].id if new else cursor.last_seen
        saved = ReturnsCursor(
            last_seen, tuple(dict.fromkeys(waiting)), claims_since, cursor.version, started_at
        )
        self.cursors.save(account, saved, expected_version=cursor.version)

    def _take_back(self, account: str, found: CustomerReturn, outcome: AccountReturns) -> bool:
        """Credit each returned line once and tell the shop; False: wait (the order is not imported yet)."""
        record = self.orders.get_many([found.order_id]).get(found.order_id)
        if record is None:
            outcome.needs_attention.append(f"{found.id}: its order is not imported yet")
            return False
        lines: list[ReturnedLine] = []
        for item in found.items:
            line = next((x for x in record.lines if x.offer_id == item.offer_id and x.sku), None)
            if line is None or line.sku is None:
                outcome.needs_attention.append(f"{found.id}: offer {item.offer_id} has no SKU in the order")
                continue
            key = return_line_id(found.id, item.offer_id)
            result = self.ledger.apply_return(line.sku, key, item.quantity, self.now(), account)
            if result.changed:
                outcome.units_credited += item.quantity
            self.stock_changes.stock_changed(result.view, "return")  # again on a repeat: coalesced
            lines.append(
                ReturnedLine(
                    line_item_id=line.line_item_id,
                    sale_id=line.sale_id,
                    offer_id=item.offer_id,
                    sku=line.sku,
                    quantity=item.quantity,
                    return_line_id=key,
                )
            )
        if lines:
            self.outbox.publish_return(
                OrderReturned(
                    message_id=f"return:{found.id}",
                    account=account,
                    checkout_form_id=found.order_id,
                    return_id=found.id,
                    status=found.status,
                    lines=tuple(lines),
                )
            )
        return True

    def _claim_commissions(self, api: ReturnsApi, since: str | None, outcome: AccountReturns) -> str:
        started = self.now()
        window = (datetime.fromisoformat(since) if since else started - FIRST_CLAIMS_WINDOW) - CLAIMS_OVERLAP
        for form in api.iter_checkout_forms(status="CANCELLED", updated_at_gte=_iso(window)):
            for line in form.line_items:
                try:
                    api.claim_commission_refund(line.id, line.quantity)
                except AllegroApiError as refused:
                    if refused.status in (400, 422) and not set(refused.codes) & set(NOTHING_TO_CLAIM):
                        outcome.needs_attention.append(f"order {form.id}: claim refused: {refused.codes}")
                    continue
                outcome.claims_filed += 1
        return started.isoformat()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
