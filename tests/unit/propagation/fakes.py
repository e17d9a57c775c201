"""Fakes for propagation and reconciliation: an Allegro that keeps offer state and counts calls.

`FakeStockAllegro` follows the rules the propagator depends on: PATCH stock 0 ends an ACTIVE offer
(EMPTY_STOCK), a quantity command cannot set 0 and fails per offer for unknown/archived offers, ACTIVATE
needs stock >= 1, an archived offer answers 404. `stale_reads` makes reads lag one write behind, to prove
an activation never goes out before the stock is confirmed (#10251).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from allegro_sync.contracts.allegro import (
    ExternalId,
    ListingStock,
    OfferCommandResult,
    OfferListing,
    OfferPublication,
    OffersPage,
    OfferStock,
    ProductOffer,
)
from allegro_sync.contracts.allegro_errors import AllegroNotFound, AllegroUnavailable, InvalidCommand
from allegro_sync.contracts.bulk import BulkModification, BulkResult
from allegro_sync.contracts.catalog import Change
from allegro_sync.contracts.messages import StockChanged
from allegro_sync.contracts.stock import PushRecord
from allegro_sync.services.propagation import PropagationReport, Propagator
from allegro_sync.services.stock import StockLedger
from tests.fixtures.changes import FakeChangeLog
from tests.fixtures.ledger import InMemoryLedgerRepository


@dataclass
class FakeOffer:
    stock: int
    status: str = "ACTIVE"
    ended_by: str | None = None
    archived: bool = False
    sku: str | None = None


@dataclass
class FakeStockAllegro:
    offers: dict[str, FakeOffer] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    stale_reads: bool = False
    bulk_results: dict[str, list[BulkResult]] = field(default_factory=dict)
    lose_next_bulk_answer: bool = False  # the command runs, its answer never arrives
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _live(self, offer_id: str) -> FakeOffer:
        offer = self.offers.get(offer_id)
        if offer is None or offer.archived:
            raise AllegroNotFound(404, [], method="GET", path=f"/sale/product-offers/{offer_id}")
        return offer

    def _view(self, offer_id: str, offer: FakeOffer, stock: int | None = None) -> ProductOffer:
        return ProductOffer(
            id=offer_id,
            stock=OfferStock(available=offer.stock if stock is None else stock),
            publication=OfferPublication(status=offer.status, ended_by=offer.ended_by),
        )

    def patch_product_offer(
        self, offer_id: str, body: Mapping[str, Any], *, wait: bool = True
    ) -> ProductOffer:
        self.calls.append(("patch", (offer_id, dict(body))))
        offer = self._live(offer_id)
        before = offer.stock
        offer.stock = int(body["stock"]["available"])
        if offer.stock == 0 and offer.status == "ACTIVE":
            offer.status, offer.ended_by = "ENDED", "EMPTY_STOCK"
        return self._view(offer_id, offer, before if self.stale_reads else None)

    def get_product_offer(self, offer_id: str) -> ProductOffer:
        self.calls.append(("get", offer_id))
        offer = self._live(offer_id)
        return self._view(offer_id, offer)

    def change_quantity(
        self, offer_ids: Iterable[str], change_type: Literal["FIXED", "GAIN"], value: int
    ) -> list[OfferCommandResult]:
        ids = list(offer_ids)
        if change_type == "FIXED" and value < 1:
            raise InvalidCommand("a quantity command cannot set 0")
        self.calls.append(("quantity", (tuple(ids), value)))
        results = []
        for offer_id in ids:
            offer = self.offers.get(offer_id)
            if offer is None or offer.archived:
                results.append(
                    OfferCommandResult(offer_id=offer_id, status="FAIL", message="not found", command_id="c")
                )
                continue
            offer.stock = value
            results.append(OfferCommandResult(offer_id=offer_id, status="SUCCESS", command_id="c"))
        return results

    def bulk_modify(self, command_id: str, modifications: Sequence[BulkModification]) -> list[BulkResult]:
        """Each offer its own stock; a repeated command id (a redelivery) only reads the first's results."""
        if command_id in self.bulk_results:
            return self.bulk_results[command_id]
        self.calls.append(
            ("bulk", tuple((m.offer_id, m.stock.value if m.stock else None) for m in modifications))
        )
        results = []
        for m in modifications:
            assert m.stock is not None
            assert m.stock.value > 0, "a bulk FIXED stock must be > 0"
            offer = self.offers.get(m.offer_id)
            ok = offer is not None and not offer.archived
            if offer is not None and ok:
                offer.stock = m.stock.value
            status: Literal["SUCCESS", "FAIL"] = "SUCCESS" if ok else "FAIL"
            results.append(
                BulkResult(offer_id=m.offer_id, field="stock", status=status, command_id=command_id)
            )
        self.bulk_results[command_id] = results
        if self.lose_next_bulk_answer:
            self.lose_next_bulk_answer = False
            raise AllegroUnavailable(
                "Allegro unreachable: POST /sale/offer-bulk-modification-commands timed out"
            )
        return results

    def change_publication(
        self, offer_ids: Iterable[str], action: Literal["ACTIVATE", "END"]
    ) -> list[OfferCommandResult]:
        ids = list(offer_ids)
        self.calls.append(("publication", (tuple(ids), action)))
        results = []
        for offer_id in ids:
            offer = self._live(offer_id)
            if action == "ACTIVATE" and offer.stock < 1:
                results.append(
                    OfferCommandResult(offer_id=offer_id, status="FAIL", message="stock 0", command_id="p")
                )
                continue
            offer.status, offer.ended_by = ("ACTIVE", None) if action == "ACTIVATE" else ("ENDED", "USER")
            results.append(OfferCommandResult(offer_id=offer_id, status="SUCCESS", command_id="p"))
        return results

    def iter_offers(
        self, *, external_ids: Sequence[str] = (), statuses: Sequence[str] = (), page_size: int = 1000
    ) -> Iterator[OfferListing]:
        self.calls.append(("list", None))
        yield from (
            o for o in self._listed() if not external_ids or (o.external and o.external.id in external_ids)
        )

    def list_offers(self, *, offer_ids: Sequence[str] = (), offset: int = 0, limit: int = 1000) -> OffersPage:
        self.calls.append(("list", None))
        listed = [o for o in self._listed() if not offer_ids or o.id in offer_ids]
        return OffersPage(offers=listed[offset : offset + limit], count=limit, total_count=len(listed))

    def _listed(self) -> list[OfferListing]:
        return [
            OfferListing(
                id=offer_id,
                external=ExternalId(id=offer.sku),
                stock=ListingStock(available=offer.stock),
                publication=OfferPublication(status=offer.status),  # GET /sale/offers has no endedBy
            )
            for offer_id, offer in sorted(self.offers.items())
            if not offer.archived
        ]

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def writes(self) -> list[str]:
        return [name for name, _ in self.calls if name not in {"get", "list"}]


