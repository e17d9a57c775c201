"""What every part of publishing shares: the ports, the seller's settings, short-lived reads of mappings
and pricing rules, the change log and the clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from allegro_sync.contracts.allegro import CategoryParameter
from allegro_sync.contracts.allegro_requests import ProductSafety
from allegro_sync.contracts.catalog import Change, OfferLink, StoredMapping, category_label
from allegro_sync.contracts.messages import ProductUpsert, ShopEvent
from allegro_sync.domain.ledger import OfferAction
from allegro_sync.domain.parameters import AmbiguousMapping, choose_category
from allegro_sync.domain.pricing import PriceDecision, PricingError, PricingPolicy, price_for_allegro
from allegro_sync.services.catalog import CatalogRepository, ChangeLog, LinkWrites, MappingsRepository
from allegro_sync.services.publishing.gpsr import GpsrIds, GpsrResolver, Kind, ProducerDirectory, SafetyFiles
from allegro_sync.services.publishing.markets import (
    NONE,
    CurrencySource,
    MarketPrices,
    MarketRules,
    market_prices,
)
from allegro_sync.services.publishing.outcomes import Waiting
from allegro_sync.services.publishing.ports import Accounts, AllegroPort, StockChanges, StockLedgerPort
from allegro_sync.services.publishing.settings import OfferSettings
from allegro_sync.services.stock import StockResult

# How long a process reuses mappings and pricing rules: long enough for one batch, short enough that an
# approved mapping applies to the next webhook.
MAPPINGS_TTL_SECONDS = 5.0

PriceOwner = Callable[[str, str, str | None], bool]
"""(account, sku, Allegro category) -> True when a repricing rule owns the offer's Allegro price."""


