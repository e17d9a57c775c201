"""The emulated Allegro OAuth server (site host: /auth/oauth/authorize, /token, /device).

OAuth is not in Allegro's OpenAPI spec; its behaviour follows FACTS.md, and above all the rule that
breaks real integrations: refresh tokens rotate and are single-use, with a 60 s grace after their
first use (#6733, #2553, #4348, #12970). Everything reads the emulator `Clock`, so a test can age a
token by twelve hours or three months without waiting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from allegro_sync.emulator.types import Clock, EmulatorRequest, EmulatorResponse

ACCESS_TOKEN_TTL = 43199  # seconds, as Allegro answers in `expires_in`
REFRESH_TOKEN_TTL = timedelta(days=90)  # "3 months"
REFRESH_GRACE = timedelta(seconds=60)
CODE_TTL = timedelta(seconds=10)
DEVICE_CODE_TTL = 3600
DEVICE_INTERVAL = 5
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_SCOPES = (
    "allegro:api:profile:read",
    "allegro:api:sale:offers:read",
    "allegro:api:sale:offers:write",
    "allegro:api:sale:settings:read",
    "allegro:api:sale:settings:write",
    "allegro:api:orders:read",
    "allegro:api:orders:write",
    "allegro:api:shipments:read",
    "allegro:api:shipments:write",
    "allegro:api:fulfillment:read",
    "allegro:api:fulfillment:write",
)
VERIFICATION_PATH = "/skojarz-aplikacje"


@dataclass(frozen=True)
class App:
    """A registered Allegro application: one Client ID serves every seller (FACTS: OAuth)."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    name: str = "allegro-sync"


@dataclass
class Account:
    seller_id: str
    login: str
    company: bool = True
    disconnected_at: datetime | None = None


@dataclass(frozen=True)
class TokenInfo:
    """What an access token stands for; `seller_id` is None for a client_credentials token."""

    jti: str
    client_id: str
    seller_id: str | None
    expires_at: datetime
    scopes: tuple[str, ...]


class InvalidToken(Exception):
    """The bearer token is unknown, expired or revoked; `description` goes to `error_description`."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass
class _AuthRequest:
    id: str
    client_id: str
    redirect_uri: str
    state: str | None
    challenge: str | None
    challenge_method: str
    scopes: tuple[str, ...]


@dataclass
class _Code:
    client_id: str
    seller_id: str
    redirect_uri: str
    challenge: str | None
    challenge_method: str
    scopes: tuple[str, ...]
    expires_at: datetime
    used: bool = False


@dataclass
class _Device:
    device_code: str
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    status: str = "pending"  # pending | approved | denied | consumed
    seller_id: str | None = None
    last_poll: datetime | None = None


@dataclass
class _Refresh:
    client_id: str
    seller_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    first_used_at: datetime | None = None
    revoked: bool = False


@dataclass
class RefreshCounters:
    """Per seller: refresh requests that reached the token endpoint, and those that got a new pair."""

    attempts: int = 0
    successes: int = 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _oauth_error(status: int, error: str, description: str) -> EmulatorResponse:
    return EmulatorResponse(
        status,
        {"error": error, "error_description": description},
        {"Content-Type": "application/json", "Cache-Control": "no-store"},
    )


def _html(status: int, body: str) -> EmulatorResponse:
    return EmulatorResponse(status, body, {"Content-Type": "text/html; charset=utf-8"})


def _redirect(location: str) -> EmulatorResponse:
    return EmulatorResponse(302, None, {"Location": location})


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def pkce_s256(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636), for clients and tests alike."""
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