class FakeClients:
    def __init__(self, **accounts: FakeStockAllegro) -> None:
        self.accounts = accounts

    def client(self, account: str) -> FakeStockAllegro:
        return self.accounts[account]


class FakePushLog:
    """Pushed records; the changes kept with them land in `changes`, as `ChangeLog.history` shows them."""

    def __init__(self, changes: FakeChangeLog | None = None) -> None:
        self.records: dict[tuple[str, str], PushRecord] = {}
        self.changes = changes if changes is not None else FakeChangeLog()

    def pushed(self, sku: str) -> Mapping[str, PushRecord]:
        return {offer: r for (s, offer), r in self.records.items() if s == sku}

    def record(self, sku: str, offer_id: str, record: PushRecord, changes: Sequence[Change] = ()) -> bool:
        held = self.records.get((sku, offer_id))
        if held is not None and held.revision >= record.revision:
            return False
        self.records[(sku, offer_id)] = record
        for change in changes:
            self.changes.record(change)
        return True


class FakeArchived:
    """The catalogue's republish: answers a new offer id (or None: only marked for re-publication)."""

    def __init__(self, allegro: FakeStockAllegro, new_id: str | None = "NEW-1") -> None:
        self.allegro = allegro
        self.new_id = new_id
        self.asked: list[tuple[str, str, str]] = []

    def recreate(self, sku: str, account: str, offer_id: str) -> str | None:
        self.asked.append((sku, account, offer_id))
        if self.new_id is not None:  # created ACTIVE with the shop's level, before sales were subtracted
            self.allegro.offers[self.new_id] = FakeOffer(stock=9, sku=sku)
        return self.new_id


T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class World:
    def __init__(self, main: FakeStockAllegro | None = None) -> None:
        self.ledger = StockLedger(InMemoryLedgerRepository(), sleep=lambda _: None)
        self.main = main or FakeStockAllegro()
        self.second = FakeStockAllegro()
        self.changes = FakeChangeLog()
        self.pushes = FakePushLog(self.changes)
        self.archived = FakeArchived(self.main)
        self.propagator = Propagator(
            views=self.ledger,
            pushed=self.pushes,
            clients=FakeClients(main=self.main, second=self.second),
            changes=self.changes,
            archived=self.archived,
            now=lambda: T0,
        )
        self._minute = 0

    def offer(self, sku: str, offer_id: str, account: str = "main", stock: int = 5, **kw: object) -> None:
        allegro = self.main if account == "main" else self.second
        allegro.offers[offer_id] = FakeOffer(stock=stock, sku=sku, **kw)  # type: ignore[arg-type]
        self.ledger.link_offer(sku, offer_id, account)

    def level(self, sku: str, quantity: int | None) -> StockChanged:
        self._minute += 1
        result = self.ledger.apply_shop_level(sku, quantity, T0 + timedelta(minutes=self._minute))
        return StockChanged(sku=sku, revision=result.view.revision)

    def run(self, *signals: StockChanged) -> PropagationReport:
        return self.propagator.propagate(signals)
