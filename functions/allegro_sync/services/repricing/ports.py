"""What a repricing round talks to: Allegro, its store, the catalogue, the competitor feed, the change log."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from allegro_sync.contracts.allegro import (
    Badge,
    FeePreview,
    Me,
    OfferCommandResult,
    OfferListing,
    OffersPage,
    PriceAutomationRule,
    PriceModification,
    PriceRange,
)
from allegro_sync.contracts.bulk import BulkModification, BulkResult
from allegro_sync.contracts.catalog import Change
from allegro_sync.contracts.repricing import OfferState, ProductFacts
from allegro_sync.domain.repricing import LinearFee, RepricingSettings
from allegro_sync.domain.repricing_feed import FeedResult


class RepricingAllegro(Protocol):
    """The Allegro operations a round uses; `AllegroClient` has them."""

    def me(self) -> Me: ...

    def iter_offers(self, *, statuses: Sequence[str] = ()) -> Iterator[OfferListing]: ...

    def list_offers(self, *, statuses: Sequence[str] = (), offset: int = 0, limit: int = 1000) -> OffersPage:
        """One page of the account's offers: a round pages with it so a run can stop and go on later."""
        ...

    def change_price(
        self, offer_ids: Iterable[str], modification: PriceModification
    ) -> list[OfferCommandResult]: ...

    def price_automation_rules(self) -> list[PriceAutomationRule]: ...

    def assign_price_automation(
        self, offer_ids: Iterable[str], rule_id: str, price_range: PriceRange
    ) -> list[OfferCommandResult]: ...

    def offer_fee_preview(self, body: Mapping[str, Any]) -> FeePreview: ...

    def bulk_modify(self, command_id: str, modifications: Sequence[BulkModification]) -> list[BulkResult]:
        """Each offer's own prices (every marketplace), 25 a command (issue 16, item 3)."""
        ...

    def campaign_badges(self) -> list[Badge]: ...


class RepricingStore(Protocol):
    def settings(self) -> list[RepricingSettings]: ...

    def offer_states(self, account: str) -> dict[str, OfferState]: ...

    def save_offer_state(self, account: str, offer_id: str, state: OfferState) -> None: ...

    def paused_until(self, account: str) -> tuple[datetime, str] | None: ...

    def pause(self, account: str, until: datetime, reason: str) -> None: ...

    def fee(self, category_id: str, band: int, now: datetime) -> LinearFee | None: ...

    def save_fee(self, category_id: str, band: int, fee: LinearFee, expires: datetime) -> None: ...

    def own_sellers(self) -> frozenset[str]: ...

    def offer_sku(self, offer_id: str) -> str | None: ...

    def record_seller(self, account: str, seller_id: str, login: str | None = None) -> None:
        """Our accounts' seller ids and logins: a feed row naming one of them is us, not a rival."""
        ...


class ProductFactsSource(Protocol):
    """Cost price, list price and EAN of a SKU on an account (the catalogue)."""

    def facts(self, sku: str, account: str) -> ProductFacts | None: ...

    def facts_many(self, skus: Sequence[str], account: str, *, stock: bool = True) -> dict[str, ProductFacts]:
        """The facts of many SKUs at once (a round reads its account's in batches); unknown SKUs absent.
        `stock=False`: without the ledger's stock (only the demand strategy uses it), one read fewer."""
        ...


class FeedSource(Protocol):
    url: str

    def load(self, *, known_skus: frozenset[str], ean_to_sku: Mapping[str, str]) -> FeedResult: ...


class ChangeLog(Protocol):
    def record(self, change: Change) -> None: ...

    def history(self, sku: str, *, limit: int = 100) -> list[Change]: ...
