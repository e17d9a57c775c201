"""The reconciler: what Allegro shows vs what the ledger says, compared on a schedule and repaired.

Why: a push can be lost (a seller edits stock by hand in Allegro's panel, a command task FAILs silently, an
offer is created outside the sync). Invariant 4 — no silent drift — needs a second, independent path.

Per account, every own offer (`GET /sale/offers`, 1000 a page) with an `external.id` the ledger knows is
compared with the SKU's view:
- STOCK: a selling offer shows another number than the ledger -> set it (same-value offers in one command);
- ACTIVE_AT_ZERO: an ACTIVE offer for a SKU with nothing left -> PATCH stock 0 (ends it);
- ENDED_WITH_STOCK: ended by EMPTY_STOCK although the SKU has stock -> stock, confirmed, then ACTIVATE;
  offers the seller or Allegro's admin ended stay ended;
- UNLINKED: an offer carrying our SKU that the ledger does not know -> linked, then set like the others;
- MISSING: a linked offer Allegro no longer lists (archived or deleted) -> reported only;
- DUPLICATE: a second live offer (ACTIVE, ACTIVATING or INACTIVE) with the same `external.id` on one account,
  e.g. the draft a failed 202 create left behind (#11011). The one the ledger links (else a selling one,
  else the oldest) stays; a selling duplicate is ended (PATCH stock 0), a draft is reported for the seller
  to delete (it sells nothing). Duplicates are never linked, so they never get stock.
An unknown ledger level (HOLD) is never a drift: nothing is known to compare with. Every repair goes
through the propagator, so it lands in the change log with its reason and in the pushed-revision log.
`dry_run` reads the same and changes nothing.

Scale (issue 21): the sweep reads a page of offers (1000) and the ledger views of its SKUs in batched,
eventually consistent reads (`StockLedger.views`); only a SKU that looks drifted is read again strongly
consistent before anything is linked or pushed, so a repair is never decided on a stale view. A stale view
can only be older than the ledger: what it hides is a change the propagator is pushing right now. A SKU whose
offers are not all on the page (a linked offer elsewhere, or an offer the ledger does not link) is listed in
full by `external.id`, so duplicates and missing offers are judged on every offer of the SKU while each
offer is compared only on its own page. With `time_left` and a `SweepCursors`, a run stops before its
timeout and saves where it is (account, offset); the next run goes on from there, and a cycle ends when every
account's last page is done.

A view is the SKU's, not an account's: a run keeps the views it read (up to `VIEWS_KEPT`), so a seller whose
accounts sell the same SKUs pays one read per SKU a run, not one per account. A kept view is as stale as an
eventually consistent one can be plus the run's length (at most the timeout): what it can hide is still a
change made during the run, which its own push carries or the next run finds; a repair still re-reads first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from aws_lambda_powertools import Logger

from allegro_sync.contracts.allegro import OfferListing, OffersPage, ProductOffer
from allegro_sync.contracts.sweeps import SweepPosition
from allegro_sync.domain.ledger import OfferAction, OfferLink, OfferTarget, StockView, offer_target
from allegro_sync.services.propagation import PropagationReport, Propagator
from allegro_sync.services.propagation_plan import Push, PushKind
from allegro_sync.services.stock import StockResult
from allegro_sync.services.sweep_clock import SweepClock, SweepCursors, remaining

logger = Logger(child=True)

SELLING = frozenset({"ACTIVE", "ACTIVATING"})
# Views one run keeps for the next account's pages (~0.5 KB each: ~25 MB of the function's 256 MB at most).
VIEWS_KEPT = 50_000


class DriftKind(StrEnum):
    STOCK = "STOCK"
    ACTIVE_AT_ZERO = "ACTIVE_AT_ZERO"
    ENDED_WITH_STOCK = "ENDED_WITH_STOCK"
    UNLINKED = "UNLINKED"
    MISSING = "MISSING"
    DUPLICATE = "DUPLICATE"


@dataclass(frozen=True)
class Drift:
    account: str
    sku: str
    offer_id: str
    kind: DriftKind
    allegro_status: str | None
    allegro_stock: int | None
    ledger: str  # "SET 5", "END 0"
    repair: str  # what is (or would be) done


@dataclass
class ReconcileReport:
    accounts: list[str] = field(default_factory=list)
    offers_seen: int = 0
    drifts: list[Drift] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # offer ids
    failed: dict[str, str] = field(default_factory=dict)  # account or sku -> why
    dry_run: bool = False
    pages: int = 0
    rechecked: int = 0  # SKUs read again strongly consistent before a repair
    continues_at: SweepPosition | None = None  # None: the cycle is complete


class OfferLister(Protocol):
    def iter_offers(
        self, *, external_ids: Sequence[str] = (), statuses: Sequence[str] = (), page_size: int = 1000
    ) -> Iterator[OfferListing]: ...

    def list_offers(self, *, offset: int = 0, limit: int = 1000) -> OffersPage: ...

    def get_product_offer(self, offer_id: str) -> ProductOffer: ...


class ListerClients(Protocol):
    def client(self, account: str) -> OfferLister: ...


class LedgerLinks(Protocol):
    """`StockLedger`: the SKU's view and adopting an unlinked offer."""

    def view(self, sku: str) -> StockView: ...

    def views(self, skus: Sequence[str]) -> dict[str, StockView]: ...

    def link_offer(self, sku: str, offer_id: str, account: str, cap: int | None = None) -> StockResult: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciler:
    ledger: LedgerLinks
    clients: ListerClients
    propagator: Propagator
    accounts: Callable[[], list[str]]

    def run(
        self,
        *,
        account: str | None = None,
        dry_run: bool = False,
        time_left: Callable[[], float] | None = None,
        cursors: SweepCursors | None = None,
        page_size: int = 1000,
    ) -> ReconcileReport:
        """One pass (or, with `time_left`, as much of the cycle as fits; `cursors` keeps the rest)."""
        report = ReconcileReport(dry_run=dry_run)
        names = sorted(self.accounts())
        if account is not None:
            if account not in names:
                raise LookupError(
                    f"account {account!r} is not connected (connected: {', '.join(names) or 'none'})"
                )
            names = [account]
        sweep = SweepClock(time_left, page_size)
        kept: dict[str, StockView] = {}  # this run's views, shared by its accounts' pages
        for name, offset in remaining(names, cursors):
            report.accounts.append(name)
            try:
                done = self._account(name, offset, report, sweep, cursors, kept=kept, dry_run=dry_run)
            except Exception as error:
                report.failed[name] = f"{type(error).__name__}: {error}"
                logger.warning("reconciling an account failed", extra={"account": name, "error": str(error)})
                continue
            if not done:
                return report
        if cursors is not None:
            cursors.clear()
        return report

    def _account(
        self,
        account: str,
        offset: int,
        report: ReconcileReport,
        sweep: SweepClock,
        cursors: SweepCursors | None,
        *,
        kept: dict[str, StockView],
        dry_run: bool,
    ) -> bool:
        """Page after page from `offset`; False when the run stopped for time (the position is saved)."""
        client = self.clients.client(account)
        while True:
            if sweep.short():
                report.continues_at = SweepPosition(account, offset)
                if cursors is not None:
                    cursors.save(report.continues_at)
                return False
            with sweep.page():
                page = client.list_offers(offset=offset, limit=sweep.page_size)
                whole = offset == 0 and len(page.offers) >= page.total_count
                self._page(account, client, page.offers, report, kept=kept, whole=whole, dry_run=dry_run)
            report.pages += 1
            offset += len(page.offers)
            if len(page.offers) < sweep.page_size or offset >= page.total_count:
                return True
            if cursors is not None:
                cursors.save(SweepPosition(account, offset))  # a crash repeats at most this page

    def _views(self, skus: list[str], kept: dict[str, StockView]) -> dict[str, StockView]:
        """The SKUs' eventually consistent views: those this run already read, the rest read now (and kept
        while fewer than `VIEWS_KEPT` are)."""
        read = (
            self.ledger.views([s for s in skus if s not in kept]) if any(s not in kept for s in skus) else {}
        )
        if len(kept) + len(read) <= VIEWS_KEPT:
            kept.update(read)
        return {s: kept[s] if s in kept else read[s] for s in skus}

    def _page(
        self,
        account: str,
        client: OfferLister,
        offers: list[OfferListing],
        report: ReconcileReport,
        *,
        kept: dict[str, StockView],
        whole: bool,
        dry_run: bool,
    ) -> None:
        report.offers_seen += len(offers)
        on_page: dict[str, list[OfferListing]] = defaultdict(list)
        for offer in offers:
            sku = offer.external.id if offer.external else None
            if sku:
                on_page[sku].append(offer)
        # a SKU the ledger never heard of is not ours to judge
        views = {k: v for k, v in self._views(list(on_page), kept).items() if v.revision != 0}
        partial = [
            k for k in sorted(views) if not whole and _needs_every_offer(account, views[k], on_page[k])
        ]
        every: dict[str, list[OfferListing]] = defaultdict(list)
        for offer in client.iter_offers(external_ids=partial) if partial else ():
            if offer.external and offer.external.id:
                every[offer.external.id].append(offer)
        ended: dict[str, str | None] = {}
        pushes: list[Push] = []
        for sku in sorted(views):
            all_offers = every.get(sku) or on_page[sku]
            looked = ReconcileReport()
            if (
                not self._sku(account, sku, views[sku], on_page[sku], all_offers, looked, ended)
                and not looked.drifts
            ):
                continue  # nothing to do, judged on the eventually consistent view
            report.rechecked += 1
            view = self.ledger.view(sku)  # strongly consistent before deciding a repair
            pushes.extend(
                self._sku(account, sku, view, on_page[sku], all_offers, report, ended, dry_run=dry_run)
            )
        if dry_run or not pushes:
            return
        applied = self.propagator.apply(pushes, PropagationReport())
        report.repaired.extend(p.offer_id for p in applied.pushed)
        report.failed.update(applied.failed)

    def _sku(  # noqa: PLR0917 - one SKU's context
        self,
        account: str,
        sku: str,
        view: StockView,
        on_page: list[OfferListing],
        every: list[OfferListing],
        report: ReconcileReport,
        ended: dict[str, str | None],
        *,
        dry_run: bool = True,
    ) -> list[Push]:
        """The drifts of this SKU's offers on the page (into `report`) and the pushes that repair them."""
        page_ids = {o.id for o in on_page}
        kept, duplicates = _without_duplicates(account, view, every)
        pushes = _duplicates(account, sku, view, [o for o in duplicates if o.id in page_ids], report)
        # MISSING is said once per cycle: on the page of the SKU's first listed offer
        says_missing = min(o.id for o in every) in page_ids
        pushes += self._compare(
            account,
            sku,
            view,
            [o for o in kept if o.id in page_ids],
            {o.id for o in every} if says_missing else None,
            report,
            ended,
            dry_run=dry_run,
        )
        return pushes

    def _compare(  # noqa: PLR0917 - one SKU's context
        self,
        account: str,
        sku: str,
        view: StockView,
        offers: list[OfferListing],
        listed: set[str] | None,
        report: ReconcileReport,
        ended: dict[str, str | None],
        *,
        dry_run: bool,
    ) -> list[Push]:
        targets = {t.offer_id: t for t in view.offers}
        for linked in view.offers:
            if listed is not None and linked.account == account and linked.offer_id not in listed:
                report.drifts.append(
                    Drift(
                        account,
                        sku,
                        linked.offer_id,
                        DriftKind.MISSING,
                        None,
                        None,
                        _wanted(linked),
                        "none: archived or deleted on Allegro; the next stock rise asks the catalogue",
                    )
                )
        pushes: list[Push] = []
        for offer in offers:
            known = targets.get(offer.id)
            unlinked = known is None
            target = known or offer_target(OfferLink(offer.id, account), view.available)
            status = offer.publication.status if offer.publication else None
            stock = offer.stock.available if offer.stock else None
            ended_by = None
            if status == "ENDED" and target.action is OfferAction.SET:
                # The listing does not say who ended an offer; only the offer itself does (read once).
                if offer.id not in ended:
                    full = self.clients.client(account).get_product_offer(offer.id).publication
                    ended[offer.id] = full.ended_by if full else None
                ended_by = ended[offer.id]
            kind, push_kind = _drift(target, status, ended_by, stock)
            if (
                unlinked
                and kind is DriftKind.ENDED_WITH_STOCK
                and any(t.account == account for t in view.offers)
            ):
                continue  # a second offer that sold out (or a duplicate we ended): adopting it sells it again
            if unlinked:
                kind = DriftKind.UNLINKED
                if not dry_run:
                    view = self.ledger.link_offer(sku, offer.id, account).view
                    target = next(t for t in view.offers if t.offer_id == offer.id)
            if kind is None or push_kind is None or target.quantity is None:
                if unlinked:
                    report.drifts.append(
                        Drift(
                            account,
                            sku,
                            offer.id,
                            DriftKind.UNLINKED,
                            status,
                            stock,
                            _wanted(target),
                            "link it",
                        )
                    )
                continue
            reason = (
                f"reconciler: Allegro showed {status} with stock {stock}, "
                f"the ledger says {_wanted(target)} ({kind.value})"
            )
            report.drifts.append(
                Drift(
                    account,
                    sku,
                    offer.id,
                    kind,
                    status,
                    stock,
                    _wanted(target),
                    ("link it, " if unlinked else "") + _repair(push_kind, target),
                )
            )
            pushes.append(Push(sku, view.revision, offer.id, account, push_kind, target.quantity, reason))
        return pushes


