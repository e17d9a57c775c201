"""The order import's storage contract: the `/order/events` cursor and the order record's races."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BUYER_DATA_DAYS = 30
"""How long a buyer's name, address, e-mail and phone stay after the order's last change (docs/privacy.md):
longer than any outbox message can wait for them (4 days queued, 7 in the DLQ, then a replay), short enough
that a closed order's buyer is gone within a month. The order record itself, which holds none, stays."""


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


# --- issue 14, item 6 (allegro-misc): what became of the shop's fulfillment updates ------------------------


@dataclass(frozen=True)
class FulfillmentEntry:
    """One fulfillment update as Allegro took it: for `orders show` and the seller's "needs attention"."""

    checkout_form_id: str
    account: str
    at: str  # ISO time
    status_set: str | None = None
    status_kept: str | None = None  # Allegro's own status (SENT, RETURNED) the shop's would have moved back
    added: tuple[str, ...] = ()  # waybills Allegro took
    refused: tuple[str, ...] = ()  # "waybill (carrier): why" for each tracking number Allegro refused