class OAuthServer:
    """Apps, seller accounts and every token the emulator ever issued, behind one lock."""

    def __init__(
        self,
        clock: Clock,
        *,
        auto_approve: bool = False,
        max_tokens_per_user_per_hour: int = 100,
        site_url: str = "http://127.0.0.1",
    ) -> None:
        self.clock = clock
        self.auto_approve = auto_approve
        self.max_tokens_per_user_per_hour = max_tokens_per_user_per_hour
        self.site_url = site_url
        self._lock = threading.RLock()
        self._key = secrets.token_bytes(32)
        self._apps: dict[str, App] = {}
        self._accounts: dict[str, Account] = {}
        self._logins: dict[str, str] = {}
        self._signed_in: str | None = None
        self._auth_requests: dict[str, _AuthRequest] = {}
        self._codes: dict[str, _Code] = {}
        self._devices: dict[str, _Device] = {}
        self._user_codes: dict[str, str] = {}
        self._access: dict[str, TokenInfo] = {}
        self._revoked_jtis: set[str] = set()
        self._refresh: dict[str, _Refresh] = {}
        self._every_refresh_token: list[str] = []  # for log scans: every one ever issued, used or not
        self._issued: dict[str, deque[datetime]] = defaultdict(deque)
        self._counters: dict[str, RefreshCounters] = defaultdict(RefreshCounters)

    # ----------------------------------------------------------------- registry
    def create_app(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uris: tuple[str, ...] | list[str] = ("http://127.0.0.1/oauth/callback",),
        name: str = "allegro-sync",
    ) -> App:
        app = App(
            client_id or secrets.token_hex(16),
            client_secret or secrets.token_urlsafe(48),
            tuple(redirect_uris),
            name,
        )
        with self._lock:
            self._apps[app.client_id] = app
        return app

    def app(self, client_id: str) -> App:
        with self._lock:
            return self._apps[client_id]

    def add_redirect_uri(self, client_id: str, uri: str) -> App:
        """Register one more callback (the local runtime learns its port only at start)."""
        with self._lock:
            app = self._apps[client_id]
            updated = App(app.client_id, app.client_secret, (*app.redirect_uris, uri), app.name)
            self._apps[client_id] = updated
            return updated

    def create_account(self, login: str, *, company: bool = True, seller_id: str | None = None) -> Account:
        with self._lock:
            if login in self._logins:
                raise ValueError(f"a seller with login {login!r} already exists")
            account = Account(seller_id or str(10_000_000 + len(self._accounts) + 1), login, company)
            self._accounts[account.seller_id] = account
            self._logins[login] = account.seller_id
            return account

    def account(self, login: str) -> Account:
        with self._lock:
            try:
                return self._accounts[self._logins[login]]
            except KeyError:
                raise KeyError(f"no seller with login {login!r}") from None

    def account_by_id(self, seller_id: str) -> Account | None:
        with self._lock:
            return self._accounts.get(seller_id)

    def sign_in(self, login: str) -> None:
        """Choose who is 'logged in' in the emulated browser (who approves in auto-approve mode)."""
        with self._lock:
            self.account(login)
            self._signed_in = login

    def _browser_login(self) -> str | None:
        if self._signed_in:
            return self._signed_in
        return next(reversed(self._logins), None) if self._logins else None

    # ---------------------------------------------------------------- counters
    def refresh_counters(self, login: str) -> RefreshCounters:
        with self._lock:
            counters = self._counters[self.account(login).seller_id]
            return RefreshCounters(counters.attempts, counters.successes)

    def refresh_count(self, login: str) -> int:
        """Refresh requests for this seller that reached the token endpoint (valid or not)."""
        return self.refresh_counters(login).attempts

    # ------------------------------------------------------------ disconnection
    def disconnect(self, login: str) -> None:
        """What a password change or "log out everywhere" does: every token of the seller dies."""
        with self._lock:
            account = self.account(login)
            account.disconnected_at = self.clock.now()
            for info in self._access.values():
                if info.seller_id == account.seller_id:
                    self._revoked_jtis.add(info.jti)
            for refresh in self._refresh.values():
                if refresh.seller_id == account.seller_id:
                    refresh.revoked = True

    # ----------------------------------------------------------- access tokens
    def authenticate(self, token: str) -> TokenInfo:
        """Resolve a bearer token, or raise InvalidToken with Allegro-like wording."""
        try:
            header, payload, signature = token.split(".")
            expected = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(expected, signature):
                raise InvalidToken("Cannot convert access token to JSON")
            claims = json.loads(_unb64(payload))
            jti = str(claims["jti"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidToken("Cannot convert access token to JSON") from exc
        with self._lock:
            info = self._access.get(jti)
            if info is None or jti in self._revoked_jtis:
                raise InvalidToken(f"Invalid access token: {jti}")
        if self.clock.now() >= info.expires_at:
            raise InvalidToken(f"Access token expired: {jti}")
        return info

    def _mint(self, client_id: str, seller_id: str | None, scopes: tuple[str, ...]) -> tuple[str, TokenInfo]:
        now = self.clock.now()
        jti = secrets.token_hex(16)
        info = TokenInfo(jti, client_id, seller_id, now + timedelta(seconds=ACCESS_TOKEN_TTL), scopes)
        claims: dict[str, Any] = {
            "scope": list(scopes),
            "allegro_api": True,
            "iss": self.site_url,
            "exp": int(info.expires_at.timestamp()),
            "jti": jti,
            "client_id": client_id,
        }
        if seller_id is not None:
            claims["user_name"] = seller_id
            claims["authorities"] = ["ROLE_ALLEGRO_SELLER"]
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        self._access[jti] = info
        return f"{header}.{payload}.{sig}", info

    def _issue_pair(self, client_id: str, seller_id: str, scopes: tuple[str, ...]) -> EmulatorResponse:
        """Access + refresh token for a seller, unless the seller asked for too many (FACTS: 429)."""
        now = self.clock.now()
        issued = self._issued[seller_id]
        while issued and now - issued[0] > timedelta(hours=1):
            issued.popleft()
        if len(issued) >= self.max_tokens_per_user_per_hour:
            return _oauth_error(429, "too_many_requests", "Too many tokens issued for this user")
        issued.append(now)
        access, info = self._mint(client_id, seller_id, scopes)
        refresh = secrets.token_urlsafe(48)
        self._refresh[refresh] = _Refresh(client_id, seller_id, scopes, now + REFRESH_TOKEN_TTL)
        self._every_refresh_token.append(refresh)
        return self._token_response(access, info, refresh)

    @staticmethod
    def _token_response(access: str, info: TokenInfo, refresh: str | None) -> EmulatorResponse:
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_TTL,
            "scope": " ".join(info.scopes),
            "allegro_api": True,
            "jti": info.jti,
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return EmulatorResponse(200, body, {"Content-Type": "application/json", "Cache-Control": "no-store"})

    def refresh_tokens_issued(self) -> list[str]:
        """Every refresh token this server handed out: what a log scan must never find."""
        with self._lock:
            return list(self._every_refresh_token)

    def issue_tokens(
        self, login: str, client_id: str, scopes: tuple[str, ...] = DEFAULT_SCOPES
    ) -> dict[str, Any]:
        """Shortcut for tests: the token response a completed login would give."""
        with self._lock:
            account = self.account(login)
            response = self._issue_pair(client_id, account.seller_id, scopes)
        if response.status != 200:
            raise RuntimeError(f"could not issue tokens: {response.body}")
        return dict(response.body)

    def issue_app_token(self, client_id: str) -> dict[str, Any]:
        with self._lock:
            access, info = self._mint(client_id, None, ())
        return dict(self._token_response(access, info, None).body)

    # ------------------------------------------------------------ HTTP routing
    def handle(self, request: EmulatorRequest) -> EmulatorResponse | None:
        """Answer an OAuth or consent-page request; None when the path is not ours."""
        path = request.path.rstrip("/")
        routes: dict[tuple[str, str], Any] = {
            ("GET", "/auth/oauth/authorize"): self._authorize,
            ("POST", "/auth/oauth/authorize"): lambda r: self._authorize_decision(_params(r)),
            ("POST", "/auth/oauth/token"): self._token,
            ("POST", "/auth/oauth/device"): self._device,
            ("GET", VERIFICATION_PATH): lambda r: self._device_page(r.arg("code", "") or ""),
            ("POST", VERIFICATION_PATH): lambda r: self._device_decision(_params(r)),
        }
        action = routes.get((request.method, path))
        if action is not None:
            with self._lock:
                response: EmulatorResponse = action(request)
                return response
        if path in _OAUTH_PATHS:
            return _oauth_error(405, "invalid_request", f"{request.method} is not allowed here")
        if path.startswith("/auth/oauth/"):
            return _oauth_error(404, "invalid_request", "No such OAuth endpoint")
        return None

    def _client(self, request: EmulatorRequest) -> App | None:
        """HTTP Basic client authentication, as Allegro requires on the token and device endpoints."""
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        app = self._apps.get(client_id)
        if app is None or not hmac.compare_digest(app.client_secret.encode(), secret.encode()):
            return None
        return app

    # ------------------------------------------------------- authorization code
    def _authorize(self, request: EmulatorRequest) -> EmulatorResponse:
        params = _params(request)
        app = self._apps.get(params.get("client_id", ""))
        if app is None:
            return _oauth_error(400, "invalid_client", "Unknown client_id")
        redirect_uri = params.get("redirect_uri") or app.redirect_uris[0]
        if not _redirect_allowed(app, redirect_uri):
            # Never redirect to an unregistered address: an attacker could collect codes there.
            return _oauth_error(400, "invalid_request", "redirect_uri does not match the application")
        state = params.get("state")
        if params.get("response_type") != "code":
            return _redirect(
                _with_query(redirect_uri, _drop_none(error="unsupported_response_type", state=state))
            )
        method = params.get("code_challenge_method", "plain" if params.get("code_challenge") else "")
        if params.get("code_challenge") and method not in ("S256", "plain"):
            return _redirect(
                _with_query(
                    redirect_uri,
                    _drop_none(
                        error="invalid_request", error_description="code_challenge_method", state=state
                    ),
                )
            )
        scopes = tuple(params["scope"].split()) if params.get("scope") else DEFAULT_SCOPES
        pending = _AuthRequest(
            secrets.token_urlsafe(12),
            app.client_id,
            redirect_uri,
            state,
            params.get("code_challenge"),
            method,
            scopes,
        )
        self._auth_requests[pending.id] = pending
        login = self._browser_login()
        if self.auto_approve and login is not None:
            return _redirect(self._decide(pending.id, login, approve=True))
        return _html(200, _consent_page(pending.id, app.name, login or ""))

    def pending_authorizations(self) -> list[str]:
        with self._lock:
            return list(self._auth_requests)

    def decide_authorization(self, login: str, *, approve: bool = True, request_id: str | None = None) -> str:
        """Approve or deny a pending login (the latest when no id): returns the redirect URL Allegro sends."""
        with self._lock:
            if request_id is None:
                if not self._auth_requests:
                    raise KeyError("no pending authorization request")
                request_id = next(reversed(self._auth_requests))
            return self._decide(request_id, login, approve=approve)

    def _decide(self, request_id: str, login: str, *, approve: bool) -> str:
        pending = self._auth_requests.pop(request_id)
        if not approve:
            return _with_query(pending.redirect_uri, _drop_none(error="access_denied", state=pending.state))
        account = self.account(login)
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            pending.client_id,
            account.seller_id,
            pending.redirect_uri,
            pending.challenge,
            pending.challenge_method,
            pending.scopes,
            self.clock.now() + CODE_TTL,
        )
        return _with_query(pending.redirect_uri, _drop_none(code=code, state=pending.state))

    def _authorize_decision(self, params: dict[str, str]) -> EmulatorResponse:
        request_id = params.get("request_id", "")
        if request_id not in self._auth_requests:
            return _html(400, "<p>This login request is unknown or already answered.</p>")
        approve = params.get("decision", "approve") == "approve"
        login = params.get("login", "")
        if approve and login not in self._logins:
            return _html(400, f"<p>No seller {html.escape(login)!s} in the emulator.</p>")
        return _redirect(self._decide(request_id, login, approve=approve))

    # ------------------------------------------------------------- device flow
    def _device(self, request: EmulatorRequest) -> EmulatorResponse:
        app = self._client(request)
        params = _params(request)
        if app is None:
            return _oauth_error(401, "invalid_client", "Bad client credentials")
        if params.get("client_id") != app.client_id:
            return _oauth_error(400, "invalid_request", "client_id must match the authenticated client")
        scopes = tuple(params["scope"].split()) if params.get("scope") else DEFAULT_SCOPES
        device = _Device(
            secrets.token_urlsafe(32),
            secrets.token_hex(5)[:9],
            app.client_id,
            scopes,
            self.clock.now() + timedelta(seconds=DEVICE_CODE_TTL),
        )
        self._devices[device.device_code] = device
        self._user_codes[device.user_code] = device.device_code
        login = self._browser_login()
        if self.auto_approve and login is not None:
            device.status, device.seller_id = "approved", self.account(login).seller_id
        verification = f"{self.site_url}{VERIFICATION_PATH}"
        return EmulatorResponse(
            200,
            {
                "device_code": device.device_code,
                "user_code": device.user_code,
                "verification_uri": verification,
                "verification_uri_complete": f"{verification}?code={device.user_code}",
                "expires_in": DEVICE_CODE_TTL,
                "interval": DEVICE_INTERVAL,
            },
            {"Content-Type": "application/json", "Cache-Control": "no-store"},
        )

    def decide_device(self, user_code: str, login: str | None, *, approve: bool) -> None:
        """The seller typing the code on allegro.pl and clicking approve (or deny)."""
        with self._lock:
            device = self._devices.get(self._user_codes.get(user_code, ""))
            if device is None:
                raise KeyError(f"unknown user code {user_code!r}")
            if device.status != "pending":
                raise ValueError(f"user code {user_code!r} was already answered ({device.status})")
            if self.clock.now() >= device.expires_at:
                raise ValueError(f"user code {user_code!r} has expired")
            if approve:
                if login is None:
                    raise ValueError("approving needs the seller's login")
                device.status, device.seller_id = "approved", self.account(login).seller_id
            else:
                device.status = "denied"

    def _device_page(self, user_code: str) -> EmulatorResponse:
        return _html(200, _device_page(user_code, self._browser_login() or ""))

    def _device_decision(self, params: dict[str, str]) -> EmulatorResponse:
        try:
            self.decide_device(
                params.get("user_code", ""), params.get("login"), approve=params.get("decision") == "approve"
            )
        except (KeyError, ValueError) as exc:
            return _html(400, f"<p>{html.escape(str(exc))}</p>")
        return _html(200, "<p>Done. You can return to the application.</p>")

    # ---------------------------------------------------------- token endpoint
    def _token(self, request: EmulatorRequest) -> EmulatorResponse:
        app = self._client(request)
        if app is None:
            return _oauth_error(401, "invalid_client", "Bad client credentials")
        params = _params(request)
        grant = params.get("grant_type", "")
        if grant == "authorization_code":
            return self._grant_code(app, params)
        if grant == "refresh_token":
            return self._grant_refresh(app, params)
        if grant == DEVICE_GRANT:
            return self._grant_device(app, params)
        if grant == "client_credentials":
            access, info = self._mint(app.client_id, None, ())
            return self._token_response(access, info, None)
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant or '(none)'}")

    def _grant_code(self, app: App, params: dict[str, str]) -> EmulatorResponse:
        code = self._codes.get(params.get("code", ""))
        problem = self._code_problem(app, code, params)
        if problem is not None:
            return problem
        assert code is not None
        return self._issue_pair(app.client_id, code.seller_id, code.scopes)

    def _code_problem(  # noqa: PLR0911 - one early answer per OAuth rule reads best
        self, app: App, code: _Code | None, params: dict[str, str]
    ) -> EmulatorResponse | None:
        """Why a code cannot be exchanged: unknown, reused, expired (10 s), redirect or PKCE mismatch."""
        if code is None or code.client_id != app.client_id:
            return _oauth_error(400, "invalid_grant", "Invalid authorization code")
        if code.used:
            return _oauth_error(400, "invalid_grant", "Authorization code already used")
        code.used = True  # single use: even a failed exchange burns it
        if self.clock.now() >= code.expires_at:
            return _oauth_error(400, "invalid_grant", "Authorization code expired")
        if params.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
            return _oauth_error(400, "invalid_grant", "Redirect URI mismatch")
        if code.challenge is None:
            return None
        verifier = params.get("code_verifier")
        if verifier is None:
            return _oauth_error(400, "invalid_request", "code_verifier is required")
        computed = pkce_s256(verifier) if code.challenge_method == "S256" else verifier
        if not hmac.compare_digest(computed, code.challenge):
            return _oauth_error(400, "invalid_grant", "Invalid code_verifier")
        return None

    def _grant_refresh(self, app: App, params: dict[str, str]) -> EmulatorResponse:
        refresh = self._refresh.get(params.get("refresh_token", ""))
        if refresh is None or refresh.client_id != app.client_id:
            return _oauth_error(400, "invalid_grant", "Invalid refresh token")
        counters = self._counters[refresh.seller_id]
        counters.attempts += 1
        now = self.clock.now()
        if refresh.revoked:
            return _oauth_error(400, "invalid_grant", "Invalid refresh token")
        if now >= refresh.expires_at:
            return _oauth_error(400, "invalid_grant", "Invalid refresh token (expired)")
        if refresh.first_used_at is None:
            refresh.first_used_at = now
        elif now - refresh.first_used_at > REFRESH_GRACE:
            # The integrator failure FACTS.md warns about: the rotated token is gone for good.
            return _oauth_error(400, "invalid_grant", "Invalid refresh token (already used)")
        response = self._issue_pair(app.client_id, refresh.seller_id, refresh.scopes)
        if response.status == 200:
            counters.successes += 1
        return response

    def _grant_device(self, app: App, params: dict[str, str]) -> EmulatorResponse:
        device = self._devices.get(params.get("device_code", ""))
        if device is None or device.client_id != app.client_id or device.status == "consumed":
            return _oauth_error(400, "invalid_grant", "Invalid device code")
        now = self.clock.now()
        if now >= device.expires_at:
            return _oauth_error(400, "expired_token", "Device code expired")
        if device.status == "denied":
            return _oauth_error(400, "access_denied", "The user denied the authorization")
        if device.status == "pending":
            polled_too_fast = device.last_poll is not None and now - device.last_poll < timedelta(
                seconds=DEVICE_INTERVAL
            )
            device.last_poll = now
            if polled_too_fast:
                return _oauth_error(400, "slow_down", "Polling too frequently")
            return _oauth_error(400, "authorization_pending", "The user has not approved yet")
        assert device.seller_id is not None
        response = self._issue_pair(app.client_id, device.seller_id, device.scopes)
        if response.status == 200:
            device.status = "consumed"
        return response


