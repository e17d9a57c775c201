"""Seller accounts across the custody boundary: stored tokens, profiles, OAuth answers and their errors.

Token custody (`services.tokens`, `services.accounts`) and its adapters (Secrets Manager, the `control`
table, Allegro's OAuth endpoints) exchange these; the Allegro client gets its bearer token through
`TokenSource`. Nothing here ever puts a token in a `repr`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

CONNECTED = "CONNECTED"
DISCONNECTED = "DISCONNECTED"


class AccountStatus(StrEnum):
    CONNECTED = CONNECTED
    DISCONNECTED = DISCONNECTED


@dataclass(frozen=True)
class TokenPair:
    """What Allegro's token endpoint answers. `repr` hides the tokens so they never reach a log line."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredAccount:
    """The content of one account's secret: the live token pair plus who it belongs to.

    Status lives here too (not only in the DynamoDB profile) so a handler's cached secret read is enough
    to stop calling Allegro for a disconnected account.
    """

    name: str
    status: AccountStatus
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    scopes: tuple[str, ...]
    seller_id: str
    login: str
    environment: str
    refreshed_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "scopes": list(self.scopes),
            "seller_id": self.seller_id,
            "login": self.login,
            "environment": self.environment,
            "refreshed_at": self.refreshed_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredAccount:
        try:
            return cls(
                name=str(data["name"]),
                status=AccountStatus(data.get("status", CONNECTED)),
                access_token=str(data.get("access_token", "")),
                refresh_token=str(data.get("refresh_token", "")),
                expires_at=float(data.get("expires_at", 0)),
                scopes=tuple(str(s) for s in data.get("scopes", ())),
                seller_id=str(data.get("seller_id", "")),
                login=str(data.get("login", "")),
                environment=str(data.get("environment", "production")),
                refreshed_at=float(data.get("refreshed_at", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TokenStoreCorrupt(f"the stored account secret is malformed: {exc}") from None

    def with_pair(self, pair: TokenPair, now: float) -> StoredAccount:
        return replace(
            self,
            status=AccountStatus.CONNECTED,
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_at=now + pair.expires_in,
            scopes=pair.scopes or self.scopes,
            refreshed_at=now,
        )

    def disconnected(self) -> StoredAccount:
        """Dead tokens are wiped: nothing worth stealing stays in the secret."""
        return replace(self, status=AccountStatus.DISCONNECTED, access_token="", refresh_token="")


class AccountDisconnected(Exception):
    """The seller must connect this account again (`allegro-sync accounts connect NAME`)."""

    def __init__(self, name: str, reason: str = "") -> None:
        self.name = name
        self.reason = reason
        super().__init__(
            f"Allegro account {name!r} is disconnected"
            + (f" ({reason})" if reason else "")
            + f"; reconnect it with: allegro-sync accounts connect {name}"
        )


class AccountNotFound(LookupError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"no Allegro account named {name!r}; connect it with: allegro-sync accounts connect {name}"
        )


class TokenStoreCorrupt(Exception):
    """The secret exists but cannot be read as an account: an operator edited it by hand."""


class TokenUnavailable(Exception):
    """Another refresher held the lease for longer than we can wait; the caller should retry later."""


class InvalidGrant(Exception):
    """Allegro rejected the refresh token for good (rotated away, password change, user blocked...)."""


@dataclass(frozen=True)
class LeaseGrant:
    """A held lease. `rotated_from` fingerprints the refresh token the last completed refresh used up."""

    rotated_from: str = ""


class OAuthError(Exception):
    """An OAuth error answer from Allegro (`{"error", "error_description"}`), safe to show a seller."""

    def __init__(self, error: str, description: str = "") -> None:
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}" if description else error)


class AuthorizationPending(OAuthError):
    pass


class SlowDown(OAuthError):
    pass


class AccessDenied(OAuthError):
    pass


class DeviceCodeExpired(OAuthError):
    pass


class OAuthUnavailable(OAuthError):
    """Allegro's OAuth host failed or answered nonsense: retry later, nothing is lost."""


@dataclass(frozen=True)
class DeviceAuthorization:
    user_code: str
    device_code: str = field(repr=False)
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class Identity:
    seller_id: str
    login: str


@dataclass(frozen=True)
class AccountProfile:
    """What an operator may see about an account: status and timings, never a token."""

    name: str
    status: AccountStatus
    environment: str
    seller_id: str
    login: str
    scopes: tuple[str, ...]
    token_expires_at: float
    last_refresh_at: float
    connected_at: float
    disconnected_at: float | None = None
    disconnect_reason: str = ""
    # The last refresh failed for the application's fault (its client id/secret refused): not the
    # seller's; cleared by the next successful refresh.
    refresh_problem: str = ""

    @property
    def shown_status(self) -> str:
        """The status an operator reads: CONNECTED accounts whose refresh fails say so."""
        failing = self.refresh_problem and self.status is not AccountStatus.DISCONNECTED
        return f"{self.status.value} (refresh failing)" if failing else self.status.value

    def what_to_do(self) -> str:
        if self.refresh_problem and self.status is not AccountStatus.DISCONNECTED:
            return (
                f"fix the app credentials: allegro-sync accounts set-app CLIENT_ID ({self.refresh_problem})"
            )
        if self.status is AccountStatus.DISCONNECTED:
            return f"reconnect: allegro-sync accounts connect {self.name}" + (
                " --sandbox" if self.environment == "sandbox" else ""
            )
        return "nothing"


class TokenSource(Protocol):
    """Hands the Allegro client a bearer token for one seller account.

    Implemented by the token custody service (Secrets Manager + refresh lease); the client never
    refreshes tokens itself, so a refresh-token rotation happens in exactly one place.
    """

    def access_token(self) -> str:
        """A valid access token, refreshed first when it is about to expire."""
        ...

    def token_rejected(self, rejected_token: str) -> str:
        """Allegro answered 401 to `rejected_token`: return a fresh one (or raise if the account is gone)."""
        ...
