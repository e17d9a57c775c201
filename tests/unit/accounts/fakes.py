"""In-memory fakes of the account-custody ports, with Allegro's real refresh semantics.

`RotatingOAuth` rotates refresh tokens and honours the 60 s grace of a used one, like Allegro (FACTS.md),
so a unit test that refreshes twice with the same token, or too late, fails the way production would.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from allegro_sync.contracts.accounts import (
    AccountNotFound,
    AccountStatus,
    InvalidGrant,
    LeaseGrant,
    StoredAccount,
    TokenPair,
)


@dataclass
class FakeClock:
    t: float = 1_800_000_000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class MemoryVault:
    def __init__(self) -> None:
        self.items: dict[str, StoredAccount] = {}
        self.saves: list[StoredAccount] = []
        self._lock = threading.Lock()

    def read(self, name: str, *, fresh: bool) -> StoredAccount:
        with self._lock:
            try:
                return self.items[name]
            except KeyError:
                raise AccountNotFound(name) from None

    def save(self, account: StoredAccount) -> None:
        with self._lock:
            self.items[account.name] = account
            self.saves.append(account)


class MemoryLease:
    def __init__(self) -> None:
        self.holders: dict[str, tuple[str, float]] = {}
        self.rotated: dict[str, str] = {}
        self._lock = threading.Lock()

    def acquire(self, name: str, owner: str, now: float, ttl_seconds: float) -> LeaseGrant | None:
        with self._lock:
            held = self.holders.get(name)
            if held and held[0] != owner and held[1] >= now:
                return None
            self.holders[name] = (owner, now + ttl_seconds)
            return LeaseGrant(self.rotated.get(name, ""))

    def release(self, name: str, owner: str, *, rotated_from: str | None = None) -> None:
        with self._lock:
            if self.holders.get(name, ("", 0))[0] == owner:
                del self.holders[name]
                if rotated_from is not None:
                    self.rotated[name] = rotated_from


@dataclass
class RotatingOAuth:
    clock: FakeClock
    grace_seconds: float = 60.0
    live: dict[str, float | None] = field(default_factory=dict)  # refresh token -> first use time
    calls: int = 0
    issued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self) -> TokenPair:
        self.issued += 1
        refresh = f"refresh-{self.issued}"
        self.live[refresh] = None
        return TokenPair(f"access-{self.issued}", refresh, 43199, ("allegro:api:sale:offers:read",))

    def refresh(self, refresh_token: str, environment: str) -> TokenPair:
        with self._lock:
            self.calls += 1
            if refresh_token not in self.live:
                raise InvalidGrant("Invalid refresh token")
            first = self.live[refresh_token]
            if first is None:
                self.live[refresh_token] = self.clock.now()
            elif self.clock.now() - first > self.grace_seconds:
                raise InvalidGrant("Invalid refresh token (already used)")
            return self.issue()

    def revoke_all(self) -> None:
        self.live.clear()


class RecordingEvents:
    def __init__(self) -> None:
        self.refreshes: list[StoredAccount] = []
        self.disconnects: list[tuple[str, str]] = []
        self.refused: list[tuple[str, str]] = []

    def refreshed(self, account: StoredAccount) -> None:
        self.refreshes.append(account)

    def disconnected(self, name: str, reason: str, now: float) -> None:
        self.disconnects.append((name, reason))

    def refresh_refused(self, name: str, reason: str) -> None:
        self.refused.append((name, reason))


def stored(name: str, pair: TokenPair, *, expires_at: float, now: float) -> StoredAccount:
    return StoredAccount(
        name=name,
        status=AccountStatus.CONNECTED,
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_at=expires_at,
        scopes=pair.scopes,
        seller_id="10000001",
        login="seller-one",
        environment="production",
        refreshed_at=now,
    )
