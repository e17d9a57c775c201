"""Ports shared across layers: small `typing.Protocol`s that adapters implement and use cases depend on."""

from __future__ import annotations

from typing import Protocol


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
