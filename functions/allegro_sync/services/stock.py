"""Stock use cases: every change to a SKU's ledger, applied exactly once with optimistic concurrency.

Each use case reads the SKU's ledger (and the sale's record), lets `domain.ledger` decide, and commits with
conditions on what it read: the SKU item's `revision` and the sale item's `rev` (or its absence). A concurrent
writer makes the commit fail as a whole; the use case then re-reads and decides again. So a duplicated,
retried, reordered or crashed delivery can never apply a sale twice or lose one: the sale record and the
SKU's totals change together or not at all.

Callers propagate `StockResult.view` (what each linked offer should show at `view.revision`) when
`changed` is true; `claim_push` records the newest revision pushed per SKU (coalescing).

A shop level or acknowledgement that leaves a sale in doubt (`domain.ledger.recheck_after`) asks the
`StockRechecks` port for a fresh read of the shop's level once the doubt can be settled: the sale stays
subtracted until then (never oversell), and the read ends the undercount without the shop reporting again.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from allegro_sync.contracts.messages import StockSet
from allegro_sync.contracts.stock import LedgerConflict
from allegro_sync.domain import ledger as dom
from allegro_sync.domain import returns
from allegro_sync.domain.ledger import (
    LedgerPolicy,
    OfferLink,
    Outcome,
    Sale,
    SaleRecord,
    ShopLevel,
    SkuLedger,
    StockView,
)

# A doubt that reads have not settled within this long (a shop clock far behind the one its acknowledgements
# were stamped with) is left to the shop's next report: the re-reads stop asking.
RECHECK_GIVE_UP = timedelta(minutes=15)


class LedgerBusy(RuntimeError):
    """Too many concurrent writers on one SKU; the caller's message goes back to its queue and is retried."""


class LedgerRepository(Protocol):
    """Storage of SKU ledgers and sale records; implemented on DynamoDB (`adapters.dynamodb.ledger`)."""

    def load(self, sku: str) -> SkuLedger:
        """The SKU's ledger, strongly consistent; a SKU never seen is `SkuLedger(sku)` at revision 0."""
        ...

    def load_many(self, skus: Sequence[str]) -> dict[str, SkuLedger]:
        """The SKUs' ledgers, batched and eventually consistent (a sweep's read); unknown SKUs absent."""
        ...

    def get_sale(self, sku: str, sale_id: str) -> SaleRecord | None: ...

    def commit(
        self,
        *,
        ledger: SkuLedger | None,
        expected_revision: int,
        sale: SaleRecord | None,
        expected_sale_rev: int | None,
    ) -> None:
        """Write the ledger (if given) and the sale record (if given) atomically, or raise LedgerConflict.

        The ledger write requires the stored revision to be `expected_revision` (0: no item yet); the sale
        write requires the stored record's `rev` to be `expected_sale_rev` (None: no record yet).
        """
        ...

    def category_buffer(self, category: str) -> int | None: ...

    def category_buffers(self, categories: Sequence[str]) -> dict[str, int]:
        """The categories' default buffers, batched and eventually consistent (absent: none set)."""
        ...

    def set_category_buffer(self, category: str, buffer: int | None) -> None: ...

    def claim_push(self, sku: str, revision: int) -> bool:
        """Record that `revision` is being pushed; False when an equal or newer one already was."""
        ...


class StockRechecks(Protocol):
    """Read the SKU's level from the shop again after `delay_seconds` (a delayed `stock-rechecks` message)."""

    def schedule(self, sku: str, delay_seconds: int) -> None: ...


@dataclass(frozen=True)
class StockResult:
    outcome: Outcome
    view: StockView
    changed: bool  # the ledger moved to a new revision: propagate `view`
    # The shop time after which a read of the shop's level settles a sale in doubt (None: nothing is).
    recheck_after: datetime | None = None
    before: StockView | None = None  # the view before the change, when it changed (no second read)
    ledger: SkuLedger | None = None  # the state it left: the next change of this SKU may start from it


