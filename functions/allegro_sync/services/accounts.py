"""Connecting seller accounts: the device flow (CLI), the authorization code flow (API), list/show/disconnect.

Tokens only ever go to the `TokenVault`; the registry (what `accounts list` shows) never holds one.
The browser flow starts from a signed, short-lived, single-use link so that a stranger who finds the API
cannot attach their own Allegro account to somebody's deployment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from allegro_sync.contracts.accounts import (
    AccessDenied,
    AccountNotFound,
    AccountProfile,
    AccountStatus,
    AuthorizationPending,
    DeviceAuthorization,
    DeviceCodeExpired,
    Identity,
    OAuthError,
    OAuthUnavailable,
    SlowDown,
    StoredAccount,
    TokenPair,
)
from allegro_sync.services.tokens import TokenVault

ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
ENVIRONMENTS = ("production", "sandbox")
START_LINK_TTL_SECONDS = 900
OAUTH_STATE_TTL_SECONDS = 600


class AccountStillConnected(ValueError):
    """`accounts remove` of an account still in use."""


class InvalidAccountName(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"invalid account name {name!r}: use 1-32 lower-case letters, digits or '-', starting with a "
            "letter or digit"
        )


def check_account_name(name: str) -> str:
    if not ACCOUNT_NAME.fullmatch(name):
        raise InvalidAccountName(name)
    return name


def check_environment(environment: str) -> str:
    if environment not in ENVIRONMENTS:
        raise ValueError(f"unknown Allegro environment {environment!r}; expected one of {ENVIRONMENTS}")
    return environment


# ---------------------------------------------------------------- OAuth outcomes


MAX_TRANSIENT_POLL_FAILURES = 3


class OAuthFlows(Protocol):
    def start_device(self, environment: str) -> DeviceAuthorization: ...

    def poll_device(self, device_code: str, environment: str) -> TokenPair:
        """Raises AuthorizationPending, SlowDown, AccessDenied, DeviceCodeExpired or OAuthError."""
        ...

    def authorize_url(
        self, environment: str, *, redirect_uri: str, state: str, code_challenge: str
    ) -> str: ...

    def exchange_code(
        self, environment: str, *, code: str, redirect_uri: str, code_verifier: str
    ) -> TokenPair: ...

    def identify(self, access_token: str, environment: str) -> Identity:
        """GET /me with the new token: who did we just connect?"""
        ...


# ---------------------------------------------------------------- registry


class AccountRegistry(Protocol):
    def get(self, name: str) -> AccountProfile | None: ...

    def put(self, profile: AccountProfile) -> None: ...

    def all(self) -> list[AccountProfile]: ...

    def overview(self) -> tuple[list[AccountProfile], set[str]]:
        """All profiles, plus the names of accounts with a refresh lease item (in flight or orphaned)."""
        ...

    def record_refresh(
        self, name: str, *, expires_at: float, refreshed_at: float, scopes: tuple[str, ...]
    ) -> None: ...

    def mark_disconnected(self, name: str, *, reason: str, now: float) -> None: ...

    def remove(self, name: str) -> None:
        """Forget the account's profile and refresh lease (`accounts remove`)."""
        ...

    def record_refresh_problem(self, name: str, problem: str) -> None: ...


class OneTimeStore(Protocol):
    """Short-lived single-use items (OAuth state + PKCE verifier, start-link nonces), with a TTL."""

    def put(self, key: str, data: dict[str, str], expires_at: float) -> None: ...

    def consume(self, key: str, now: float) -> dict[str, str] | None:
        """Delete and return the item if present and not expired; None otherwise (forged or replayed)."""
        ...


class DisconnectAlarm(Protocol):
    def account_disconnected(self, name: str) -> None: ...


class RegistryEvents:
    """`AccountEvents` for token custody: keeps the registry current and raises the disconnect alarm."""

    def __init__(self, registry: AccountRegistry, alarm: DisconnectAlarm) -> None:
        self._registry = registry
        self._alarm = alarm

    def refreshed(self, account: StoredAccount) -> None:
        self._registry.record_refresh(
            account.name,
            expires_at=account.expires_at,
            refreshed_at=account.refreshed_at,
            scopes=account.scopes,
        )

    def refresh_refused(self, name: str, reason: str) -> None:
        self._registry.record_refresh_problem(name, reason)

    def disconnected(self, name: str, reason: str, now: float) -> None:
        self._registry.mark_disconnected(name, reason=reason, now=now)
        self._alarm.account_disconnected(name)


# ---------------------------------------------------------------- the use cases


class LinkRejected(Exception):
    """A start link or callback that must not attach an account; the message is safe to show."""


class AccountConflict(LinkRejected):
    """The approved Allegro login does not fit the name: another seller behind existing offers, or a login
    already connected under another name. Nothing was stored; the message says what `--replace` or
    `--allow-same-login` would do."""


