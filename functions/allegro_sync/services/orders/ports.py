"""The order flow's ports: what the poller, the gap scan and the import need from the world."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from allegro_sync.contracts.allegro import (
    CheckoutForm,
    OrderEvent,
    OrderEventStats,
)
from allegro_sync.contracts.messages import OrderChanged, OrderNotice, StockChanged
from allegro_sync.contracts.orders import CursorState
from allegro_sync.domain.ledger import Sale
from allegro_sync.domain.orders import BuyerDetails, LineOwner, OrderRecord
from allegro_sync.services.stock import StockResult

EVENTS_PAGE = 1000


# ---- ports ----------------------------------------------------------------------------------------------


class OrderEventsApi(Protocol):
    """The part of the Allegro client the poller uses (one seller account)."""

    def order_events(
        self, from_id: str | None = None, *, limit: int = 100, types: Sequence[str] = ()
    ) -> list[OrderEvent]: ...

    def order_event_stats(self) -> OrderEventStats: ...


class CheckoutFormsApi(Protocol):
    """The part of the Allegro client the gap scan and the worker use."""

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm: ...

    def iter_checkout_forms(
        self, *, status: str | None = None, updated_at_gte: str | None = None, max_pages: int = 50
    ) -> Iterator[CheckoutForm]: ...


class CursorStore(Protocol):
    def claim(self, account: str, owner: str, now: float, lease_seconds: float) -> CursorState | None:
        """Take the account's polling lease; None while another run holds an unexpired one."""
        ...

    def start(
        self, account: str, owner: str, event_id: str | None, now: float, lease_seconds: float
    ) -> CursorState:
        """Set the first position (only if none was ever set, and only by the lease holder)."""
        ...

    def advance(
        self, account: str, owner: str, *, expected_seq: int, event_id: str, now: float, lease_seconds: float
    ) -> CursorState:
        """Move to `event_id` if the cursor is still at `expected_seq` and we hold the lease."""
        ...

    def release(self, account: str, owner: str) -> None: ...

    def read(self, account: str) -> CursorState | None: ...

    def gap_watermark(self, account: str) -> datetime | None: ...

    def set_gap_watermark(self, account: str, value: datetime) -> None:
        """Only forward: an older value than the stored one changes nothing."""
        ...


class PollChainStore(Protocol):
    """The one live poll-tick chain's heartbeat (services/orders/ticks.py)."""

    def seed(self, chain: str, now: float, lease_seconds: float) -> bool:
        """Name `chain` the live one if no chain beat within its lease; False while one is alive."""
        ...

    def beat(self, chain: str, seq: int, tick_id: str, now: float, lease_seconds: float) -> bool:
        """Renew the heartbeat if `chain` is the live one and `seq` its next tick (or this very tick,
        `tick_id`, retried); False once another chain replaced it or another tick took this `seq`."""
        ...

    def forget(self, chain: str) -> None:
        """Expire `chain`'s heartbeat at once (its first tick could not be sent)."""
        ...


class TickQueue(Protocol):
    def send(self, chain: str, seq: int, delay_seconds: int) -> None: ...


class OrderQueue(Protocol):
    def publish(self, notices: Sequence[OrderNotice]) -> None: ...


class OrderRepository(Protocol):
    def get(self, checkout_form_id: str) -> OrderRecord | None: ...

    def get_many(self, checkout_form_ids: Sequence[str]) -> dict[str, OrderRecord]:
        """The stored ones among these forms, in one batched read (the gap scan's page)."""
        ...

    def save(self, record: OrderRecord, expected_version: int) -> None:
        """Write if the stored version is `expected_version` (0: no record yet), else OrderConflict."""
        ...

    def mark_published(self, checkout_form_id: str, version: int) -> None:
        """The outbox message of the record's `version` was sent; nothing when the record moved on."""
        ...

    def line_owners(self, line_item_ids: list[str]) -> dict[str, LineOwner]:
        """The form each line item was last recorded on (absent: never recorded)."""
        ...

    def set_line_owners(self, checkout_form_id: str, sale_ids: dict[str, str]) -> None:
        """Record that the form carries these line items (line item id -> sale id)."""
        ...


class StockPort(Protocol):
    """The stock ledger use cases the import needs (`services.stock.StockLedger`)."""

    def apply_sale(self, sale: Sale) -> StockResult: ...

    def apply_cancellation(self, sku: str, sale_id: str, cancelled_at: datetime) -> StockResult: ...


class ShopOutbox(Protocol):
    def publish_order(self, message: OrderChanged) -> None: ...


class BuyerDataStore(Protocol):
    """Where the buyer's personal data waits for the shop notifier, instead of in the queue message."""

    def keep(self, details: BuyerDetails) -> None:
        """Store (or replace) the form's buyer data; idempotent."""
        ...


class StockChangeHook(Protocol):
    def publish(self, messages: Sequence[StockChanged]) -> None: ...


class OfferLinks(Protocol):
    def skus_for_offer(self, account: str, offer_id: str) -> list[str]:
        """The SKUs the catalogue links to `offer_id` on `account` (normally zero or one)."""
        ...


# ---- the poller -----------------------------------------------------------------------------------------
