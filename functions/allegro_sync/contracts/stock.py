"""The stock ledger's storage contract: a lost race on a SKU, and what was last pushed to each offer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class LedgerConflict(Exception):
    """Someone changed the SKU or the sale since it was read; re-read and decide again."""


@dataclass(frozen=True)
class PushRecord:
    """What was last pushed to one offer, at which ledger revision (the coalescing guard)."""

    revision: int
    action: Literal["SET", "END"]
    quantity: int
    account: str = ""
