"""The soak's handler crashes: a `CrashPlan` for the local runtime's invoker."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from allegro_sync.emulator import Emulator
    from bench.soak.config import SoakConfig


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


# ---- allegro-limits (issue 14, items 2 and 4): per-seller limits, slow /sale/products, failed 202s ----


class SellerLimits:
    """Allegro's per-seller faults: always on during the traffic (the slow products bucket, 202s whose
    operation fails), plus a window of tight per-seller limits that answers per-user 429s."""

    def __init__(self, emulator: Emulator, config: SoakConfig) -> None:
        self._emulator = emulator
        self._config = config

    def start(self) -> None:
        self._emulator.set_faults(
            products_burst=self._config.products_burst,
            products_delay_scale=self._config.products_delay_scale,
            async_offer_share=self._config.async_offer_share,
            offer_operation_failure_rate=self._config.offer_operation_failure_rate,
        )

    def tighten(self) -> None:
        self._emulator.set_faults(
            offer_writes_per_minute=self._config.user_offer_writes_per_minute,
            offer_reads_per_minute=self._config.user_offer_reads_per_minute,
        )

    def relax(self) -> None:
        self._emulator.set_faults(offer_writes_per_minute=2490, offer_reads_per_minute=3500)

    def stop(self) -> None:
        self.relax()
        self._emulator.set_faults(async_offer_share=0.0, offer_operation_failure_rate=0.0)

    @property
    def per_user_429s(self) -> int:
        return self._emulator.app.user_limiter.refused


def duplicate_offers(emulator: Emulator) -> list[str]:
    """Every SKU x account with more than one live offer (ACTIVE, ACTIVATING or INACTIVE) on the emulator:
    what a retried create after a failed 202 would leave behind."""
    live: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for offer in list(emulator.marketplace.state.offers.values()):
        if offer.external_id and offer.status in ("ACTIVE", "ACTIVATING", "INACTIVE"):
            live[(offer.seller_id, offer.external_id)].append(offer.id)
    return [
        f"{sku} on seller {seller}: offers {', '.join(ids)}"
        for (seller, sku), ids in live.items()
        if len(ids) > 1
    ]