@dataclass
class Context:
    """What a `Publisher` is built from. `ledger`: every stock level goes through it and its
    `stock_changes` hook (the propagator). `now`/`clock`: for tests."""

    catalog: CatalogRepository
    mappings: MappingsRepository
    changes: ChangeLog
    accounts: Accounts
    ledger: StockLedgerPort
    stock_changes: StockChanges
    settings: OfferSettings = field(default_factory=OfferSettings)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    clock: Callable[[], float] = time.monotonic
    # Category parameters change rarely; a warm Lambda keeps them (the handler passes a process cache).
    parameters: dict[str, list[CategoryParameter]] = field(default_factory=dict)
    # A repricing rule owns the price (services/repricing/): shop prices then only move the link's list
    # price (the repricer's ceiling).
    price_owner: PriceOwner | None = None
    # GPSR per product: the seller's brand -> producer mappings and the ids already on each account.
    producers: ProducerDirectory | None = None
    gpsr_ids: GpsrIds | None = None
    _gpsr_known: dict[tuple[str, Kind, str], str] = field(default_factory=dict)
    safety_files: SafetyFiles | None = None  # the shop's safety-information files (GPSR attachments)
    _read: dict[str, tuple[float, Any]] = field(default_factory=dict)
    # The ledger's latest answer while one event is handled (its shop level, then each offer linked), by
    # SKU: it stands in for a read of the same item; cleared after every event.
    ledger_answers: dict[str, StockResult] = field(default_factory=dict)
    # Which SQS delivery of the event being handled this is (1: the first, so no earlier attempt can have
    # created an offer); None when it did not come from the queue (republish, recreate).
    delivery: int | None = None
    # One link write carries the changes recorded while making it (`LinkWrites`); None: written apart.
    link_writes: LinkWrites | None = None
    # Changes recorded while one event is handled, written with its link (or at the event's end).
    deferred: list[Change] | None = None
    # The SKUs of the SQS batch being handled (`Publisher.batch`), whose links are looked up at once.
    batch_skus: frozenset[str] = frozenset()
    # What one SQS batch reads once (`Publisher.batch`); None outside a batch.
    batch_reads: dict[str, Any] | None = None
    # Issue 16, item 1: the seller's foreign-marketplace rules (`markets set`); None: allegro.pl only.
    market_rules: MarketRules | None = None
    marketplace_currencies: dict[str, str] = field(default_factory=dict)  # GET /marketplaces, per process
    # Issue 21 (writes): a new product's upsert whose shop level waits to be written with its first offer
    # link (one ledger write per imported offer), by SKU; `StockLevels.settle` writes what no link took.
    pending_levels: dict[str, ProductUpsert] = field(default_factory=dict)

    def client(self, account: str) -> AllegroPort:
        return self.accounts.client(account)

    def timestamp(self) -> str:
        return self.now().astimezone(UTC).isoformat()

    def record(
        self,
        account: str,
        event: ShopEvent,
        offer_id: str,
        action: str,
        changes: dict[str, dict[str, Any]],
        *,
        reason: str,
        rule: str = "",
    ) -> None:
        """One change made on Allegro, with its reason, in the change log (with the link it led to, when
        an event is being handled)."""
        self._record(
            Change(
                sku=event.sku,
                account=account,
                offer_id=offer_id,
                action=action,
                changes=changes,
                reason=f"{reason} (shop event {event.type} {event.delivery_id})",
                event_id=event.delivery_id,
                rule=rule,
                at=self.timestamp(),
            )
        )

    def connected_accounts(self) -> list[str]:
        """The accounts an event goes to: read once per SQS batch (`Publisher.batch`; an account connected
        meanwhile gets the next batch), else for every event."""
        if self.batch_reads is None:
            return self.accounts.connected()
        accounts: list[str] = self._cached("accounts", self.accounts.connected)
        return accounts

    def _record(self, change: Change) -> None:
        if self.deferred is not None and self.link_writes is not None:
            self.deferred.append(change)
        else:
            self.changes.record(change)

    def save_link(self, link: OfferLink) -> None:
        """The link, with the changes recorded since the last one in the same call."""
        if self.batch_reads is not None:
            self.batch_reads.get("absent", set()).discard((link.sku, link.account))
        pending, self.deferred = (self.deferred or []), ([] if self.deferred is not None else None)
        if self.link_writes is not None and pending:
            self.link_writes.save(link, pending)
        else:
            self.catalog.save_link(link)

    def flush_changes(self) -> None:
        """Whatever was recorded and not written with a link (the event failed after it): written now."""
        pending, self.deferred = (self.deferred or []), None
        for change in pending:
            self.changes.record(change)

    def link(self, sku: str, account: str) -> OfferLink | None:
        """The SKU's link on the account. In an SQS batch, the batch's links are looked up once: one that
        did not exist then is taken as still absent (the import's case: no read per new product); one that
        existed is read fresh, as another function may have changed it since."""
        if self.batch_reads is None or sku not in self.batch_skus:
            return self.catalog.link(sku, account)
        if "absent" not in self.batch_reads:
            keys = [(s, a) for s in sorted(self.batch_skus) for a in self.connected_accounts()]
            existing = self.catalog.existing_links(keys)
            self.batch_reads["absent"] = {k for k in keys if k not in existing}
        absent: set[tuple[str, str]] = self.batch_reads["absent"]
        return None if (sku, account) in absent else self.catalog.link(sku, account)

    def mapping_for(self, account: str, event: ProductUpsert) -> StoredMapping:
        """The approved category mapping for the product (the account's own wins over a shared one)."""
        stored: list[StoredMapping] = self._cached(
            f"mappings#{account}", lambda: self.mappings.category_mappings(account)
        )
        own = [m for m in stored if m.account == account]
        shared = [m for m in stored if m.account != account]
        label = category_label(event.category_path)
        try:
            chosen = choose_category(event.category_path, [m.mapping for m in own]) or choose_category(
                event.category_path, [m.mapping for m in shared]
            )
        except AmbiguousMapping as error:
            raise Waiting([f"{error}; keep one of them with `allegro-sync mappings set`"]) from error
        if chosen is None:
            raise Waiting(
                [f"no approved category mapping for {label!r}; run `allegro-sync mappings suggest`"]
            )
        return next(m for m in own + shared if m.mapping is chosen)

    def price_decision(
        self, account: str, mapping: StoredMapping | None, shop_price: Decimal
    ) -> PriceDecision:
        """The Allegro price for a shop price under the account's pricing rule for the category."""
        policy: PricingPolicy = self._cached(
            "pricing", lambda: PricingPolicy(rules=tuple(self.mappings.pricing_rules()))
        )
        path: Sequence[str] = ()
        if mapping is not None:
            path = mapping.category_path or (mapping.mapping.allegro_category_id,)
        try:
            return price_for_allegro(shop_price, policy.rule_for(account, path))
        except PricingError as error:
            raise Waiting([f"no valid Allegro price: {error}; fix the pricing rule"]) from error

    def repriced(self, account: str, sku: str, category_id: str | None) -> bool:
        return self.price_owner is not None and self.price_owner(account, sku, category_id)

    def category_parameters(self, client: AllegroPort, category_id: str) -> list[CategoryParameter]:
        if category_id not in self.parameters:
            self.parameters[category_id] = client.get_category_parameters(category_id)
        return self.parameters[category_id]

    def safety(self, client: AllegroPort, account: str, event: ProductUpsert) -> ProductSafety:
        """The product's producer, person and safety information on `account` (raises Waiting)."""
        resolver = GpsrResolver(
            self.settings,
            self.producers,
            self.gpsr_ids,
            self._cached,
            known=self._gpsr_known,
            files=self.safety_files,
        )
        return resolver.safety(client, account, event)

    def markets(
        self,
        client: CurrencySource,
        account: str,
        mapping: StoredMapping | None,
        sku: str,
        base: PriceDecision,
    ) -> MarketPrices:
        """The offer's prices on the additional marketplaces its rules name (raises Waiting)."""
        if self.market_rules is None:
            return NONE
        rules: list[Any] = self._cached("markets", self.market_rules.market_rules)
        if not rules:
            return NONE
        path: Sequence[str] = ()
        if mapping is not None:
            path = mapping.category_path or (mapping.mapping.allegro_category_id,)

        def known() -> dict[str, str]:
            if not self.marketplace_currencies:
                self.marketplace_currencies.update(client.marketplace_currencies())
            return self.marketplace_currencies

        return market_prices(rules, known, account=account, category_path=path, sku=sku, base=base)

    def ledger_quantity(self, sku: str, offer_id: str | None) -> int | None:
        """What the ledger lets this account's offer show (None: unknown, the offer is held inactive).
        The view this event's own ledger change answered is reused: no second read of the same item."""
        known = self.ledger_answers.get(sku)
        view = known.view if known is not None else self.ledger.view(sku)
        target = next((t for t in view.offers if t.offer_id == offer_id), None)
        if target is None:
            return view.available
        return None if target.action is OfferAction.HOLD else target.quantity

    def _cached(self, key: str, read: Callable[[], Any]) -> Any:
        """Mappings and pricing rules are read for every event and account; a batch shares one read (an
        SQS batch as a whole, else what falls within the TTL)."""
        if self.batch_reads is not None:
            if key not in self.batch_reads:
                self.batch_reads[key] = read()
            return self.batch_reads[key]
        now = self.clock()
        hit = self._read.get(key)
        if hit is None or now - hit[0] > MAPPINGS_TTL_SECONDS:
            hit = self._read[key] = (now, read())
        return hit[1]
