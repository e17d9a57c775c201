"""The emulated Allegro marketplace: catalogue, offers, commands, orders and pricing.

The HTTP server (routing, OAuth, rate limits, spec validation) hands every authenticated request to
`Marketplace.handle`; `None` means "not a marketplace route" so the server can answer 404 itself.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allegro_sync.emulator.types import Clock, EmulatorRequest, EmulatorResponse


@dataclass
class Faults:
    """Knobs that reproduce Allegro's documented misbehaviour (see FACTS.md)."""

    order_event_delay_seconds: float = 0.0
    order_event_duplicate_rate: float = 0.0
    order_event_skip_rate: float = 0.0
    order_event_reemit_after_seconds: float = 300.0
    patch_conflict_rate: float = 0.0
    async_offer_share: float = 0.0


class Marketplace:
    """All marketplace state behind one lock (the server is threaded)."""

    def __init__(self, clock: Clock, *, rng: random.Random | None = None, seed: Path | None = None) -> None:
        self.clock = clock
        self.rng = rng or random.Random(0)
        self.faults = Faults()
        self._lock = threading.RLock()
        self._sellers: dict[str, bool] = {}

    def handle(self, request: EmulatorRequest) -> EmulatorResponse | None:
        """Answer one API request, or None when the route is not the marketplace's."""
        return None

    def add_seller(self, seller_id: str, *, company: bool = True) -> None:
        with self._lock:
            self._sellers[seller_id] = company

    def buy(self, offer_id: str, quantity: int = 1, *, buyer_login: str = "kupujacy-1") -> str:
        raise NotImplementedError

    def pay(self, checkout_form_id: str) -> None:
        raise NotImplementedError

    def cancel(self, checkout_form_id: str, *, auto: bool = False) -> None:
        raise NotImplementedError

    def offer(self, offer_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def process_due(self) -> None:
        """Finish asynchronous work (operations, command tasks, delayed events) whose time has come."""