@dataclass(frozen=True)
class ConnectOptions:
    """What the seller explicitly allowed: replace the login behind a name, or one login under two names."""

    replace: bool = False
    allow_same_login: bool = False

    def as_data(self) -> dict[str, str]:
        return {
            "replace": "1" if self.replace else "",
            "allow_same_login": "1" if self.allow_same_login else "",
        }

    @classmethod
    def from_data(cls, data: dict[str, str]) -> ConnectOptions:
        return cls(replace=bool(data.get("replace")), allow_same_login=bool(data.get("allow_same_login")))


@dataclass(frozen=True)
class DevicePrompt:
    """What the seller must do to approve the device flow."""

    account: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) per RFC 7636."""
    verifier = _b64(secrets.token_bytes(48))
    return verifier, _b64(hashlib.sha256(verifier.encode()).digest())


@dataclass(frozen=True, kw_only=True, eq=False)
class Accounts:
    """The account use cases. Clock and sleep are injected so tests run the device flow in microseconds."""

    vault: TokenVault
    registry: AccountRegistry
    one_time: OneTimeStore
    oauth: OAuthFlows
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    # ---- device flow
    def connect_with_device_flow(
        self,
        name: str,
        *,
        environment: str,
        on_prompt: Callable[[DevicePrompt], None],
        options: ConnectOptions | None = None,
    ) -> AccountProfile:
        """Run the whole device flow; `on_prompt` shows the code (or, in the demo, approves it).

        Polls at Allegro's interval, 5 s slower after each `slow_down` (RFC 8628); stops at the code's expiry.
        """
        check_account_name(name)
        check_environment(environment)
        device = self.oauth.start_device(environment)
        on_prompt(
            DevicePrompt(
                account=name,
                user_code=device.user_code,
                verification_uri=device.verification_uri,
                verification_uri_complete=device.verification_uri_complete,
                expires_in=device.expires_in,
            )
        )
        interval = max(1, device.interval)
        give_up_at = self.now() + device.expires_in
        transient = 0
        while True:
            self.sleep(interval)
            try:
                pair = self.oauth.poll_device(device.device_code, environment)
            except AuthorizationPending:
                transient = 0
            except OAuthUnavailable:
                transient += 1  # a network hiccup must not throw away the seller's approval
                if transient > MAX_TRANSIENT_POLL_FAILURES:
                    raise
            except SlowDown:
                interval += 5
            except AccessDenied:
                raise AccessDenied(
                    "access_denied", "the seller refused access on Allegro; nothing was stored"
                ) from None
            except DeviceCodeExpired:
                raise DeviceCodeExpired(
                    "expired_token", "the code expired before the seller approved it; run connect again"
                ) from None
            else:
                return self._store_connection(name, environment, pair, options or ConnectOptions())
            if self.now() >= give_up_at:
                raise DeviceCodeExpired(
                    "expired_token", "the code expired before the seller approved it; run connect again"
                )

    # ---- authorization code flow
    def create_start_link(
        self,
        name: str,
        *,
        environment: str,
        api_url: str,
        signing_key: bytes,
        ttl_seconds: int = START_LINK_TTL_SECONDS,
        options: ConnectOptions | None = None,
    ) -> str:
        """A signed, short-lived, single-use URL to GET /oauth/start for one account name."""
        check_account_name(name)
        check_environment(environment)
        expires = int(self.now()) + ttl_seconds
        nonce = secrets.token_urlsafe(16)
        data = {"account": name, "environment": environment, **(options or ConnectOptions()).as_data()}
        self.one_time.put(f"start#{nonce}", data, expires)
        params = {"account": name, "environment": environment, "expires": str(expires), "nonce": nonce}
        params["signature"] = _sign(signing_key, params)
        return f"{api_url.rstrip('/')}/oauth/start?{urlencode(params)}"

    def start(self, params: dict[str, str], *, redirect_uri: str, signing_key: bytes) -> str:
        """Check the start link and answer the Allegro authorize URL (state + PKCE kept server-side)."""
        missing = [
            k for k in ("account", "environment", "expires", "nonce", "signature") if not params.get(k)
        ]
        if missing:
            raise LinkRejected(
                f"the start link is incomplete (missing {', '.join(missing)}); create a new one"
            )
        signed = {k: params[k] for k in ("account", "environment", "expires", "nonce")}
        if not hmac.compare_digest(_sign(signing_key, signed), params["signature"]):
            raise LinkRejected("the start link's signature is not valid; create a new one with the CLI")
        try:
            expires = int(params["expires"])
        except ValueError:
            raise LinkRejected("the start link is malformed; create a new one with the CLI") from None
        if expires < self.now():
            raise LinkRejected("the start link has expired; create a new one with the CLI")
        started = self.one_time.consume(f"start#{params['nonce']}", self.now())
        if started is None:
            raise LinkRejected("the start link was already used; create a new one with the CLI")
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(24)
        self.one_time.put(
            f"state#{state}",
            {
                "account": signed["account"],
                "environment": signed["environment"],
                "verifier": verifier,
                **ConnectOptions.from_data(started).as_data(),
            },
            self.now() + OAUTH_STATE_TTL_SECONDS,
        )
        return self.oauth.authorize_url(
            signed["environment"], redirect_uri=redirect_uri, state=state, code_challenge=challenge
        )

    def callback(self, params: dict[str, str], *, redirect_uri: str) -> AccountProfile:
        """Finish the authorization code flow. Every failure stores nothing and says why."""
        state = params.get("state")
        if not state:
            raise LinkRejected("the callback has no state; start again from a new link")
        pending = self.one_time.consume(f"state#{state}", self.now())
        if pending is None:
            raise LinkRejected("unknown, expired or already used state; start again from a new link")
        if params.get("error"):
            raise OAuthError(
                params["error"], params.get("error_description", "Allegro refused the authorization")
            )
        code = params.get("code")
        if not code:
            raise LinkRejected("Allegro sent no authorization code; start again from a new link")
        environment = pending["environment"]
        pair = self.oauth.exchange_code(
            environment, code=code, redirect_uri=redirect_uri, code_verifier=pending["verifier"]
        )
        return self._store_connection(
            pending["account"], environment, pair, ConnectOptions.from_data(pending)
        )

    # ---- shared
    def _store_connection(
        self, name: str, environment: str, pair: TokenPair, options: ConnectOptions
    ) -> AccountProfile:
        """Save the tokens first (losing them would mean asking the seller again), then the profile.

        Refused (nothing stored) when the login does not fit the name, unless `options` allow it."""
        identity = self.oauth.identify(pair.access_token, environment)
        self._check_identity(name, identity, options)
        now = self.now()
        account = StoredAccount(
            name=name,
            status=AccountStatus.CONNECTED,
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_at=now + pair.expires_in,
            scopes=pair.scopes,
            seller_id=identity.seller_id,
            login=identity.login,
            environment=environment,
            refreshed_at=now,
        )
        self.vault.save(account)
        profile = AccountProfile(
            name=name,
            status=AccountStatus.CONNECTED,
            environment=environment,
            seller_id=identity.seller_id,
            login=identity.login,
            scopes=pair.scopes,
            token_expires_at=account.expires_at,
            last_refresh_at=now,
            connected_at=now,
        )
        self.registry.put(profile)
        return profile

    def _check_identity(self, name: str, identity: Identity, options: ConnectOptions) -> None:
        """Issue 18: a name keeps its seller (its offers belong to that login), a login keeps one name."""
        who = f"{identity.login or 'login'} (seller {identity.seller_id})"
        current = self.registry.get(name)
        if current is not None and current.seller_id != identity.seller_id and not options.replace:
            raise AccountConflict(
                f"{name!r} is connected to {current.login or 'another login'} (seller {current.seller_id}), "
                f"but you approved as {who}. Nothing was changed. With --replace, {name!r} would sync {who} "
                f"instead: the offers already published under {name!r} stay on "
                f"{current.login or current.seller_id}'s Allegro account and are no longer updated, and "
                "every product is published again as a new offer of the new login."
            )
        twins = [
            p.name
            for p in self.registry.all()
            if p.name != name and p.seller_id == identity.seller_id and p.status is AccountStatus.CONNECTED
        ]
        if twins and not options.allow_same_login:
            raise AccountConflict(
                f"{who} is already connected as {', '.join(repr(t) for t in twins)}. Nothing was changed. "
                f"Connected again as {name!r}, every product would be listed twice on the same Allegro "
                "account (duplicate offers, which Allegro's rules forbid). Use the existing name, or pass "
                "--allow-same-login if you really mean two names for one login."
            )

    def list_accounts(self) -> list[AccountProfile]:
        return sorted(self.registry.all(), key=lambda p: p.name)

    def show(self, name: str) -> AccountProfile:
        profile = self.registry.get(check_account_name(name))
        if profile is None:
            raise AccountNotFound(name)
        return profile

    def disconnect(self, name: str) -> AccountProfile:
        """Stop using an account: wipe its tokens, mark it DISCONNECTED (the seller may reconnect later)."""
        profile = self.show(name)
        try:
            stored = self.vault.read(name, fresh=True)
        except AccountNotFound:
            pass
        else:
            self.vault.save(stored.disconnected())
        self.registry.mark_disconnected(name, reason="disconnected by the operator", now=self.now())
        return self.registry.get(name) or profile

    def remove(self, name: str) -> AccountProfile:
        """Forget a DISCONNECTED account (its secret and profile); a connected one must be disconnected
        first, so removing never stops a working sync by accident. Its offers on Allegro stay as they are."""
        profile = self.show(name)
        if profile.status is AccountStatus.CONNECTED:
            raise AccountStillConnected(
                f"account {name!r} is CONNECTED: disconnect it first "
                f"(allegro-sync accounts disconnect {name})"
            )
        self.vault.delete(name)
        self.registry.remove(name)
        return profile


def _sign(key: bytes, params: dict[str, Any]) -> str:
    message = "\n".join(f"{k}={params[k]}" for k in sorted(params)).encode()
    return _b64(hmac.new(key, message, hashlib.sha256).digest())
