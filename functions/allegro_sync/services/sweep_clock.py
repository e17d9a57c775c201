"""A sweep's run clock and cursor port, shared by the sweeps that page through every offer (the reconciler,
the repricer): a run stops paging while another page still fits before its timeout, and saves where it is."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from allegro_sync.contracts.sweeps import SweepPosition

# A run stops paging when less than this is left, or 1.5 x its slowest page so far if that is more.
RESERVE_SECONDS = 30.0


class SweepCursors(Protocol):
    def load(self) -> SweepPosition | None: ...

    def save(self, position: SweepPosition) -> None: ...

    def clear(self) -> None: ...


def remaining(names: list[str], cursors: SweepCursors | None) -> Iterator[tuple[str, int]]:
    """(account, offset to start at) for what is left of the cycle: from the saved position, in name order;
    a saved account that left starts the cycle again."""
    start = cursors.load() if cursors else None
    if start is not None and start.account not in names:
        start = None
    for name in sorted(names):
        if start is None or name > start.account:
            yield name, 0
        elif name == start.account:
            yield name, start.offset


class SweepClock:
    """The run's clock: whether another page still fits before the function's timeout."""

    def __init__(self, time_left: Callable[[], float] | None, page_size: int) -> None:
        self.page_size = page_size
        self._time_left = time_left
        self._slowest = 0.0

    def short(self) -> bool:
        if self._time_left is None:
            return False
        return self._time_left() < max(RESERVE_SECONDS, 1.5 * self._slowest)

    @contextmanager
    def page(self) -> Iterator[None]:
        started = time.monotonic()
        yield
        self._slowest = max(self._slowest, time.monotonic() - started)
