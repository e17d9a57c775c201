"""The local Allegro emulator: one handle that runs the server, OAuth, marketplace, limits and checks.

Tests use it through the `emulator` fixture (tests/fixtures/emulator.py); the CLI (`allegro-sync
emulator`) and the demo run it as a process and drive it through `EmulatorAdmin`.

The default application (for the demo and the local runtime) has the documented, non-secret
credentials `DEFAULT_CLIENT_ID` / `DEFAULT_CLIENT_SECRET`; tests may create their own apps.
"""

from __future__ import annotations

import random
from dataclasses import fields
from pathlib import Path
from types import TracebackType
from typing import Any

from allegro_sync.emulator.marketplace import Marketplace
from allegro_sync.emulator.oauth import DEFAULT_SCOPES, App, OAuthServer, RefreshCounters
from allegro_sync.emulator.server import EmulatorApp, HttpServer, Limits, Recorder
from allegro_sync.emulator.types import Clock
from allegro_sync.emulator.validation import CONTRACT_PATH, Violation, validator_for

DEFAULT_CLIENT_ID = "allegro-sync-local"
DEFAULT_CLIENT_SECRET = "allegro-sync-local-secret"  # noqa: S105 - documented emulator-only credential
DEFAULT_REDIRECT_URIS = ("http://127.0.0.1/oauth/callback", "http://localhost/oauth/callback")
# How the default application is registered: what `accounts set-app` stores for the demo and the tests, so
# every API call sends `allegro-sync-local/1.0.0 (+https://github.com/allegro-sync)` (#13126).
DEFAULT_APP_IDENTITY = {
    "app_name": "allegro-sync-local",
    "app_version": "1.0.0",
    "app_url": "https://github.com/allegro-sync",
}
# The same, as the header: for tests, benchmarks and scripts that talk to the emulator with plain httpx.
DEFAULT_USER_AGENT = "allegro-sync-local/1.0.0 (+https://github.com/allegro-sync)"

__all__ = [
    "DEFAULT_APP_IDENTITY",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_USER_AGENT",
    "App",
    "Emulator",
    "Limits",
    "Violation",
]


