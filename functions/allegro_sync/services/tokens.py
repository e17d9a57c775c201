"""Token custody: every handler gets a seller's access token through `AccountTokens`, and nowhere else.

Allegro's refresh tokens are single-use and rotate (the old one survives ~60 s after first use), so two
refreshers racing, or a crash between Allegro's answer and the save, disconnects the seller. This module
makes that impossible in practice:

- one refresher per account at a time (a lease with an expiry, taken with a conditional write);
- everyone else waits and re-reads the stored tokens instead of refreshing themselves;
- the new pair is saved (with retries) before it is ever handed out;
- before a refresh calls Allegro it schedules its own recovery: a message delivered after the lease has
  expired and well inside Allegro's 60 s grace (an SQS delayed message in AWS). A refresher that died
  anywhere after that leaves the old refresh token in the store; the recovery finds it there and refreshes
  again with it, with no other caller needed. If the recovery cannot be scheduled, Allegro is not called.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from allegro_sync.contracts.accounts import (
    AccountDisconnected,
    AccountStatus,
    InvalidGrant,
    LeaseGrant,
    OAuthError,
    StoredAccount,
    TokenPair,
    TokenUnavailable,
)

_log = logging.getLogger(__name__)


# ---------------------------------------------------------------- ports


class TokenVault(Protocol):
    """Where account secrets live (Secrets Manager in AWS)."""

    def read(self, name: str, *, fresh: bool) -> StoredAccount:
        """The stored account; `fresh=False` may answer from a short cache. Raises AccountNotFound."""
        ...

    def save(self, account: StoredAccount) -> None: ...

    def delete(self, name: str) -> None:
        """Forget the account's secret (`accounts remove`); nothing to do when there is none."""
        ...


def fingerprint(refresh_token: str) -> str:
    """A one-way tag of a refresh token, safe to keep beside the lease (never the token itself)."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:32]


class RefreshLease(Protocol):
    """Mutual exclusion across processes for one account's refresh."""

    def acquire(self, name: str, owner: str, now: float, ttl_seconds: float) -> LeaseGrant | None:
        """The lease if nobody else holds an unexpired one, else None."""
        ...

    def release(self, name: str, owner: str, *, rotated_from: str | None = None) -> None:
        """Free our lease; `rotated_from` records a completed rotation (kept until the next one)."""
        ...


class RefreshPort(Protocol):
    """Allegro's token endpoint, for the refresh grant only."""

    def refresh(self, refresh_token: str, environment: str) -> TokenPair:
        """Raises InvalidGrant when the token is dead."""
        ...


class RecoveryScheduler(Protocol):
    """Delivers `AccountTokens.recover(fingerprint)` for an account after `delay_seconds`, even if the
    process that scheduled it dies (the `token-recovery` queue in AWS)."""

    def schedule(self, name: str, refresh_fingerprint: str, delay_seconds: int) -> None: ...


class AccountEvents(Protocol):
    """Side effects the seller must see: the registry's refresh record, the disconnect metric/alarm."""

    def refreshed(self, account: StoredAccount) -> None: ...

    def disconnected(self, name: str, reason: str, now: float) -> None: ...

    def refresh_refused(self, name: str, reason: str) -> None:
        """Allegro refused the application itself (invalid_client): the seller is fine, the app is not."""
        ...


# ---------------------------------------------------------------- the use case


@dataclass(frozen=True)
class RefreshPolicy:
    """Timings. The lease expires well inside Allegro's 60 s grace, so a crashed refresh is redone in time."""

    refresh_margin_seconds: float = 300.0
    lease_ttl_seconds: float = 20.0
    # After the lease (so the recovery never waits for a dead holder), well before the grace's 60 s end.
    recovery_delay_seconds: int = 25
    wait_poll_seconds: float = 0.1
    max_poll_seconds: float = 1.0
    max_wait_seconds: float = 25.0
    save_attempts: int = 4


