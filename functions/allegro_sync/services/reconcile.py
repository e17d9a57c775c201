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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from aws_lambda_powertools import Logger

from allegro_sync.contracts.allegro import OfferListing, ProductOffer
from allegro_sync.domain.ledger import OfferAction, OfferLink, OfferTarget, StockView, offer_target
from allegro_sync.services.propagation import PropagationReport, Propagator, Push, PushKind
from allegro_sync.services.stock import StockResult

logger = Logger(child=True)

SELLING = frozenset({"ACTIVE", "ACTIVATING"})


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


class OfferLister(Protocol):
    def iter_offers(
        self, *, external_ids: Sequence[str] = (), statuses: Sequence[str] = (), page_size: int = 1000
    ) -> Iterator[OfferListing]: ...

    def get_product_offer(self, offer_id: str) -> ProductOffer: ...


class ListerClients(Protocol):
    def client(self, account: str) -> OfferLister: ...


class LedgerLinks(Protocol):
    """`StockLedger`: the SKU's view and adopting an unlinked offer."""

    def view(self, sku: str) -> StockView: ...

    def link_offer(self, sku: str, offer_id: str, account: str, cap: int | None = None) -> StockResult: ...


class Reconciler:
    def __init__(
        self,
        *,
        ledger: LedgerLinks,
        clients: ListerClients,
        propagator: Propagator,
        accounts: Callable[[], list[str]],
    ) -> None:
        self._ledger = ledger
        self._clients = clients
        self._propagator = propagator
        self._accounts = accounts

    def run(self, *, account: str | None = None, dry_run: bool = False) -> ReconcileReport:
        report = ReconcileReport(dry_run=dry_run)
        names = self._accounts()
        if account is not None:
            if account not in names:
                raise LookupError(
                    f"account {account!r} is not connected (connected: {', '.join(names) or 'none'})"
                )
            names = [account]
        for name in names:
            report.accounts.append(name)
            try:
                self._account(name, report, dry_run=dry_run)
            except Exception as error:
                report.failed[name] = f"{type(error).__name__}: {error}"
                logger.warning("reconciling an account failed", extra={"account": name, "error": str(error)})
        return report

    def _account(self, account: str, report: ReconcileReport, *, dry_run: bool) -> None:
        by_sku: dict[str, list[OfferListing]] = defaultdict(list)
        for offer in self._clients.client(account).iter_offers():
            report.offers_seen += 1
            sku = offer.external.id if offer.external else None
            if sku:
                by_sku[sku].append(offer)
        pushes: list[Push] = []
        for sku, offers in sorted(by_sku.items()):
            view = self._ledger.view(sku)
            if view.revision == 0:
                continue  # a SKU the ledger never heard of: not ours to judge
            kept, duplicates = _without_duplicates(account, view, offers)
            pushes.extend(_duplicates(account, sku, view, duplicates, report))
            pushes.extend(self._compare(account, sku, view, kept, report, dry_run=dry_run))
        if dry_run or not pushes:
            return
        applied = self._propagator.apply(pushes, PropagationReport())
        report.repaired.extend(p.offer_id for p in applied.pushed)
        report.failed.update(applied.failed)

    def _compare(
        self,
        account: str,
        sku: str,
        view: StockView,
        offers: list[OfferListing],
        report: ReconcileReport,
        *,
        dry_run: bool,
    ) -> list[Push]:
        targets = {t.offer_id: t for t in view.offers}
        listed = {o.id for o in offers}
        for linked in view.offers:
            if linked.account == account and linked.offer_id not in listed:
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
                # The listing does not say who ended an offer; only the offer itself does.
                full = self._clients.client(account).get_product_offer(offer.id).publication
                ended_by = full.ended_by if full else None
            kind, push_kind = _drift(target, status, ended_by, stock)
            if unlinked:
                kind = DriftKind.UNLINKED
                if not dry_run:
                    view = self._ledger.link_offer(sku, offer.id, account).view
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
