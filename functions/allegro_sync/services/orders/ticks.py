"""The order poller's tick chain: every account polled every few seconds, carried by delayed SQS messages.

A tick is one `poll-tick` message. Its consumer renews the chain's heartbeat, sends the next tick
(`interval_seconds` later) before it polls, so a poll that fails or times out never breaks the chain, and
polls every account once (`OrderPoller.run`, `run_seconds=0`). Nothing waits inside Lambda: an idle
tick is billed its own ~0.1 s, not the 50 s loop a scheduled run used to sleep through.

Exactly one chain: the heartbeat item names the live chain and the `seq` of its next tick. A tick of any
other chain stops (sends nothing), and so does a second tick with a `seq` already served (SQS delivers at
least once, and a tick that failed after sending its successor comes back): a fork dies at its next tick.
A failed tick retried by SQS (same message id) may beat again, so a failure before the send never ends the
chain. The scheduled watchdog
starts a chain only when no chain beat within `lease_seconds`, so seeding twice starts nothing, and a chain
that died is replaced within one watchdog period plus the lease. The watchdog also polls once itself.
Each account's cursor keeps its lease and compare-and-swap (polling.py): a tick and a watchdog polling at
the same moment never both enqueue.

A spare successor: a tick that dies before its handler runs (a crashed or killed invocation) sends nothing,
and SQS hands it out again only after the queue's visibility timeout; orders bought meanwhile wait that
long. So a tick whose poll found orders also sends its successor's `seq` a second time, `SPARE_AFTER_SECONDS`
after the first: when the successor beat (the usual case) the spare is a tick already served and stops;
when it died, the spare beats in its place. An idle chain sends no spares, so idle costs nothing more.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from allegro_sync.services.orders.polling import OrderPoller, PollReport
from allegro_sync.services.orders.ports import OrderEventsApi, PollChainStore, TickQueue

# SQS delays a message 0-900 s.
MAX_TICK_SECONDS = 900
# A live chain beats every interval; the lease adds what one tick may take (the function's 30 s timeout)
# and SQS/Lambda's pick-up, so a slow tick is not taken for a dead chain.
TICK_LEASE_MARGIN_SECONDS = 60.0
# How long after the successor a busy tick's spare arrives: the successor has beaten by then unless it died.
SPARE_AFTER_SECONDS = 5

Accounts = Callable[[], Mapping[str, OrderEventsApi]]


@dataclass
class TickReport:
    """What a tick or a watchdog run did: the chain it served or started, and its poll."""

    chain: str | None
    seeded: bool = False
    stopped: str | None = None
    next_tick_seconds: int | None = None
    spare_tick_seconds: int | None = None  # a busy tick's spare successor (see the module docstring)
    poll: PollReport | None = None


class PollChain:
    def __init__(
        self,
        store: PollChainStore,
        ticks: TickQueue,
        poller: OrderPoller,
        *,
        interval_seconds: float,
        clock: Callable[[], float] = time.time,
        new_chain: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        if not 0 <= interval_seconds <= MAX_TICK_SECONDS:
            raise ValueError(f"a tick interval is 0-{MAX_TICK_SECONDS} s (SQS delays): {interval_seconds}")
        self._store = store
        self._ticks = ticks
        self._poller = poller
        self.delay_seconds = round(interval_seconds)
        self.lease_seconds = self.delay_seconds + TICK_LEASE_MARGIN_SECONDS
        self._clock = clock
        self._new_chain = new_chain

    def watchdog(self, accounts: Accounts, *, budget_seconds: float | None = None) -> TickReport:
        """Start a chain if none is alive, then poll once (the new chain's first tick is an interval away)."""
        chain = self._new_chain()
        seeded = self._store.seed(chain, self._clock(), self.lease_seconds)
        if seeded:
            try:
                self._ticks.send(chain, 0, self.delay_seconds)
            except Exception:
                with contextlib.suppress(Exception):  # the next watchdog run seeds again at once
                    self._store.forget(chain)
                raise
        report = TickReport(chain if seeded else None, seeded=seeded)
        report.next_tick_seconds = self.delay_seconds if seeded else None
        report.poll = self._poller.run(accounts(), budget_seconds=budget_seconds)
        return report

    def tick(
        self, chain: str, seq: int, tick_id: str, accounts: Accounts, *, budget_seconds: float | None = None
    ) -> TickReport:
        """Serve tick `seq` of `chain`: beat, send the next tick, poll; a stale or duplicate tick stops."""
        if not self._store.beat(chain, seq, tick_id, self._clock(), self.lease_seconds):
            return TickReport(chain, stopped="not the live chain's next tick (replaced, or served already)")
        self._ticks.send(chain, seq + 1, self.delay_seconds)
        poll = self._poller.run(accounts(), budget_seconds=budget_seconds)
        report = TickReport(chain, next_tick_seconds=self.delay_seconds, poll=poll)
        if poll.enqueued:  # orders are coming in: a dead successor must not stall them
            spare = min(MAX_TICK_SECONDS, self.delay_seconds + SPARE_AFTER_SECONDS)
            with contextlib.suppress(Exception):  # the successor is on its way: the spare is a safeguard
                self._ticks.send(chain, seq + 1, spare)
                report.spare_tick_seconds = spare
        return report