class AccountTokens:
    """The `TokenSource` of one seller account (see `allegro_sync.contracts.accounts.TokenSource`)."""

    def __init__(
        self,
        name: str,
        *,
        vault: TokenVault,
        lease: RefreshLease,
        oauth: RefreshPort,
        events: AccountEvents,
        recovery: RecoveryScheduler | None = None,
        policy: RefreshPolicy | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        owner: str | None = None,
    ) -> None:
        self.name = name
        self._vault = vault
        self._lease = lease
        self._oauth = oauth
        self._events = events
        self._recovery = recovery
        self._policy = policy or RefreshPolicy()
        self._now = now
        self._sleep = sleep
        self._owner = owner or uuid.uuid4().hex
        self._lock = threading.Lock()

    # TokenSource
    def access_token(self) -> str:
        account = self._vault.read(self.name, fresh=False)
        if account.status is AccountStatus.DISCONNECTED:
            # The cache may predate a reconnect: a disconnected answer is always checked at the source.
            account = self._vault.read(self.name, fresh=True)
        account = self._usable(account)
        if self._is_fresh(account):
            return account.access_token
        return self._refresh(stale=account, force=False).access_token

    def token_rejected(self, rejected_token: str) -> str:
        """Allegro answered 401: someone may already hold a newer token, else refresh now."""
        account = self._usable(self._vault.read(self.name, fresh=True))
        if account.access_token != rejected_token and self._is_fresh(account):
            return account.access_token
        return self._refresh(stale=account, force=True).access_token

    def ensure_fresh(self, margin_seconds: float, *, lease_seen: bool = False) -> tuple[StoredAccount, bool]:
        """For the scheduled refresher: refresh when less than `margin_seconds` of validity remain.

        `lease_seen` means a refresh was in flight: its holder may have died after Allegro rotated the
        pair, so the stored refresh token's 60 s grace may be running out. Wait for the holder; if the
        stored pair has not changed when its lease ends, refresh now whatever the expiry says.
        Answers the stored account and whether its pair changed.
        """
        account = self._usable(self._vault.read(self.name, fresh=True))
        if not lease_seen and account.expires_at - self._now() > margin_seconds:
            return account, False
        updated = self._refresh(stale=account, force=True)
        return updated, updated.refresh_token != account.refresh_token

    def recover(self, refresh_fingerprint: str) -> bool:
        """A scheduled recovery: if the store still holds the refresh token a refresh started from, that
        refresh was never saved (its refresher died, or failed): refresh again with it, inside Allegro's
        grace. True when it refreshed; False when the pair had moved on (or the account is gone for good)."""
        account = self._vault.read(self.name, fresh=True)
        if account.status is AccountStatus.DISCONNECTED:
            return False
        if fingerprint(account.refresh_token) != refresh_fingerprint:
            return False
        updated = self._refresh(stale=account, force=True)
        return updated.refresh_token != account.refresh_token

    # internals
    def _usable(self, account: StoredAccount) -> StoredAccount:
        if account.status is AccountStatus.DISCONNECTED:
            raise AccountDisconnected(self.name)
        return account

    def _is_fresh(self, account: StoredAccount) -> bool:
        return account.expires_at - self._now() > self._policy.refresh_margin_seconds

    def _refresh(self, *, stale: StoredAccount, force: bool) -> StoredAccount:
        """Refresh once across every process; anyone who loses the lease race waits for the winner's save."""
        with self._lock:
            deadline = time.monotonic() + self._policy.max_wait_seconds
            delay = self._policy.wait_poll_seconds
            while True:
                current = self._usable(self._vault.read(self.name, fresh=True))
                if current.refresh_token != stale.refresh_token:
                    return current  # someone else rotated the pair meanwhile
                if not force and self._is_fresh(current):
                    return current
                grant = self._lease.acquire(
                    self.name, self._owner, self._now(), self._policy.lease_ttl_seconds
                )
                if grant is not None:
                    done = self._refresh_holding_lease(stale, grant)
                    if done is not None:
                        return done
                if time.monotonic() > deadline:
                    raise TokenUnavailable(
                        f"another process is refreshing account {self.name!r}; gave up waiting"
                    )
                self._sleep(delay)
                delay = min(delay * 2, self._policy.max_poll_seconds)  # waiters must not hammer AWS

    def _refresh_holding_lease(self, stale: StoredAccount, grant: LeaseGrant) -> StoredAccount | None:
        """Refresh under the lease; None means "our read lags the last holder's save: wait and re-read"."""
        rotated_from: str | None = None
        try:
            current = self._usable(self._vault.read(self.name, fresh=True))
            if current.refresh_token != stale.refresh_token:
                return current
            if grant.rotated_from == fingerprint(current.refresh_token):
                return None  # the previous holder already used this token and saved its successor
            if self._recovery is not None:  # raises: nothing sent to Allegro, the lease is released
                self._recovery.schedule(
                    self.name, fingerprint(current.refresh_token), self._policy.recovery_delay_seconds
                )
            try:
                pair = self._oauth.refresh(current.refresh_token, current.environment)
            except InvalidGrant as exc:
                return self._rejected(current, str(exc))
            except OAuthError as exc:
                if exc.error == "invalid_client":
                    self._app_refused(str(exc))
                raise
            updated = current.with_pair(pair, self._now())
            self._save_with_retries(updated)
            rotated_from = fingerprint(current.refresh_token)
        finally:
            # A process that dies cannot run this; its lease then simply expires (well inside Allegro's
            # grace). An ordinary failure releases at once so the next caller retries with the old token.
            self._lease.release(self.name, self._owner, rotated_from=rotated_from)
        try:
            self._events.refreshed(updated)
        except Exception:  # the pair is saved; a stale "last refresh" column must not fail the caller
            _log.warning("could not record the refresh of account %s", self.name, exc_info=True)
        return updated

    def _rejected(self, used: StoredAccount, reason: str) -> StoredAccount:
        """invalid_grant: disconnected, unless the store moved on meanwhile (then the token was just old)."""
        latest = self._usable(self._vault.read(self.name, fresh=True))
        if latest.refresh_token != used.refresh_token:
            return latest
        self._vault.save(used.disconnected())
        self._events.disconnected(self.name, reason or "invalid_grant", self._now())
        raise AccountDisconnected(self.name, "Allegro rejected the refresh token")

    def _app_refused(self, reason: str) -> None:
        try:
            self._events.refresh_refused(self.name, reason)
        except Exception:  # the caller's error says it already; a missing mark must not hide it
            _log.warning("could not record the refused refresh of account %s", self.name, exc_info=True)

    def _save_with_retries(self, account: StoredAccount) -> None:
        """The new pair exists only in memory now: losing it loses the seller, so try hard."""
        attempts = self._policy.save_attempts
        for attempt in range(1, attempts + 1):
            try:
                self._vault.save(account)
                return
            except Exception:
                if attempt == attempts:
                    raise
                self._sleep(0.2 * attempt)
