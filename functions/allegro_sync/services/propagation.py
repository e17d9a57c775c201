"""Stock to every linked Allegro offer within seconds: the `stock_propagator` use case (and the reconciler's
repair path).

Rules that shape this module (issue "Stock in seconds and orders exactly once"):
- The ledger is the truth. A `stock-changes` message only says "SKU X moved to revision N"; the propagator
  reads the SKU's current view, so a burst of changes for one SKU collapses into one push of the newest
  value (within a batch only the newest revision per SKU is kept; across batches the pushed revision
  stored per offer link, written conditionally, skips anything not newer).
- PATCH for a single offer; one bulk command (`propagation_bulk.py`) for up to 25 offers of an account,
  each with its own value (across SKUs of the batch); should Allegro refuse that beta resource, one quantity
  command per value; neither can set 0, so 0 is always a PATCH (which ends the offer).
- Stock coming back re-activates an offer that sold out: stock first, confirmed by reading it back, then
  ACTIVATE, because Allegro may run an activation before a stock change sent just before it (#10251).
  An offer the seller (or Allegro's admin) ended is not re-activated behind their back.
- An archived offer (ended > 60 days: 404, #10743) is handed to the catalogue to be created again.
- While one seller's product-offer writes are held back by its own limit (a per-user 429, #12700), a lower
  stock goes out as a quantity command and a sell-out as an END publication command (another resource):
  an offer that shows too much oversells, so it does not wait for the seller's write slots.
- An unknown quantity (the shop could not say) is never 0 and never plenty: nothing is pushed, it is logged.
- Every change made on Allegro goes to the change log with its reason: a routine push's with its pushed
  record (one write, `PushLog.record`), a repair's or a re-creation's as its own item, and each as a log line.
A failure (rate limit, 5xx, timeout, unconfirmed stock) leaves the offer's pushed revision unchanged and
names the SKU in `PropagationReport.failed`, so its messages go back to the queue and are retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger

from allegro_sync import correlation
from allegro_sync.contracts.allegro import OfferCommandResult, ProductOffer
from allegro_sync.contracts.allegro_errors import (
    AllegroApiError,
    AllegroError,
    AllegroNotFound,
    AllegroOperationFailed,
    AllegroRateLimited,
    AllegroUserRateLimited,
)
from allegro_sync.contracts.catalog import Change
from allegro_sync.contracts.messages import StockChanged
from allegro_sync.contracts.stock import PushRecord
from allegro_sync.services.catalog import ChangeLog
from allegro_sync.services.propagation_bulk import bulk_chunks, by_value, command_id, stock_modifications
from allegro_sync.services.propagation_plan import Push, PushKind, Skip, newest_signals, plan
from allegro_sync.services.propagation_ports import (
    ArchivedOffers,
    OfferStockClient,
    PushLog,
    StockClients,
    StockViews,
)
from allegro_sync.services.propagation_read_back import read_back

logger = Logger(child=True)

# Offers Allegro ended because stock ran out (or we ended them with stock 0) come back by themselves when
# stock returns; any other ending (USER, ADMIN, EXPIRATION) was someone's decision and is left alone.
REACTIVATABLE_ENDINGS = frozenset({"EMPTY_STOCK"})
_LOGGED = ("sku", "offer_id", "account", "action", "changes", "reason")  # of a Change, per stock change


# ------------------------------------------------------------------------------------------------ run


@dataclass
class PropagationReport:
    pushed: list[Push] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)
    recreated: dict[str, str | None] = field(default_factory=dict)  # archived offer id -> new id (or None)
    failed: dict[str, str] = field(default_factory=dict)  # sku -> why; its messages are retried
    # sku -> when (epoch s) the Allegro block that failed it ends: its messages come back then, not at the
    # end of some other seller's block; a SKU failed by anything else is not here (retried soon).
    blocked_until: dict[str, float] = field(default_factory=dict)
    calls: int = 0  # Allegro requests made (batch commands count their PUT + task reads as 2)


class StockConfirmationFailed(AllegroError):
    """Allegro did not show the stock we set; activating now could run before it (#10251)."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Propagator:
    """Pushes ledger views to Allegro; one instance per process (clients and logs are shared)."""

    views: StockViews
    pushed: PushLog
    clients: StockClients
    changes: ChangeLog
    archived: ArchivedOffers
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def propagate(self, signals: Iterable[StockChanged]) -> PropagationReport:
        """The stock_propagator's one call: newest revision per SKU, read the ledger, push what changed."""
        report = PropagationReport()
        pushes: list[Push] = []
        for sku, signal in sorted(newest_signals(signals).items()):
            revision = signal.revision
            try:
                view = self.views.view(sku)
                if view.revision < revision:
                    # The ledger is read strongly consistent after the message was written: this is a bug
                    # upstream or a restored table. Retrying cannot make it newer; push what the ledger has.
                    with correlation.scope(signal.correlation_id):
                        logger.warning(
                            "ledger older than its stock-change message",
                            extra={
                                "sku": sku,
                                "ledger_revision": view.revision,
                                "message_revision": revision,
                            },
                        )
                planned, skips = plan(view, self.pushed.pushed(sku), reason=signal.reason(view.revision))
            except Exception as error:
                report.failed[sku] = f"{type(error).__name__}: {error}"
                continue
            pushes.extend(replace(p, correlation_id=signal.correlation_id, with_record=True) for p in planned)
            report.skipped.extend(skips)
        self.apply(pushes, report)
        for skip in report.skipped:
            if skip.why.startswith("unknown quantity"):
                logger.warning(
                    "stock unknown: nothing pushed", extra={"sku": skip.sku, "offer_id": skip.offer_id}
                )
        return report

    def apply(self, pushes: Sequence[Push], report: PropagationReport | None = None) -> PropagationReport:
        """Make the calls for planned pushes (the reconciler's repairs come straight here)."""
        report = report if report is not None else PropagationReport()
        for push in pushes:
            if not push.needs_call:
                self._done(push, report)
        todo = [p for p in pushes if p.needs_call]
        chunks, singles = bulk_chunks(todo, lambda p: p.kind is PushKind.QUANTITY)
        # Sell-outs first: an offer that shows stock the shop no longer has oversells, while one that shows
        # a few units too many or too few does not; a batch of 30 pushes takes seconds.
        ends = [p for p in singles if p.kind is PushKind.END]
        rest = [p for p in singles if p.kind is not PushKind.END]
        self._singles(ends, report)
        for chunk in chunks:
            self._correlated_batch(chunk[0].account, chunk, rest, report)
        self._singles(rest, report)
        return report

    def _singles(self, pushes: Sequence[Push], report: PropagationReport) -> None:
        for push in pushes:
            # Every offer is tried even when another offer of its SKU failed: a disconnected account or a
            # rate limit on one channel must not keep the others showing old stock.
            with correlation.scope(push.correlation_id):
                try:
                    self._single(push, report)
                except Exception as error:  # recorded per SKU; its messages are redelivered
                    _fail(report, push.sku, f"{push.offer_id}: {type(error).__name__}: {error}", error)
                    logger.warning(
                        "stock push failed; retried with the SKU's message",
                        extra={"sku": push.sku, "offer_id": push.offer_id, "error": str(error)},
                    )

    def _correlated_batch(
        self, account: str, group: list[Push], fallback: list[Push], report: PropagationReport
    ) -> None:
        """One command may serve several events: each push gets a line under its own id, and the command's
        own Allegro calls carry the id when all its pushes share one."""
        ids = sorted({p.correlation_id for p in group if p.correlation_id})
        for push in group:
            with correlation.scope(push.correlation_id):
                logger.info(
                    "stock in a shared bulk command",
                    extra={
                        "sku": push.sku,
                        "offer_id": push.offer_id,
                        "account": account,
                        "quantity": push.quantity,
                        "command_offers": len(group),
                    },
                )
        with correlation.scope(ids[0] if len(ids) == 1 else None):
            self._bulk(account, group, fallback, report)

    # --- the ways to push ------------------------------------------------------------------------------

    def _bulk(self, account: str, group: list[Push], fallback: list[Push], report: PropagationReport) -> None:
        """One bulk command: each offer of `account` in `group` gets its own value (up to 25)."""
        try:
            results = self.clients.client(account).bulk_modify(command_id(group), stock_modifications(group))
        except AllegroApiError as error:
            if isinstance(error, AllegroRateLimited) or error.status >= 500:
                report.failed.update({p.sku: f"bulk command: {error}" for p in group})
                return
            # The beta resource refused the command itself: the older quantity command, one per value.
            logger.warning("bulk command refused: quantity commands instead", extra={"error": str(error)})
            batched, singles = by_value(group)
            for (_, quantity), same in sorted(batched.items()):
                self._batch(account, quantity, same, fallback, report)
            fallback.extend(singles)
            return
        except Exception as error:  # timeouts, ...: the SKUs are retried (the same command id)
            report.failed.update({p.sku: f"bulk command: {type(error).__name__}: {error}" for p in group})
            return
        report.calls += 2
        for push, result in zip(group, results, strict=True):
            if result.status == "SUCCESS":
                self._done(push, report, made=[self._stock_change(push)])
            elif result.status == "FAIL":
                fallback.append(push)  # archived, ended by the seller, ...: the single path decides
            else:
                report.failed[push.sku] = f"{push.offer_id}: bulk command still pending"

    def _batch(
        self, account: str, quantity: int, group: list[Push], fallback: list[Push], report: PropagationReport
    ) -> None:
        """One quantity command for every offer of `account` that needs `quantity`."""
        try:
            results = self.clients.client(account).change_quantity(
                [p.offer_id for p in group], "FIXED", quantity
            )
        except Exception as error:  # what finished is kept, the rest is retried
            results = list(getattr(error, "completed", ()))
            done = {r.offer_id for r in results}
            for push in group:
                if push.offer_id not in done:
                    _fail(report, push.sku, f"quantity command: {type(error).__name__}: {error}", error)
        report.calls += 2
        by_offer = {r.offer_id: r for r in results if isinstance(r, OfferCommandResult)}
        for push in group:
            result = by_offer.get(push.offer_id)
            if result is None:
                continue
            if result.status == "SUCCESS":
                self._done(push, report, made=[self._stock_change(push)])
            elif result.status == "FAIL":
                # Archived, ended by the seller, ...: the single path reads the offer and decides.
                fallback.append(push)
            else:
                report.failed[push.sku] = f"{push.offer_id}: quantity command still pending"

    def _single(self, push: Push, report: PropagationReport, *, may_recreate: bool = True) -> None:
        client = self.clients.client(push.account)
        try:
            offer = client.patch_product_offer(push.offer_id, {"stock": {"available": push.quantity}})
            report.calls += 1
        except AllegroUserRateLimited:
            self._by_command(client, push, report, "the seller's offer writes were held back by its limit")
            return
        except AllegroOperationFailed:
            # Allegro's asynchronous edit failed ("try again", #11011): a command is another resource, so
            # the stock goes out now instead of with the SKU's next delivery.
            self._by_command(client, push, report, "Allegro's asynchronous edit failed")
            return
        except AllegroNotFound:
            report.calls += 1
            if not may_recreate:
                raise  # a just-recreated offer answering 404: retried later, never a loop
            self._gone(push, report)
            return
        made = [self._stock_change(push)]
        if push.kind is PushKind.RESTOCK:
            try:
                self._reactivate(client, push, offer, report, made)
            except Exception:
                self._keep(made)  # the stock is on Allegro: explained even though the push is retried
                raise
        self._done(push, report, made=made)  # only now: a failed activation is retried with the SKU

    def _by_command(self, client: OfferStockClient, push: Push, report: PropagationReport, why: str) -> None:
        """The seller's product-offer writes are held back (a per-user limit) or the PATCH's operation
        failed: set the stock with a quantity command (a first push or a restock then reads the offer back
        and activates it if it sold out), or end the offer with a publication command; a command or read
        that did not succeed is retried."""
        ending = push.kind is PushKind.END
        if ending:
            results = client.change_publication([push.offer_id], "END")
        else:
            results = client.change_quantity([push.offer_id], "FIXED", push.quantity)
        report.calls += 2
        if not results or results[0].status != "SUCCESS":
            message = results[0].message if results else "no result"
            raise StockConfirmationFailed(f"{'END' if ending else 'quantity'} command failed: {message}")
        how = "an END command ended the offer" if ending else "a quantity command set it"
        held = replace(push, reason=f"{push.reason}; {why}: {how}")
        made = [self._stock_change(held)]
        if push.kind is PushKind.RESTOCK:
            self._reactivate(client, push, read_back(client, push.offer_id), report, made)
        self._done(held, report, made=made)

    def _reactivate(
        self,
        client: OfferStockClient,
        push: Push,
        offer: ProductOffer,
        report: PropagationReport,
        made: list[Change],
    ) -> None:
        """Stock first, confirmed by reading it back, then ACTIVATE (#10251)."""
        publication = offer.publication
        status = publication.status if publication else None
        ended_by = publication.ended_by if publication else None
        if status != "ENDED":
            return  # still ACTIVE (or ACTIVATING, or a draft the catalogue owns): the stock is enough
        # Ours to bring back: ended by our stock 0 (EMPTY_STOCK, or nothing yet) or by our END command (USER)
        # while the seller's writes were held back; an offer we recorded as ended, the seller cannot end.
        we_ended_it = push.previous is not None and push.previous.action == "END"
        if ended_by not in REACTIVATABLE_ENDINGS and not (we_ended_it and ended_by in (None, "USER")):
            logger.info(
                "offer ended by someone else: stock set, not re-activated",
                extra={"sku": push.sku, "offer_id": push.offer_id, "ended_by": ended_by},
            )
            return
        shown = offer.stock.available if offer.stock else None
        if shown != push.quantity:
            shown = _available(client.get_product_offer(push.offer_id))
            report.calls += 1
        if shown != push.quantity:
            raise StockConfirmationFailed(
                f"offer {push.offer_id} shows stock {shown}, not {push.quantity}: not activating yet"
            )
        results = client.change_publication([push.offer_id], "ACTIVATE")
        report.calls += 2
        if not results or results[0].status != "SUCCESS":
            message = results[0].message if results else "no result"
            raise StockConfirmationFailed(f"activation of {push.offer_id} did not succeed: {message}")
        report.activated.append(push.offer_id)
        made.append(
            self._change(
                push,
                "activate",
                {"publication.status": {"old": "ENDED", "new": "ACTIVE"}},
                f"stock back ({push.quantity}) after selling out; stock confirmed before activation",
            )
        )

    def _gone(self, push: Push, report: PropagationReport) -> None:
        """404: ended more than 60 days ago, archived (#10743)."""
        if push.kind is PushKind.END:
            # Nothing to sell and the offer is gone: that is already what the ledger wants.
            self._done(push, report)
            return
        new_id = self.archived.recreate(push.sku, push.account, push.offer_id)
        report.recreated[push.offer_id] = new_id
        self.changes.record(
            Change(
                sku=push.sku,
                account=push.account,
                offer_id=push.offer_id,
                action="recreate",
                changes={"offer_id": {"old": push.offer_id, "new": new_id}},
                reason=(
                    f"offer archived by Allegro (ended over 60 days ago), stock back ({push.quantity}); "
                    + ("a new offer was created" if new_id else "the link waits for re-publication")
                ),
                at=self._timestamp(),
            )
        )
        # The archived id gets its revision recorded so a redelivery does not ask the catalogue again.
        self.pushed.record(push.sku, push.offer_id, PushRecord(push.revision, "END", 0, push.account))
        if new_id is not None:
            # The catalogue created it with the shop's level; the ledger's (sales subtracted) wins.
            self._single(
                replace(push, offer_id=new_id, kind=PushKind.RESTOCK, previous=None),
                report,
                may_recreate=False,
            )

    # --- bookkeeping -----------------------------------------------------------------------------------

    def _done(self, push: Push, report: PropagationReport, *, made: Sequence[Change] = ()) -> None:
        """Record the pushed revision, with the changes the push made (one write when `with_record`)."""
        action: Literal["SET", "END"] = "END" if push.kind is PushKind.END else "SET"
        record = PushRecord(push.revision, action, push.quantity, push.account)
        kept = push.with_record and bool(made)
        recorded = self.pushed.record(push.sku, push.offer_id, record, made if kept else ())
        if not recorded or not kept:
            self._keep(made)
        report.pushed.append(push)
        for change in made:  # the full trail (the record keeps only the newest few)
            fields = {k: getattr(change, k) for k in _LOGGED}
            logger.info("stock changed on Allegro", extra={**fields, "revision": push.revision})
        if made and not recorded:
            self._overtaken(push, report)

    def _overtaken(self, push: Push, report: PropagationReport) -> None:
        """Our call reached Allegro, but a newer revision's push was recorded before ours (the reconciler's
        repair beside the propagator): ours may have landed after it and put the older value back, which
        nothing would correct until the next reconciliation. Push what the ledger says now once more; that
        push, at the newest revision, stops here (only a still newer record asks again)."""
        held = self.pushed.pushed(push.sku).get(push.offer_id)
        if held is None or held.revision <= push.revision:
            return  # a repeat of this very revision: Allegro has its value
        try:
            view = self.views.view(push.sku)
            why = f"{push.reason}; pushed again: revision {held.revision} was pushed while this one was"
            again, _ = plan(view, {push.offer_id: held}, reason=why, force=True)
            for repush in (p for p in again if p.offer_id == push.offer_id):
                self._single(replace(repush, correlation_id=push.correlation_id), report, may_recreate=False)
        except Exception as error:  # the SKU's messages are retried; the reconciler repairs the rest
            _fail(report, push.sku, f"{push.offer_id}: pushing again: {type(error).__name__}: {error}", error)

    def _keep(self, made: Sequence[Change]) -> None:
        for change in made:
            self.changes.record(change)

    def _stock_change(self, push: Push) -> Change:
        old = None if push.previous is None else push.previous.quantity
        ending = push.kind is PushKind.END
        return self._change(
            push,
            "end" if ending else "stock",
            {"stock": {"old": old, "new": push.quantity}},
            push.reason + ("; 0 ends the offer" if ending else ""),
        )

    def _change(self, push: Push, action: str, changes: dict[str, dict[str, Any]], reason: str) -> Change:
        event, at = f"stock:{push.sku}:{push.revision}", self._timestamp()
        return Change(push.sku, push.account, push.offer_id, action, changes, reason, event, at=at)

    def _timestamp(self) -> str:
        return self.now().astimezone(UTC).isoformat()


def _fail(report: PropagationReport, sku: str, why: str, error: BaseException) -> None:
    """Name the SKU as failed; an Allegro block (app-wide or this seller's) also says when it ends."""
    report.failed[sku] = why
    if isinstance(error, AllegroRateLimited):
        report.blocked_until[sku] = max(report.blocked_until.get(sku, 0.0), error.blocked_until)


def _available(offer: ProductOffer) -> int | None:
    return offer.stock.available if offer.stock else None
