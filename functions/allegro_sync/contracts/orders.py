"""The order import's storage contract: the `/order/events` cursor and the order record's races."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CursorState:
    """An account's place in `/order/events`. `started` False: never polled (start at latestEvent).
    `event_id` None after start: the journal was empty, read it from its beginning."""

    account: str
    started: bool
    event_id: str | None
    seq: int
    started_at: float | None = None  # epoch seconds of the first position: where history ends


class CursorLost(Exception):
    """Another run took the account's cursor (our lease expired) or moved it: stop polling that account."""


class OrderConflict(Exception):
    """The order record changed since it was read; the message is retried and decides again."""
