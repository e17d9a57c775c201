"""The soak's handler crashes: a `CrashPlan` for the local runtime's invoker."""

from __future__ import annotations

import random
from collections import Counter


class RandomCrashes:
    """The `CrashPlan` of the soak: a seeded share of invocations die, queue batches part-way through."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self._rng = random.Random(seed)
        self.injected: Counter[str] = Counter()

    def crash_after(self, function: str, records: int) -> int | None:
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        self.injected[function] += 1
        return self._rng.randrange(records) if records else 0
