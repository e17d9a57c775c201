"""Listing optimization's stored proposals and A/B experiments (`services.listings`, the `mappings` table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Proposal:
    account: str
    offer_id: str
    sku: str
    category_id: str
    current_title: str
    proposed_title: str
    expected_gain: float
    reasons: tuple[str, ...]
    issues: tuple[str, ...] = ()  # description problems found in the offer as it is now
    description: dict[str, Any] | None = None  # the fixed description (None: keep the current one)

    @property
    def title_changed(self) -> bool:
        return self.proposed_title != self.current_title


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    account: str
    category_id: str
    share: float
    started_at: str
    treatment: dict[str, dict[str, Any]]  # offer id -> {old, new, visits}
    control: dict[str, int]  # offer id -> visits at the start