class Emulator:
    """Start/stop handle plus the shortcuts tests need (sellers, tokens, approvals, faults, clock)."""

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        record: Path | str | None = None,
        validate: bool = True,
        strict: bool = True,
        clock: Clock | None = None,
        seed: Path | None = None,
        random_seed: int = 0,
        rate_limit: int = 9000,
        error_rate: float = 0.0,
        latency_ms: int = 0,
        latency_rate: float = 1.0,
        auto_approve: bool = False,
        max_tokens_per_user_per_hour: int = 100,
        spec_path: Path = CONTRACT_PATH,
    ) -> None:
        self.clock = clock or Clock()
        self.port = port
        self.host = host
        self.limits = Limits(
            requests_per_minute=rate_limit,
            error_rate=error_rate,
            latency_ms=latency_ms,
            latency_rate=latency_rate,
        )
        self.limits.update()  # validates the numbers
        self.oauth = OAuthServer(
            self.clock, auto_approve=auto_approve, max_tokens_per_user_per_hour=max_tokens_per_user_per_hour
        )
        self.marketplace = Marketplace(self.clock, rng=random.Random(random_seed), seed=seed)
        self.default_app = self.oauth.create_app(
            DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URIS
        )
        self.app = EmulatorApp(
            clock=self.clock,
            oauth=self.oauth,
            marketplace=self.marketplace,
            limits=self.limits,
            validator=validator_for(spec_path) if validate else None,
            strict=strict,
            recorder=Recorder(Path(record)) if record is not None else None,
            rng=random.Random(random_seed + 1),
        )
        from allegro_sync.emulator.admin import AdminApi

        self.app.admin = AdminApi(self).handle
        self._server: HttpServer | None = None

    # ------------------------------------------------------------- lifecycle
    def start(self) -> Emulator:
        if self._server is None:
            self._server = HttpServer(self.app, self.host, self.port)
            self.port = self._server.port
            self.oauth.site_url = self.base_url
            self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """API, upload and OAuth ("site") host at once: point all three ALLEGRO_*_URL here."""
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self.host}:{self.port}"

    # --------------------------------------------------------------- checks
    @property
    def violations(self) -> list[Violation]:
        """Spec violations and emulator crashes seen so far (the fixture fails a test on any)."""
        return self.app.violations

    def take_violations(self) -> list[Violation]:
        """Return and forget the violations: for tests that send a deliberately wrong request."""
        with self.app._lock:
            taken = list(self.app.violations)
            self.app.violations.clear()
        return taken

    # ------------------------------------------------------- apps & sellers
    def create_app(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uris: tuple[str, ...] | list[str] = DEFAULT_REDIRECT_URIS,
    ) -> App:
        return self.oauth.create_app(client_id, client_secret, redirect_uris)

    def create_seller(self, login: str, company: bool = True) -> str:
        """A seller account known to OAuth and the marketplace; returns the seller id (`user_name`)."""
        account = self.oauth.create_account(login, company=company)
        self.marketplace.add_seller(account.seller_id, company=company, login=login)
        return account.seller_id

    def seller_id(self, login: str) -> str:
        return self.oauth.account(login).seller_id

    def issue_tokens(
        self, login: str, client_id: str = DEFAULT_CLIENT_ID, scopes: tuple[str, ...] = DEFAULT_SCOPES
    ) -> dict[str, Any]:
        """A token response as if the seller had just logged in (access + refresh token)."""
        return self.oauth.issue_tokens(login, client_id, scopes)

    def app_token(self, client_id: str = DEFAULT_CLIENT_ID) -> str:
        """A client_credentials access token: public data only."""
        return str(self.oauth.issue_app_token(client_id)["access_token"])

    def sign_in(self, login: str) -> None:
        """The emulated browser's logged-in seller (who approves in auto-approve mode)."""
        self.oauth.sign_in(login)

    def approve_authorization(self, login: str, request_id: str | None = None) -> str:
        """Approve the pending /authorize request (latest if no id): the redirect with code & state."""
        return self.oauth.decide_authorization(login, approve=True, request_id=request_id)

    def deny_authorization(self, request_id: str | None = None) -> str:
        return self.oauth.decide_authorization("", approve=False, request_id=request_id)

    def approve_device(self, user_code: str, login: str) -> None:
        self.oauth.decide_device(user_code, login, approve=True)

    def deny_device(self, user_code: str) -> None:
        self.oauth.decide_device(user_code, None, approve=False)

    def disconnect(self, login: str) -> None:
        """Kill every token of the seller (password change): refresh -> invalid_grant, access -> 401."""
        self.oauth.disconnect(login)

    def refresh_count(self, login: str) -> int:
        """Refresh requests for this seller that reached the token endpoint."""
        return self.oauth.refresh_count(login)

    def refresh_counters(self, login: str) -> RefreshCounters:
        return self.oauth.refresh_counters(login)

    # ----------------------------------------------------------- time & faults
    def advance(self, seconds: float) -> None:
        """Jump the emulated clock and let the marketplace finish work that became due."""
        self.clock.advance(seconds)
        self.marketplace.process_due()

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Change limits (requests_per_minute, error_rate, latency_ms, latency_rate, block_seconds, the
        per-user limits and `require_user_agent`: `Limits`) and marketplace knobs (any field of
        `marketplace.faults`, e.g. patch_conflict_rate) at run time."""
        server_keys = {f.name for f in fields(Limits)}
        market = getattr(self.marketplace, "faults", None)
        market_keys = {f.name for f in fields(market)} if market is not None else set()
        unknown = set(changes) - server_keys - market_keys
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        market_values = {}
        for key in market_keys & set(changes):
            value = _fault_value(getattr(market, key), changes[key])
            if value < 0 or (key.endswith(("_rate", "_share")) and value > 1):
                raise ValueError(f"{key} must be >= 0 (and at most 1 for rates and shares)")
            market_values[key] = value
        # Checked everything first: bad input changes nothing.
        self.limits.update(**{k: v for k, v in changes.items() if k in server_keys})
        for key, value in market_values.items():
            setattr(market, key, value)
        return self.faults()

    def faults(self) -> dict[str, Any]:
        current: dict[str, Any] = {f.name: getattr(self.limits, f.name) for f in fields(Limits)}
        market = getattr(self.marketplace, "faults", None)
        if market is not None:
            current.update({f.name: getattr(market, f.name) for f in fields(market)})
        return current

    def reset_rate_limit(self) -> None:
        self.app.rate_limiter.reset()
        self.app.user_limiter.reset()


def _fault_value(current: Any, raw: Any) -> Any:
    """`raw` in the type of the knob; a switch (bool) also takes "true"/"false" from the CLI's NAME=VALUE."""
    if isinstance(current, bool) and isinstance(raw, str):
        if raw.strip().lower() not in ("true", "false", "1", "0", "on", "off"):
            raise ValueError(f"a switch is true or false, got {raw!r}")
        return raw.strip().lower() in ("true", "1", "on")
    return type(current)(raw)
