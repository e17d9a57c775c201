"""Allegro's OAuth endpoints (site host): device flow, authorization code + PKCE, refresh, and GET /me.

OAuth is not in the OpenAPI spec; behaviour follows FACTS.md. Parameters travel in the form body (never the
query string) so no token or code can end up in an access log or an exception's URL.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from allegro_sync.adapters.allegro.core import USER_AGENT
from allegro_sync.adapters.allegro.environment import ENVIRONMENTS, AllegroEnvironment
from allegro_sync.adapters.secrets import AppCredentials
from allegro_sync.contracts.accounts import (
    AccessDenied,
    AuthorizationPending,
    DeviceAuthorization,
    DeviceCodeExpired,
    Identity,
    InvalidGrant,
    OAuthError,
    OAuthUnavailable,
    SlowDown,
    TokenPair,
)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
MEDIA_TYPE = "application/vnd.allegro.public.v1+json"


class _Answer(BaseModel):
    """An answer the OAuth flow reads (token, device code, /me); schema built on first use, not at import."""

    model_config = ConfigDict(defer_build=True)


class _TokenAnswer(_Answer):
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str = ""

    def pair(self) -> TokenPair:
        return TokenPair(self.access_token, self.refresh_token, self.expires_in, tuple(self.scope.split()))


class _DeviceAnswer(_Answer):
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str = ""
    expires_in: int = 3600
    interval: int = 5


class _Me(_Answer):
    id: str
    login: str


def environment_for(account_environment: str, hosts: AllegroEnvironment | None = None) -> AllegroEnvironment:
    """Hosts for an account: explicit `hosts` (the emulator) win, else production or sandbox."""
    if hosts is not None:
        return hosts
    try:
        return ENVIRONMENTS[account_environment]
    except KeyError:
        raise ValueError(f"unknown Allegro environment {account_environment!r}") from None


class AllegroOAuth:
    """`OAuthFlows` and `RefreshPort` over httpx. Credentials are read lazily (cached by their store)."""

    def __init__(
        self,
        credentials: Callable[[], AppCredentials],
        *,
        hosts: AllegroEnvironment | None = None,
        http: httpx.Client | None = None,
        timeout_seconds: float = 8.0,
        fresh_credentials: Callable[[], AppCredentials] | None = None,
    ) -> None:
        self._credentials = credentials
        self._fresh_credentials = fresh_credentials
        self._hosts_override = hosts
        # Timeout well under the refresh lease (20 s): a live refresher never outlives its lease.
        self._http = http or httpx.Client(timeout=timeout_seconds)

    def _hosts(self, environment: str) -> AllegroEnvironment:
        return environment_for(environment, self._hosts_override)

    def _client_auth(self, environment: str) -> tuple[str, str]:
        return self._credentials().for_environment(environment)

    def _post(
        self, environment: str, path: str, form: dict[str, str], app: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        used = app or self._client_auth(environment)
        try:
            return self._post_once(environment, path, form, used)
        except OAuthError as error:
            if app is not None or error.error != "invalid_client" or self._fresh_credentials is None:
                raise
            # The cached credentials may predate `accounts set-app`: read them again, retry once if they
            # changed (a refused client never consumed the single-use refresh token).
            renewed = self._fresh_credentials().for_environment(environment)
            if renewed == used:
                raise
            return self._post_once(environment, path, form, renewed)

    def _post_once(
        self, environment: str, path: str, form: dict[str, str], app: tuple[str, str]
    ) -> dict[str, Any]:
        client_id, client_secret = app
        url = f"{self._hosts(environment).oauth_url}{path}"
        try:
            response = self._http.post(
                url, data=form, auth=(client_id, client_secret), headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise OAuthUnavailable(
                "unavailable", f"Allegro OAuth unreachable ({type(exc).__name__})"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and isinstance(body, dict):
            return body
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            error, description = body["error"], str(body.get("error_description") or "")
            if response.status_code == 401 or error == "invalid_client":
                raise OAuthError(
                    "invalid_client",
                    "Allegro rejected the app's client id/secret; check: allegro-sync accounts set-app",
                )
            raise OAuthError(error, description)
        raise OAuthUnavailable("unavailable", f"Allegro OAuth answered HTTP {response.status_code}")

    def check_app(self, environment: str, client_id: str, client_secret: str) -> None:
        """A client-credentials token for this app (public data only, nothing stored): proves the pair
        before `accounts set-app` keeps it. OAuthError(invalid_client) when Allegro refuses it."""
        self._post(
            environment,
            "/auth/oauth/token",
            {"grant_type": "client_credentials"},
            app=(client_id, client_secret),
        )

    # ---- device flow
    def start_device(self, environment: str) -> DeviceAuthorization:
        client_id, _ = self._client_auth(environment)
        body = self._post(environment, "/auth/oauth/device", {"client_id": client_id})
        try:
            answer = _DeviceAnswer.model_validate(body)
        except ValidationError:
            raise OAuthUnavailable("unavailable", "Allegro's device answer lacks required fields") from None
        return DeviceAuthorization(
            user_code=answer.user_code,
            device_code=answer.device_code,
            verification_uri=answer.verification_uri,
            verification_uri_complete=answer.verification_uri_complete or answer.verification_uri,
            expires_in=answer.expires_in,
            interval=answer.interval,
        )

    def poll_device(self, device_code: str, environment: str) -> TokenPair:
        try:
            body = self._post(
                environment, "/auth/oauth/token", {"grant_type": DEVICE_GRANT, "device_code": device_code}
            )
        except OAuthError as exc:
            mapped: dict[str, type[OAuthError]] = {
                "authorization_pending": AuthorizationPending,
                "slow_down": SlowDown,
                "access_denied": AccessDenied,
                "expired_token": DeviceCodeExpired,
                "invalid_grant": DeviceCodeExpired,
            }
            kind = mapped.get(exc.error)
            if kind is None:
                raise
            raise kind(exc.error, exc.description) from None
        return _pair(body)

    # ---- authorization code
    def authorize_url(self, environment: str, *, redirect_uri: str, state: str, code_challenge: str) -> str:
        client_id, _ = self._client_auth(environment)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
                "prompt": "confirm",
            }
        )
        return f"{self._hosts(environment).oauth_url}/auth/oauth/authorize?{query}"

    def exchange_code(
        self, environment: str, *, code: str, redirect_uri: str, code_verifier: str
    ) -> TokenPair:
        body = self._post(
            environment,
            "/auth/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
        )
        return _pair(body)

    # ---- refresh
    def refresh(self, refresh_token: str, environment: str) -> TokenPair:
        try:
            body = self._post(
                environment,
                "/auth/oauth/token",
                {"grant_type": "refresh_token", "refresh_token": refresh_token},
            )
        except OAuthError as exc:
            if exc.error == "invalid_grant":
                raise InvalidGrant(exc.description or "invalid_grant") from None
            raise
        return _pair(body)

    # ---- identity
    def identify(self, access_token: str, environment: str) -> Identity:
        """GET /me: the seller id and login that `accounts list` shows.

        The tokens are already in hand and the code that bought them is spent, so a failing /me must not
        lose the connection: fall back to the seller id inside the JWT (`user_name`) and an unknown login.
        """
        url = f"{self._hosts(environment).api_url}/me"
        try:
            # An API call, unlike OAuth's: it must name the registered application (#13126).
            user_agent = self._credentials().user_agent() or USER_AGENT
            response = self._http.get(
                url,
                headers={
                    "Authorization": f"Bearer {access_token}",
                    "Accept": MEDIA_TYPE,
                    "User-Agent": user_agent,
                },
            )
            if response.status_code == 200:
                me = _Me.model_validate(response.json())
                return Identity(seller_id=me.id, login=me.login)
        except (httpx.HTTPError, ValueError, ValidationError):
            pass
        return Identity(seller_id=_jwt_user(access_token), login="")


def _jwt_user(token: str) -> str:
    """The `user_name` claim of an Allegro access token (read, not verified: it only labels the account)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims.get("user_name", ""))
    except (IndexError, ValueError, AttributeError):
        return ""


def _pair(body: dict[str, Any]) -> TokenPair:
    try:
        return _TokenAnswer.model_validate(body).pair()
    except ValidationError:
        # Never echo the body: it may carry a token.
        raise OAuthUnavailable("unavailable", "Allegro's token answer lacks required fields") from None
