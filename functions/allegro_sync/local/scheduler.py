"""EventBridge `rate(N minutes)` schedules, locally, with a time scale so a demo need not wait minutes.

Time is read from an injected clock (monotonic seconds), so tests advance it instead of sleeping.
Like EventBridge, a schedule that fell behind fires once and moves on; it never replays missed runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allegro_sync.local.events import scheduled_event
from allegro_sync.local.provision import PREFIX
from allegro_sync.topology import Function, ScheduleTrigger

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Invoke = Callable[[Function, dict[str, Any]], Any]


@dataclass
class _Entry:
    trigger: ScheduleTrigger
    function: Function
    period: float
    next_due: float
    fired: int = 0


def rule_name(trigger: ScheduleTrigger, function: Function) -> str:
    return f"{PREFIX}-{function.name}-every-{trigger.rate_minutes}m"


class Scheduler:
    def __init__(
        self,
        schedules: list[tuple[ScheduleTrigger, Function]],
        invoke: Invoke,
        *,
        region: str,
        time_scale: float = 1.0,
        clock: Clock = time.monotonic,
        minutes: dict[str, int] | None = None,
        at_start: frozenset[str] = frozenset(),
    ) -> None:
        """`minutes`: rates by the triggers' `rate_context` key, as `cdk deploy -c key=N` sets them.
        `at_start`: functions whose first run is due at once (a tick chain's watchdog: no order is polled
        until it has seeded the chain), the others one period after the start."""
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self._invoke = invoke
        self._region = region
        self._clock = clock
        self.time_scale = time_scale
        start = clock()
        rates = minutes or {}
        self._entries = [
            _Entry(
                trigger,
                function,
                rates.get(trigger.rate_context or "", trigger.rate_minutes) * 60 / time_scale,
                0.0,
            )
            for trigger, function in schedules
        ]
        for entry in self._entries:
            entry.next_due = start + (0.0 if entry.function.name in at_start else entry.period)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def fire(self, function_name: str) -> Any:
        """Run a scheduled function now, with the event its (first) schedule would send; return its result."""
        for entry in self._entries:
            if entry.function.name == function_name:
                return self._run(entry)
        raise KeyError(f"{function_name!r} has no schedule in this topology")

    def fired(self, function_name: str) -> int:
        return sum(e.fired for e in self._entries if e.function.name == function_name)

    def tick(self, *, background: bool = False) -> list[str]:
        """Fire every schedule that is due by the clock; return the names of the functions fired.

        In the background loop each run gets its own thread, as EventBridge invokes asynchronously: the
        order poller's minute-long run never holds back the reconciler (the invoker caps each function
        at its reserved concurrency). Called directly, runs finish before `tick` returns.
        """
        now = self._clock()
        fired = []
        for entry in self._entries:
            if now >= entry.next_due:
                missed = int((now - entry.next_due) // entry.period)
                entry.next_due += (missed + 1) * entry.period
                if background:
                    threading.Thread(
                        target=self._run_logged,
                        args=(entry,),
                        daemon=True,
                        name=f"schedule-{entry.function.name}",
                    ).start()
                else:
                    self._run_logged(entry)
                fired.append(entry.function.name)
        return fired

    def seconds_until_next(self) -> float | None:
        if not self._entries:
            return None
        return max(0.0, min(e.next_due for e in self._entries) - self._clock())

    def _run_logged(self, entry: _Entry) -> None:
        try:
            self._run(entry)
        except Exception:
            logger.exception("scheduled run of %s failed", entry.function.name)

    def _run(self, entry: _Entry) -> Any:
        entry.fired += 1
        event = scheduled_event(rule_name=rule_name(entry.trigger, entry.function), region=self._region)
        return self._invoke(entry.function, event)

    def start(self) -> None:
        if self._thread or not self._entries:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="scheduler")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick(background=True)
            wait = self.seconds_until_next()
            self._stop.wait(wait if wait is not None else 1.0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None