_Decision = tuple[Outcome, SkuLedger | None, SaleRecord | None]


def _backoff(attempt: int) -> float:
    # Full jitter: contending writers on one SKU spread out instead of colliding again in lockstep.
    return random.uniform(0, min(0.05, 0.001 * 2**attempt))


@dataclass(frozen=True, slots=True)
class StockLedger:
    """The stock use cases; one instance per process, safe to share between threads."""

    repository: LedgerRepository
    policy: LedgerPolicy = field(default_factory=LedgerPolicy)
    _: KW_ONLY
    max_attempts: int = 30
    sleep: Callable[[float], None] = time.sleep
    rechecks: StockRechecks | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    # --- shop ---------------------------------------------------------------------------------------------

    def apply_shop_level(
        self,
        sku: str,
        quantity: int | None,
        at: datetime,
        version: int | None = None,
        *,
        known: SkuLedger | None = None,
    ) -> StockResult:
        """The shop's absolute level (None: the shop could not say). Older than the held one: STALE.
        `known`: the state the caller expects (e.g. empty for a new product), tried before any read."""
        level = ShopLevel(quantity, at, version)

        def decide(ledger: SkuLedger, _: SaleRecord | None) -> _Decision:
            outcome, moved = dom.apply_level(ledger, level, self.policy)
            return outcome, moved, None

        return self._recheck_if_in_doubt(self._change(sku, None, decide, known=known))

    def preview_shop_level(
        self, sku: str, quantity: int | None, at: datetime, version: int | None = None
    ) -> StockResult:
        """A new SKU's first shop level as `apply_shop_level` would leave it, written by nothing: the offer
        created from it writes it with its link (`link_offer(level=...)`), one write for both (issue 21).
        `ledger` is the state that write expects (none stored); `changed` is False until it is written."""
        empty = SkuLedger(sku)
        outcome, moved = dom.apply_level(empty, ShopLevel(quantity, at, version), self.policy)
        return StockResult(outcome, self._view(moved), changed=False, ledger=empty)

    def apply_stock_set(self, event: StockSet) -> StockResult:
        """A queued `stock.set` shop event: the catalog worker's one call."""
        return self.apply_shop_level(event.sku, event.stock, event.occurred_at, event.version)

    # --- Allegro orders -----------------------------------------------------------------------------------

    def apply_sale(self, sale: Sale) -> StockResult:
        """Take the sale's quantity, once per sale id, whatever the number of deliveries."""

        def decide(ledger: SkuLedger, record: SaleRecord | None) -> _Decision:
            outcome, new_record = dom.record_sale(record, sale)
            moved = dom.add_sale(ledger, sale) if outcome is Outcome.APPLIED else None
            return outcome, moved, new_record

        return self._change(sale.sku, sale.sale_id, decide)

    def apply_cancellation(self, sku: str, sale_id: str, cancelled_at: datetime) -> StockResult:
        """Give back what the sale took, once; a cancellation ahead of its sale makes the sale a no-op."""

        def decide(ledger: SkuLedger, record: SaleRecord | None) -> _Decision:
            outcome, new_record = dom.record_cancellation(record, sale_id, sku, cancelled_at, self.policy)
            moved = dom.drop_sale(ledger, sale_id) if outcome is Outcome.APPLIED else None
            return outcome, moved, new_record

        return self._change(sku, sale_id, decide)

    def confirm_delivered(
        self, sku: str, sale_id: str, shop_ack_at: datetime, shop_ack_version: int | None = None
    ) -> StockResult:
        """The shop applied the sale at its own time `shop_ack_at` (at stock version `shop_ack_version`)."""

        def decide(ledger: SkuLedger, record: SaleRecord | None) -> _Decision:
            outcome, new_record = dom.record_delivery(
                record,
                sale_id=sale_id,
                sku=sku,
                ack_at=shop_ack_at,
                ack_version=shop_ack_version,
                policy=self.policy,
            )
            moved = None
            if outcome is Outcome.APPLIED:
                moved = dom.acknowledge_sale(ledger, sale_id, shop_ack_at, shop_ack_version, self.policy)
            return outcome, moved, new_record

        return self._recheck_if_in_doubt(self._change(sku, sale_id, decide))

    # --- issue 15, item 3: a returned item back into stock (domain/returns.py) ------------------------------

    def apply_return(self, sku: str, line_id: str, quantity: int, at: datetime, account: str) -> StockResult:
        """Credit a returned line once (`line_id`: `domain.returns.return_line_id`); a repeat: DUPLICATE."""

        def decide(ledger: SkuLedger, record: SaleRecord | None) -> _Decision:
            outcome, new_record = returns.record_return(
                record, line_id, sku=sku, quantity=quantity, at=at, account=account
            )
            moved = returns.credit_return(ledger, line_id, quantity, at, account) if new_record else None
            return outcome, moved, new_record

        return self._change(sku, line_id, decide)

    # --- configuration ------------------------------------------------------------------------------------

    def set_buffer(self, sku: str, buffer: int | None, category: str | None = None) -> StockResult:
        """The SKU's own safety buffer (None: use its category's) and the category it belongs to."""

        def decide(ledger: SkuLedger, _: SaleRecord | None) -> _Decision:
            return Outcome.APPLIED, dom.set_buffer(ledger, buffer, category), None

        return self._change(sku, None, decide)

    def set_category_buffer(self, category: str, buffer: int | None) -> None:
        """Default buffer for SKUs of `category`; each SKU shows it from its next view (or reconciler run)."""
        dom.check_category_buffer(category, buffer)
        self.repository.set_category_buffer(category, buffer)

    def link_offer(
        self,
        sku: str,
        offer_id: str,
        account: str,
        cap: int | None = None,
        *,
        known: SkuLedger | None = None,
        level: ShopLevel | None = None,
    ) -> StockResult:
        """An offer now sells this SKU (optionally capped); the result says what it should show. `known`:
        the state an earlier change of this caller left, tried first instead of a read (a conflict reads).
        `level`: a shop level not written yet (`preview_shop_level`), taken first in the same write."""
        link = OfferLink(offer_id, account, cap)

        def decide(ledger: SkuLedger, _: SaleRecord | None) -> _Decision:
            if level is not None:
                ledger = dom.apply_level(ledger, level, self.policy)[1]
            return Outcome.APPLIED, dom.link_offer(ledger, link), None

        result = self._change(sku, None, decide, known=known)
        return result if level is None else self._recheck_if_in_doubt(result)

    def unlink_offer(self, sku: str, offer_id: str) -> StockResult:
        def decide(ledger: SkuLedger, _: SaleRecord | None) -> _Decision:
            return Outcome.APPLIED, dom.unlink_offer(ledger, offer_id), None

        return self._change(sku, None, decide)

    # --- reading and propagation --------------------------------------------------------------------------

    def view(self, sku: str) -> StockView:
        return self._view(self.repository.load(sku))

    def shop_level(self, sku: str) -> int | None:
        """The shop's last stock level as the ledger holds it (None: never said, or unknown): the one record
        of it, since a stock change writes only here (issue 21)."""
        level = self.repository.load(sku).level
        return None if level is None else level.quantity

    def views(self, skus: Sequence[str]) -> dict[str, StockView]:
        """Many SKUs' views for a sweep, in batched eventually consistent reads (half the read units of
        `view`, 100 SKUs a call). Only for deciding what to look at: a write decided from one re-reads
        the SKU with `view` (a stale view is older, never newer, than the ledger)."""
        ledgers = self.repository.load_many(skus)
        found = [ledgers.get(sku) or SkuLedger(sku) for sku in dict.fromkeys(skus)]
        wanted = sorted({x.category for x in found if x.buffer is None and x.category is not None})
        buffers = self.repository.category_buffers(wanted) if wanted else {}
        return {x.sku: dom.view(x, self.policy, buffers.get(x.category or "")) for x in found}

    def claim_push(self, view: StockView) -> bool:
        """Coalescing: True when no equal or newer revision of the SKU was recorded, and records this one.

        Call it AFTER the push succeeded (a claim before a failed push would hide the revision from the
        retry); False then means a newer state was pushed meanwhile, so this one needs no repair.
        """
        return self.repository.claim_push(view.sku, view.revision)

    # --- a sale in doubt -----------------------------------------------------------------------------------

    def _recheck_if_in_doubt(self, result: StockResult) -> StockResult:
        """Ask for the shop's level again once it can settle the doubt: `recheck_after` is shop time, and
        the shop's clock may lag ours by up to `clock_skew`, so the read waits that much longer (and one more
        second, as the read's time is whole seconds). Asked again on a redelivery too (DUPLICATE): a crash
        between the commit and this call must not lose the re-read; a second read is harmless."""
        if result.recheck_after is not None:
            self.reread_after(result.view.sku, result.recheck_after)
        return result

    def reread_after(self, sku: str, shop_time: datetime) -> None:
        """Read the SKU's level from the shop once it is past `shop_time` (shop clock). Also for a change we
        made in the shop ourselves: a cancellation it restocked changes its level, and a shop need not
        report that (until it does, the ledger errs low)."""
        now = self.now()
        if self.rechecks is None or now - shop_time > RECHECK_GIVE_UP:
            return
        wait = (shop_time - now).total_seconds() + self.policy.clock_skew.total_seconds()
        self.rechecks.schedule(sku, max(1, math.ceil(wait) + 1))

    # --- the one write path -------------------------------------------------------------------------------

    def _view(self, ledger: SkuLedger) -> StockView:
        category_buffer = None
        if ledger.buffer is None and ledger.category is not None:
            category_buffer = self.repository.category_buffer(ledger.category)
        return dom.view(ledger, self.policy, category_buffer)

    def _change(
        self,
        sku: str,
        sale_id: str | None,
        decide: Callable[[SkuLedger, SaleRecord | None], _Decision],
        *,
        known: SkuLedger | None = None,
    ) -> StockResult:
        for attempt in range(self.max_attempts):
            # The sale record first, then the ledger: a record and its ledger move are committed together,
            # so a ledger read after the record holds every move made with that record's revision. Read the
            # other way round, a sale applied between the two reads left a record the stale ledger did not
            # show: its cancellation wrote the record alone (no ledger move, so no revision guard) and the
            # sale's stock stayed taken for good.
            record = self.repository.get_sale(sku, sale_id) if sale_id is not None else None
            current = known if known is not None and attempt == 0 else self.repository.load(sku)
            outcome, moved, new_record = decide(current, record)
            if moved is not None and moved.revision == current.revision:
                moved = None  # the domain found nothing to change
            if moved is None and new_record is None:
                if current is known:  # nothing to write on a state that may be stale: read to be sure
                    known = None
                    continue
                recheck = dom.recheck_after(current, self.policy)
                return StockResult(
                    outcome, self._view(current), changed=False, recheck_after=recheck, ledger=current
                )
            try:
                self.repository.commit(
                    ledger=moved,
                    expected_revision=current.revision,
                    sale=new_record,
                    expected_sale_rev=None if record is None else record.rev,
                )
            except LedgerConflict:
                self.sleep(_backoff(attempt))
                continue
            final = moved or current
            recheck = dom.recheck_after(final, self.policy)
            before = self._view(current) if moved is not None else None
            return StockResult(
                outcome,
                self._view(final),
                changed=moved is not None,
                recheck_after=recheck,
                before=before,
                ledger=final,
            )
        raise LedgerBusy(f"gave up on {sku!r} after {self.max_attempts} conflicting attempts")
