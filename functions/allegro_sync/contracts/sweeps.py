"""What a sweep (a scheduled pass over every offer) hands from one run to the next."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SweepPosition:
    """Where the next run goes on: the account and the offset of its next page of offers."""

    account: str
    offset: int