LIVE = frozenset({"ACTIVE", "ACTIVATING", "INACTIVE"})


def _needs_every_offer(account: str, view: StockView, on_page: list[OfferListing]) -> bool:
    """True when the page may not hold all of the SKU's offers on `account`: a linked offer is not on it,
    or an offer on it is not linked (a duplicate or an unlinked offer may have company on another page)."""
    linked = {t.offer_id for t in view.offers if t.account == account}
    page_ids = {o.id for o in on_page}
    return bool(linked - page_ids) or bool(page_ids - linked)


def _without_duplicates(
    account: str, view: StockView, offers: list[OfferListing]
) -> tuple[list[OfferListing], list[OfferListing]]:
    """(the offers to compare, the live duplicates): one live offer per SKU x account stays."""
    live = [o for o in offers if (o.publication.status if o.publication else None) in LIVE]
    if len(live) < 2:
        return offers, []
    linked = {t.offer_id for t in view.offers if t.account == account}

    def rank(offer: OfferListing) -> tuple[bool, bool, int, str]:
        status = offer.publication.status if offer.publication else None
        return (offer.id not in linked, status not in SELLING, len(offer.id), offer.id)

    keep = min(live, key=rank)
    duplicates = [o for o in live if o is not keep]
    return [o for o in offers if o not in duplicates], duplicates


