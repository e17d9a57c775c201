"""A simulated world hammers the stock use cases; the ledger must match an independent model at every step.

The world: a shop with its own stock count, clock and stock version; Allegro buyers on two accounts; queues
that deliver order events, shop acknowledgements and shop webhooks in any order, duplicated, and with the
worker crashing before or after its commit (the message then comes back). Checked after every step:

- exactness: what the ledger says is available equals the model's "newest shop level minus every sale the
  ledger processed, not cancelled, and not yet reflected in that level" — so a sale applied twice, lost, or a
  cancellation given back twice shows up at once;
- safety: available never exceeds the real sellable stock plus what the ledger could not know yet (Allegro
  sales whose event was not processed, shop-side sales after the newest level it holds) — so a stale webhook
  never resurrects sold stock;
- unknown: a level the shop could not read holds every offer (never 0, never plenty).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from allegro_sync.domain.ledger import LedgerPolicy, OfferAction, Sale
from allegro_sync.services.stock import LedgerRepository, StockLedger
from tests.fixtures.ledger import Crash, InMemoryLedgerRepository, SimulatedCrash

T = TypeVar("T")

SKU = "SKU-1"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
crashes = st.sampled_from([None, None, "before", "after"])


class CrashableRepository(LedgerRepository, Protocol):
    """A ledger repository that dies around its next commit when told to (see tests.fixtures.ledger)."""

    next_crash: Crash | None


@dataclass
class Snapshot:
    quantity: int | None
    t: int
    version: int


@dataclass
class WorldSale:
    sale: Sale
    cancelled: bool = False  # the buyer cancelled on Allegro: the item is sellable again
    in_shop: bool = False  # the shop applied the sale to its stock
    cancel_in_shop: bool = False  # the shop applied the cancellation (gave the item back)
    ack: tuple[int, int] | None = None  # (shop time, stock version) when the shop applied it


@dataclass
class Model:
    """What the ledger has been told, successfully, so far."""

    held: Snapshot | None = None
    processed_sales: set[str] = field(default_factory=set)
    processed_cancels: set[str] = field(default_factory=set)
    acked: dict[str, tuple[int, int]] = field(default_factory=dict)
    buffer: int = 0


class LedgerWorld(RuleBasedStateMachine):
    use_versions = True  # the timestamp-only variant below turns versions off
    skew_seconds = 0  # the shop may report its acknowledgement times up to this much early

    def __init__(self) -> None:
        super().__init__()
        self.repo = self.make_repository()
        policy = LedgerPolicy(clock_skew=timedelta(seconds=self.skew_seconds))
        self.stock = StockLedger(self.repo, policy, sleep=lambda _: None)
        self.clock = 0
        self.shop_stock = 0
        self.shop_version = 0
        self.true_sellable = 0
        self.local_sales: list[tuple[int, int]] = []  # (shop time, quantity) of sales in the shop itself
        self.sales: dict[str, WorldSale] = {}
        self.order_events: list[tuple[str, str]] = []  # ("sale" | "cancel", sale id)
        self.acks: list[str] = []
        self.webhooks: list[Snapshot] = []
        self.model = Model()

    def make_repository(self) -> CrashableRepository:
        return InMemoryLedgerRepository()

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def at(self, t: int) -> datetime:
        return T0 + timedelta(seconds=t)

    def snapshot(self, known: bool = True, now: bool = False) -> None:
        """The shop's webhook: queued, or (`now`) delivered at once, as a healthy webhook path does."""
        snap = Snapshot(self.shop_stock if known else None, self.tick(), self.shop_version)
        if now:
            self.deliver_webhook(snap, crash=None)
        else:
            self.webhooks.append(snap)

    def deliver_webhook(self, snap: Snapshot, crash: Crash | None) -> None:
        version = snap.version if self.use_versions else None
        done = self.run(
            crash, lambda: self.stock.apply_shop_level(SKU, snap.quantity, self.at(snap.t), version)
        )
        held = self.model.held
        if done and (held is None or (snap.t, snap.version) > (held.t, held.version)):
            self.model.held = snap

    def run(self, crash: Crash | None, call: object) -> bool:
        """Run one worker step; False when it crashed before its commit (nothing happened)."""
        self.repo.next_crash = crash
        with contextlib.suppress(SimulatedCrash):
            call()  # type: ignore[operator]
        self.repo.next_crash = None
        return crash != "before"

    # --- the shop ---------------------------------------------------------------------------------------

    @initialize(start=st.integers(0, 8))
    def open_shop(self, start: int) -> None:
        self.shop_stock = self.true_sellable = start
        self.shop_version = 1
        self.snapshot()
        for offer, account, cap in (("A", "main", None), ("B", "second", 2)):
            self.stock.link_offer(SKU, offer, account, cap)

    @rule(quantity=st.integers(1, 5), now=st.booleans())
    def supplier_restocks(self, quantity: int, now: bool) -> None:
        self.shop_stock += quantity
        self.true_sellable += quantity
        self.shop_version += 1
        self.snapshot(now=now)

    @rule(quantity=st.integers(1, 3), now=st.booleans())
    def shop_sells_itself(self, quantity: int, now: bool) -> None:
        t = self.tick()
        self.shop_stock -= quantity
        self.true_sellable -= quantity
        self.shop_version += 1
        self.local_sales.append((t, quantity))
        self.snapshot(now=now)

    @rule(now=st.booleans())
    def shop_cannot_read_its_stock(self, now: bool) -> None:
        self.snapshot(known=False, now=now)

    @rule(data=st.data())
    @precondition(
        lambda self: any(
            s.sale.sale_id in self.model.processed_sales and not s.in_shop for s in self.sales.values()
        )
    )
    def shop_applies_a_sale(self, data: st.DataObject) -> None:
        """The shop adapter delivered a sale the ledger processed; the shop takes it off its stock."""
        pending = sorted(
            sid for sid, s in self.sales.items() if sid in self.model.processed_sales and not s.in_shop
        )
        self.apply_in_shop(data, data.draw(st.sampled_from(pending)))

    def apply_in_shop(self, data: st.DataObject, sale_id: str) -> None:
        world = self.sales[sale_id]
        world.in_shop = True
        self.shop_stock -= world.sale.quantity
        self.shop_version += 1
        early = data.draw(st.integers(0, self.skew_seconds))
        world.ack = (self.tick() - early, self.shop_version)
        self.acks.append(sale_id)
        self.snapshot()

    @rule(data=st.data())
    @precondition(
        lambda self: any(s.cancelled and s.in_shop and not s.cancel_in_shop for s in self.sales.values())
    )
    def shop_applies_a_cancellation(self, data: st.DataObject) -> None:
        pending = sorted(
            sid for sid, s in self.sales.items() if s.cancelled and s.in_shop and not s.cancel_in_shop
        )
        world = self.sales[data.draw(st.sampled_from(pending))]
        world.cancel_in_shop = True
        self.shop_stock += world.sale.quantity
        self.shop_version += 1
        self.snapshot()

    # --- Allegro ------------------------------------------------------------------------------------------

    @rule(quantity=st.integers(1, 3), account=st.sampled_from(["main", "second"]))
    def buyer_buys_on_allegro(self, quantity: int, account: str) -> None:
        sale_id = f"cf-{len(self.sales)}:li-1"
        t = self.tick()
        self.sales[sale_id] = WorldSale(Sale(sale_id, SKU, quantity, self.at(t), account))
        self.true_sellable -= quantity
        self.order_events.append(("sale", sale_id))

    @rule(data=st.data(), quantity=st.integers(1, 3), account=st.sampled_from(["main", "second"]))
    def sale_flows_straight_through(self, data: st.DataObject, quantity: int, account: str) -> None:
        """The healthy path in one step: bought, imported, applied in the shop, acknowledged."""
        self.buyer_buys_on_allegro(quantity, account)
        sale_id = f"cf-{len(self.sales) - 1}:li-1"
        self.order_events.remove(("sale", sale_id))
        self.stock.apply_sale(self.sales[sale_id].sale)
        self.model.processed_sales.add(sale_id)
        self.apply_in_shop(data, sale_id)
        self.acks.remove(sale_id)
        self.deliver_ack(sale_id, crash=None)

    @rule(data=st.data())
    @precondition(lambda self: any(not s.cancelled for s in self.sales.values()))
    def buyer_cancels_on_allegro(self, data: st.DataObject) -> None:
        world = self.sales[
            data.draw(st.sampled_from(sorted(k for k, s in self.sales.items() if not s.cancelled)))
        ]
        world.cancelled = True
        self.true_sellable += world.sale.quantity
        self.tick()
        self.order_events.append(("cancel", world.sale.sale_id))

    # --- the workers: any order, duplicates, crashes --------------------------------------------------------

    @staticmethod
    def deliver_one(
        pending: list[T],
        deliver: Callable[[T, Crash | None], None],
        data: st.DataObject,
        crash: Crash | None,
        redeliver: bool,
    ) -> None:
        """Any pending message (queues keep no order) is delivered; it stays pending when the worker crashed
        or the queue delivers it again."""
        index = data.draw(st.integers(0, len(pending) - 1))
        deliver(pending[index], crash)
        if crash is None and not redeliver:
            pending.pop(index)

    @rule(data=st.data(), crash=crashes, redeliver=st.booleans())
    @precondition(lambda self: bool(self.order_events))
    def order_worker_processes(self, data: st.DataObject, crash: Crash | None, redeliver: bool) -> None:
        self.deliver_one(self.order_events, self.process_order_event, data, crash, redeliver)

    def process_order_event(self, event: tuple[str, str], crash: Crash | None) -> None:
        kind, sale_id = event
        world = self.sales[sale_id]
        if kind == "sale":
            done = self.run(crash, lambda: self.stock.apply_sale(world.sale))
            if done:
                self.model.processed_sales.add(sale_id)
        else:
            cancelled_at = self.at(self.clock)
            done = self.run(crash, lambda: self.stock.apply_cancellation(SKU, sale_id, cancelled_at))
            if done:
                self.model.processed_cancels.add(sale_id)

    @rule(data=st.data(), crash=crashes, redeliver=st.booleans())
    @precondition(lambda self: bool(self.acks))
    def shop_acknowledgement_arrives(self, data: st.DataObject, crash: Crash | None, redeliver: bool) -> None:
        self.deliver_one(self.acks, self.deliver_ack, data, crash, redeliver)

    def deliver_ack(self, sale_id: str, crash: Crash | None) -> None:
        ack = self.sales[sale_id].ack
        assert ack is not None
        version = ack[1] if self.use_versions else None
        done = self.run(crash, lambda: self.stock.confirm_delivered(SKU, sale_id, self.at(ack[0]), version))
        if done:
            self.model.acked.setdefault(sale_id, ack)

    @rule(data=st.data(), crash=crashes, redeliver=st.booleans())
    @precondition(lambda self: bool(self.webhooks))
    def shop_webhook_arrives(self, data: st.DataObject, crash: Crash | None, redeliver: bool) -> None:
        self.deliver_one(self.webhooks, self.deliver_webhook, data, crash, redeliver)

    @rule(buffer=st.integers(0, 2))
    def seller_sets_a_buffer(self, buffer: int) -> None:
        self.stock.set_buffer(SKU, buffer)
        self.model.buffer = buffer

    # --- what must always hold ------------------------------------------------------------------------------

    def reflected(self, sale_id: str, held: Snapshot) -> bool:
        ack = self.model.acked.get(sale_id)
        if ack is None:
            return False
        return ack[1] <= held.version if self.use_versions else ack[0] <= held.t - self.skew_seconds

    def expected_available(self) -> int | None:
        held = self.model.held
        if held is None or held.quantity is None:
            return None
        counted = self.model.processed_sales - self.model.processed_cancels
        taken = sum(self.sales[s].sale.quantity for s in counted if not self.reflected(s, held))
        return max(0, held.quantity - taken - self.model.buffer)

    @invariant()
    def ledger_matches_the_model_exactly(self) -> None:
        view = self.stock.view(SKU)
        expected = self.expected_available()
        assert view.available == expected
        for target in view.offers:
            if expected is None:
                assert target.action is OfferAction.HOLD
            else:
                shown = expected if target.offer_id == "A" else min(expected, 2)
                assert target.quantity == shown
                assert target.action is (OfferAction.SET if shown else OfferAction.END)

    @invariant()
    def never_more_than_really_sellable(self) -> None:
        view = self.stock.view(SKU)
        held = self.model.held
        if view.available is None or held is None:
            return
        unseen_allegro = sum(
            s.sale.quantity
            for sid, s in self.sales.items()
            if not s.cancelled and sid not in self.model.processed_sales
        )
        unseen_local = sum(q for t, q in self.local_sales if t > held.t)
        assert view.available <= max(
            0, self.true_sellable + unseen_allegro + unseen_local - self.model.buffer
        )

    @invariant()
    def each_processed_sale_has_exactly_one_record(self) -> None:
        for sale_id in self.model.processed_sales | self.model.processed_cancels:
            record = self.repo.get_sale(SKU, sale_id)
            assert record is not None
            cancelled = sale_id in self.model.processed_cancels
            assert (record.status.value == "CANCELLED") is cancelled


class TimestampOnlyWorld(LedgerWorld):
    """A shop without stock versions whose acknowledgement times run up to 2 s early (clock skew).

    Reflection is decided on shop timestamps alone, with the policy's 2 s margin; the safety invariant
    shows the margin is enough (with a smaller margin it finds an oversell).
    """

    use_versions = False
    skew_seconds = 2


LEDGER_SETTINGS = settings(
    max_examples=int(os.environ.get("LEDGER_EXAMPLES", "150")),
    stateful_step_count=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

LedgerWorld.TestCase.settings = LEDGER_SETTINGS
TimestampOnlyWorld.TestCase.settings = LEDGER_SETTINGS
TestLedgerWorld = LedgerWorld.TestCase
TestTimestampOnlyWorld = TimestampOnlyWorld.TestCase
