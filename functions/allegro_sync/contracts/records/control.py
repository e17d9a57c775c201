"""Items of the `control` table: accounts, order cursors, the repricer's memory, imports, the rate limit.

Layout (string keys `pk`, `sk`):
- account profile:  pk="accounts", sk="profile#<name>"       `AccountProfileItem` (never a token)
- refresh lease:    pk="accounts", sk="lease#<name>"         `RefreshLeaseItem` (conditional updates)
- one-time item:    pk="oauth#<key>", sk="oauth"             `OneTimeItem` (TTL `expires_at`)
- order cursor:     pk="orders#<account>", sk="event-cursor" `OrderCursorItem` (conditional updates)
- gap scan:         pk="orders#<account>", sk="gap-scan"     `GapScanItem`
- poll tick chain:  pk="orders", sk="poll-tick"               `PollChainItem` (conditional updates)
- repricer offer:   pk="reprice#offer#<account>", sk=<offer> `RepricerOfferItem`
- offer -> SKU:     pk="reprice#offer-sku", sk=<offer>       `OfferSkuItem`
- breaker pause:    pk="reprice#pause", sk=<account>         `PauseItem` (TTL `expires_at`)
- fee line:         pk="reprice#fee", sk="<category>#<band>" `FeeItem` (TTL `expires_at`)
- our seller id:    pk="reprice#seller", sk=<account>        `SellerItem`
- catalogue import: pk="catalog-import#<sha256>", sk="meta" | "sku#<sku>"  `ImportMetaItem`, `ImportedSkuItem`
- Allegro block:    pk="allegro#client", sk="rate-limit"     `BlockedUntilItem` (TTL `expires_at`)
- Allegro budget:   pk="allegro#budget", sk="slot#<n>"       counters only (`used`, `writes#<account>`),
                    written by conditional ADDs and never read back (TTL `expires_at`)
- shop cursor:      pk="shop-reconcile", sk=<shop kind>       `ShopCursorItem` (compare-and-swap)
- sweep cursor:     pk="sweep", sk=<function>                `SweepCursorItem`
- GPSR id:          pk="gpsr#<account>", sk="producer#<name>" | "person#<name>"  `GpsrIdItem`
- returns followed: pk="returns#<account>", sk="cursor"      `ReturnsCursorItem` (compare-and-swap on
  `version`)
Items changed only by conditional updates (lease, cursor, import meta, block) are read through their model.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from allegro_sync.contracts.records.item import EpochSeconds, Item

# ------------------------------------------------------------------------------------------------ accounts


class AccountProfileItem(Item):
    """What `accounts list` shows about one account (`contracts.accounts.AccountProfile`)."""

    status: str = "CONNECTED"
    environment: str = "production"
    seller_id: str = ""
    login: str = ""
    scopes: list[str] = Field(default_factory=list)
    token_expires_at: EpochSeconds = 0
    last_refresh_at: EpochSeconds = 0
    connected_at: EpochSeconds = 0
    disconnected_at: EpochSeconds | None = None
    disconnect_reason: str = ""
    refresh_problem: str = ""


class RefreshLeaseItem(Item):
    """One account's refresh lease; outlives its leases because it keeps `rotated_from`."""

    owner: str = ""  # "" once released
    acquired_at: Decimal | None = None
    lease_until: Decimal | None = None
    rotated_from: str = ""  # fingerprint of the refresh token the last completed refresh used up


class OneTimeItem(Item):
    """OAuth state + PKCE verifier, or a start-link nonce: consumed once, gone after `expires_at`."""

    data: dict[str, str] = Field(default_factory=dict)
    expires_at: int = 0


# ------------------------------------------------------------------------------------------------ orders


class OrderCursorItem(Item):
    """An account's leased place in `/order/events`."""

    started: bool = False
    event_id: str | None = None
    seq: int = 0
    started_at: float | None = None  # epoch seconds of the first position
    owner: str | None = None
    lease_until: Decimal | None = None
    advanced_at: str | None = None  # UTC ISO time of the last move


class PollChainItem(Item):
    """The one live poll-tick chain and its heartbeat: a tick renews `beat_until` only while `chain` is its
    own; the watchdog starts a new chain only once `beat_until` has passed."""

    chain: str | None = None
    beat_until: Decimal | None = None
    seeded_at: str | None = None  # UTC ISO time the chain was started
    beats: int = 0  # the seq of the chain's next tick
    beat_by: str | None = None  # the SQS message id of the tick that beat last (its retry may beat again)


class GapScanItem(Item):
    """The newest `updatedAt` the gap scan has seen (fixed-width UTC ISO, so it compares as text)."""

    watermark: str


# ------------------------------------------------------------------------------------------------ repricer


class RepricerOfferItem(Item):
    """What the repricer remembers per offer between rounds (`contracts.repricing.OfferState`)."""

    sku: str = ""
    last_changed_at: str | None = None  # ISO time
    assigned: str | None = None  # JSON [rule, low, high] of the assigned price range
    campaign: str | None = None  # issue 14, item 7: the campaign that owned the price last round


class OfferSkuItem(Item):
    """Offer id -> SKU and account, so `prices why OFFER` is one read."""

    sku: str
    account: str


class PauseItem(Item):
    """The circuit breaker holds an account's repricing until `until` (ISO time), for `reason`."""

    until: str
    reason: str = ""
    expires_at: int


class FeeItem(Item):
    """A category's fee line for a price band: `fixed` + `rate` x price (decimal strings)."""

    fixed: str
    rate: str
    expires_at: int = 0


class SellerItem(Item):
    """One of our accounts' Allegro seller id (and login): a competitor row naming it is us."""

    seller_id: str
    login: str | None = None


# ------------------------------------------------------------------------------------------ catalogue import


class ImportMetaItem(Item):
    """One catalogue file being imported (its SHA-256 in `pk`), kept 30 days."""

    started_at: str  # ISO time of the first attempt
    file_name: str = ""
    rows: int = 0
    expires_at: int = 0


class ImportedSkuItem(Item):
    """A SKU of that file already queued: a rerun skips it."""

    expires_at: int


# ------------------------------------------------------------------------------------------------ rate limit


class BlockedUntilItem(Item):
    """Allegro blocks the Client ID until `blocked_until` (epoch milliseconds); it only moves forward."""

    blocked_until: int = 0
    expires_at: int | None = None


# ------------------------------------------------------------------------------------------------ shop


class ShopCursorItem(Item):
    """Where the shop reconciliation's last run stopped (the shop's own cursor: a time or an opaque token)."""

    cursor: str
    saved_at: str = ""


# ------------------------------------------------------------------------------------------------ sweeps


class SweepCursorItem(Item):
    """Where a sweep that ran out of time goes on: the account and the offset of its next page."""

    account: str
    offset: int
    saved_at: str = ""


# ------------------------------------------------------------------------------------------------ GPSR


class GpsrIdItem(Item):
    """The Allegro id of a responsible producer/person this account already has (created or found once)."""

    id: str


# ------------------------------------------------------------------------------- issue 15, item 3: returns


class ReturnsCursorItem(Item):
    """Where following an account's customer returns stands: the last return seen (Allegro's `from`), the
    returns still waiting to be taken back or rejected, and the cancelled orders' claim window."""

    last_seen: str | None = None
    waiting: list[str] = Field(default_factory=list)
    claims_since: str | None = None  # ISO time: cancelled orders updated since then get a commission claim
    started_at: str | None = None  # ISO time: returns created before it are history, never taken back
    version: int = 0
    saved_at: str = ""