_OAUTH_PATHS = {"/auth/oauth/authorize", "/auth/oauth/token", "/auth/oauth/device"}


def _params(request: EmulatorRequest) -> dict[str, str]:
    """Query and form parameters together: Allegro's own examples put token parameters in the query."""
    merged = {name: values[0] for name, values in request.query.items() if values}
    if isinstance(request.body, dict):
        merged.update({str(k): str(v) for k, v in request.body.items()})
    return merged


def _redirect_allowed(app: App, uri: str) -> bool:
    """Exact match, except that a loopback callback may use any port (RFC 8252, section 7.3)."""
    if uri in app.redirect_uris:
        return True
    wanted = urlsplit(uri)
    if wanted.hostname not in ("127.0.0.1", "localhost"):
        return False
    for registered in map(urlsplit, app.redirect_uris):
        if (registered.scheme, registered.hostname, registered.path) == (
            wanted.scheme,
            wanted.hostname,
            wanted.path,
        ):
            return True
    return False


def _drop_none(**values: str | None) -> dict[str, str]:
    return {key: value for key, value in values.items() if value is not None}


def _consent_page(request_id: str, app_name: str, login: str) -> str:
    return f"""<!doctype html><html><head><title>Allegro (emulator) - zgoda</title></head><body>
<h1>Aplikacja {html.escape(app_name)} prosi o dostęp do konta</h1>
<form method="post" action="/auth/oauth/authorize">
<input type="hidden" name="request_id" value="{html.escape(request_id)}">
<label>Login <input name="login" value="{html.escape(login)}"></label>
<button name="decision" value="approve">Pozwól</button>
<button name="decision" value="deny">Odmów</button>
</form></body></html>"""


def _device_page(user_code: str, login: str) -> str:
    return f"""<!doctype html><html><head><title>Allegro (emulator) - skojarz aplikację</title></head><body>
<h1>Powiąż aplikację z kontem</h1>
<form method="post" action="{VERIFICATION_PATH}">
<label>Kod <input name="user_code" value="{html.escape(user_code)}"></label>
<label>Login <input name="login" value="{html.escape(login)}"></label>
<button name="decision" value="approve">Pozwól</button>
<button name="decision" value="deny">Odmów</button>
</form></body></html>"""
