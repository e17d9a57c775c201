"""One call to a down shop per batch: once the shop itself failed (`ShopDown`: no answer, 5xx, 429),
the batch's other messages fail at once with the same reason instead of each asking it again.

The notifier's back-off (adapters/redelivery.py) brings the orders waiting for one shop back in the
same second, so they arrive in batches of up to 10: each batch's first shop call is the probe. When it
succeeds the others go through right behind it; when it fails they wait for the next tick without a
call. A shop that times out (10 s) can no longer hold a batch past the function's 60 s timeout either.
One instance runs one batch at a time (Lambda), so the state is per instance, reset per invocation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from allegro_sync.contracts.shop import ShopDown

_T = TypeVar("_T")


class ShopProbe:
    def __init__(self) -> None:
        self._down: ShopDown | None = None

    def new_batch(self) -> None:
        """A new invocation: the shop is asked again."""
        self._down = None

    def raise_if_down(self) -> None:
        """Fail at once when the shop was down earlier in this batch (before any work for the message)."""
        if self._down is not None:
            raise ShopDown(f"{self._down} (earlier in this batch; not asked again until the next try)")

    def call(self, send: Callable[[], _T]) -> _T:
        """`send()` (one shop call), unless the shop was down earlier in this batch."""
        self.raise_if_down()
        try:
            return send()
        except ShopDown as error:
            self._down = error
            raise