def _duplicates(
    account: str, sku: str, view: StockView, duplicates: list[OfferListing], report: ReconcileReport
) -> list[Push]:
    pushes: list[Push] = []
    for offer in duplicates:
        status = offer.publication.status if offer.publication else None
        stock = offer.stock.available if offer.stock else None
        selling = status in SELLING
        report.drifts.append(
            Drift(
                account,
                sku,
                offer.id,
                DriftKind.DUPLICATE,
                status,
                stock,
                "one offer per SKU",
                "PATCH stock 0 (ends the duplicate)" if selling else "none: a draft; delete it in Allegro",
            )
        )
        if selling:
            reason = f"reconciler: a second live offer for {sku} on {account} (DUPLICATE)"
            pushes.append(Push(sku, view.revision, offer.id, account, PushKind.END, 0, reason))
    return pushes


def _drift(
    target: OfferTarget, status: str | None, ended_by: str | None, stock: int | None
) -> tuple[DriftKind | None, PushKind | None]:
    if target.action is OfferAction.HOLD or target.quantity is None:
        return None, None  # unknown level: nothing to compare with
    if target.action is OfferAction.END:
        return (DriftKind.ACTIVE_AT_ZERO, PushKind.END) if status in SELLING else (None, None)
    if status == "ENDED":
        if ended_by == "EMPTY_STOCK":
            return DriftKind.ENDED_WITH_STOCK, PushKind.RESTOCK
        return None, None  # ended by the seller, Allegro's admin or expiry: their decision
    if status in SELLING and stock != target.quantity:
        return DriftKind.STOCK, PushKind.QUANTITY
    return None, None


def _wanted(target: OfferTarget) -> str:
    if target.action is OfferAction.HOLD:
        return "HOLD (unknown)"
    return f"{target.action.value} {target.quantity}"


def _repair(kind: PushKind, target: OfferTarget) -> str:
    if kind is PushKind.END:
        return "PATCH stock 0 (ends the offer)"
    if kind is PushKind.RESTOCK:
        return f"stock {target.quantity}, confirm, ACTIVATE"
    return f"set stock {target.quantity}"
