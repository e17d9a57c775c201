"""In-memory doubles of the order flow's ports, with the same conditions as the DynamoDB adapters."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from allegro_sync.contracts.allegro import CheckoutForm, LatestOrderEvent, OrderEvent, OrderEventStats
from allegro_sync.contracts.messages import OrderChanged, OrderNotice, StockChanged
from allegro_sync.contracts.orders import CursorLost, CursorState, OrderConflict
from allegro_sync.domain.orders import BuyerDetails, LineOwner, OrderRecord


@dataclass
class _Cursor:
    started: bool = False
    event_id: str | None = None
    seq: int = 0
    owner: str | None = None
    lease_until: float = 0.0
    started_at: float | None = None


class MemoryCursors:
    def __init__(self) -> None:
        self.items: dict[str, _Cursor] = {}
        self.watermarks: dict[str, datetime] = {}
        self.history: dict[str, list[str]] = {}

    def _state(self, account: str) -> CursorState:
        c = self.items[account]
        return CursorState(account, c.started, c.event_id, c.seq, c.started_at)

    def claim(self, account: str, owner: str, now: float, lease_seconds: float) -> CursorState | None:
        c = self.items.setdefault(account, _Cursor())
        if c.owner not in (None, owner) and c.lease_until >= now:
            return None
        c.owner, c.lease_until = owner, now + lease_seconds
        return self._state(account)

    def _guard(self, account: str, owner: str, now: float) -> _Cursor:
        c = self.items.get(account)
        if c is None or c.owner != owner or c.lease_until < now:
            raise CursorLost(account)
        return c

    def start(
        self, account: str, owner: str, event_id: str | None, now: float, lease_seconds: float
    ) -> CursorState:
        c = self._guard(account, owner, now)
        if c.started:
            raise CursorLost(account)
        c.started, c.event_id, c.seq, c.lease_until = True, event_id, 0, now + lease_seconds
        c.started_at = now
        return self._state(account)

    def advance(
        self, account: str, owner: str, *, expected_seq: int, event_id: str, now: float, lease_seconds: float
    ) -> CursorState:
        c = self._guard(account, owner, now)
        if c.seq != expected_seq:
            raise CursorLost(account)
        c.event_id, c.seq, c.lease_until = event_id, c.seq + 1, now + lease_seconds
        self.history.setdefault(account, []).append(event_id)
        return self._state(account)

    def release(self, account: str, owner: str) -> None:
        c = self.items.get(account)
        if c is not None and c.owner == owner:
            c.lease_until = 0.0

    def read(self, account: str) -> CursorState | None:
        return self._state(account) if account in self.items else None

    def gap_watermark(self, account: str) -> datetime | None:
        return self.watermarks.get(account)

    def set_gap_watermark(self, account: str, value: datetime) -> None:
        held = self.watermarks.get(account)
        if held is None or value > held:
            self.watermarks[account] = value


class MemoryQueue:
    """A FIFO queue that, like SQS, drops a repeated de-duplication id."""

    def __init__(self) -> None:
        self.sent: list[OrderNotice] = []
        self.dedup_ids: set[str] = set()
        self.fail_next = False

    def publish(self, notices: Sequence[OrderNotice]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("SQS unavailable")
        for n in notices:
            if n.deduplication_id not in self.dedup_ids:
                self.dedup_ids.add(n.deduplication_id)
                self.sent.append(n)


class FakeEvents:
    """`OrderEventsApi` over a list of events; `fail` raises the given error on the next call."""

    def __init__(self, events: list[OrderEvent] | None = None) -> None:
        self.events = events or []
        self.fail: Exception | None = None
        self.calls: list[str | None] = []

    def order_events(
        self, from_id: str | None = None, *, limit: int = 100, types: Sequence[str] = ()
    ) -> list[OrderEvent]:
        self.calls.append(from_id)
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        after = [e for e in self.events if from_id is None or int(e.id) > int(from_id)]
        return after[:limit]

    def order_event_stats(self) -> OrderEventStats:
        if not self.events:
            return OrderEventStats()
        return OrderEventStats(latest_event=LatestOrderEvent(id=self.events[-1].id))


def event(event_id: int, form_id: str, kind: str = "BOUGHT") -> OrderEvent:
    return OrderEvent.model_validate(
        {
            "id": str(event_id),
            "type": kind,
            "occurredAt": "2026-11-27T20:00:00.000Z",
            "order": {"checkoutForm": {"id": form_id, "revision": f"r{event_id}"}},
        }
    )


def form(
    form_id: str,
    status: str,
    lines: Sequence[tuple[str, str, str | None, int]],
    *,
    revision: str = "r1",
    updated_at: str = "2026-11-27T20:00:00.000Z",
) -> CheckoutForm:
    """lines: (line id, offer id, external id or None, quantity)."""
    items: list[dict[str, Any]] = [
        {
            "id": line_id,
            "offer": {"id": offer, **({"external": {"id": ext}} if ext is not None else {})},
            "quantity": qty,
            "price": {"amount": "49.99", "currency": "PLN"},
            "boughtAt": "2026-11-27T19:59:00.000Z",
        }
        for line_id, offer, ext, qty in lines
    ]
    return CheckoutForm.model_validate(
        {
            "id": form_id,
            "status": status,
            "lineItems": items,
            "revision": revision,
            "updatedAt": updated_at,
            "buyer": {"login": "kupujacy"},
        }
    )


class FakeForms:
    def __init__(self, forms: list[CheckoutForm]) -> None:
        self.forms = forms
        self.since: list[str | None] = []

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm:
        return next(f for f in self.forms if f.id == checkout_form_id)

    def iter_checkout_forms(
        self, *, status: str | None = None, updated_at_gte: str | None = None, max_pages: int = 50
    ) -> Iterator[CheckoutForm]:
        self.since.append(updated_at_gte)
        yield from (f for f in self.forms if updated_at_gte is None or (f.updated_at or "") >= updated_at_gte)


class Crash(Exception):
    pass


@dataclass
class MemoryOrders:
    records: dict[str, OrderRecord] = field(default_factory=dict)
    crash_before_save: bool = False
    owners: dict[str, LineOwner] = field(default_factory=dict)

    def line_owners(self, line_item_ids: list[str]) -> dict[str, LineOwner]:
        return {i: self.owners[i] for i in line_item_ids if i in self.owners}

    def set_line_owners(self, checkout_form_id: str, sale_ids: dict[str, str]) -> None:
        self.owners.update({i: LineOwner(checkout_form_id, s) for i, s in sale_ids.items()})

    def get(self, checkout_form_id: str) -> OrderRecord | None:
        return self.records.get(checkout_form_id)

    def get_many(self, checkout_form_ids: Sequence[str]) -> dict[str, OrderRecord]:
        return {i: self.records[i] for i in checkout_form_ids if i in self.records}

    def save(self, record: OrderRecord, expected_version: int) -> None:
        if self.crash_before_save:
            self.crash_before_save = False
            raise Crash("died before saving the order record")
        held = self.records.get(record.checkout_form_id)
        if (held.version if held else 0) != expected_version:
            raise OrderConflict(record.checkout_form_id)
        self.records[record.checkout_form_id] = replace(record)

    def mark_published(self, checkout_form_id: str, version: int) -> None:
        held = self.records.get(checkout_form_id)
        if held is not None and held.version == version:
            self.records[checkout_form_id] = replace(held, published=True)


@dataclass
class MemoryOutbox:
    orders: list[OrderChanged] = field(default_factory=list)
    stock: list[StockChanged] = field(default_factory=list)
    crash_before_order: bool = False

    def publish_order(self, message: OrderChanged) -> None:
        if self.crash_before_order:
            self.crash_before_order = False
            raise Crash("died before sending the order message")
        self.orders.append(message)

    def publish(self, messages: Sequence[StockChanged]) -> None:
        self.stock.extend(messages)


@dataclass
class MemoryBuyers:
    """The buyer data store of the order worker, the shop notifier and `buyers forget`, in memory."""

    stored: dict[str, BuyerDetails] = field(default_factory=dict)
    now: float = 0.0

    def keep(self, details: BuyerDetails) -> None:
        self.stored[details.checkout_form_id] = details

    def read(self, checkout_form_id: str) -> BuyerDetails | None:
        details = self.stored.get(checkout_form_id)
        return details if details is not None and details.expires_at > self.now else None

    def everyone(self) -> list[BuyerDetails]:
        return list(self.stored.values())

    def erase(self, checkout_form_id: str) -> None:
        self.stored.pop(checkout_form_id, None)


@dataclass
class MemoryLinks:
    links: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def skus_for_offer(self, account: str, offer_id: str) -> list[str]:
        return list(self.links.get((account, offer_id), []))
