"""Which Allegro hosts to talk to: production, sandbox, or explicit URLs (the local emulator)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

ENVIRONMENT_VAR = "ALLEGRO_ENVIRONMENT"
API_URL_VAR = "ALLEGRO_API_URL"
UPLOAD_URL_VAR = "ALLEGRO_UPLOAD_URL"
OAUTH_URL_VAR = "ALLEGRO_OAUTH_URL"


@dataclass(frozen=True)
class AllegroEnvironment:
    """The three hosts Allegro splits itself over: REST API, image upload, and OAuth (the site host)."""

    api_url: str
    upload_url: str
    oauth_url: str

    def __post_init__(self) -> None:
        for name in ("api_url", "upload_url", "oauth_url"):
            value = getattr(self, name)
            if not value.startswith(("https://", "http://")):
                raise ValueError(f"AllegroEnvironment.{name} must be an http(s) URL, got {value!r}")
            # One canonical form, so callers can join paths with a plain "/".
            object.__setattr__(self, name, value.rstrip("/"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AllegroEnvironment:
        """Explicit URLs (all three together) win; otherwise ALLEGRO_ENVIRONMENT=production|sandbox."""
        env = os.environ if environ is None else environ
        explicit = {var: env.get(var, "") for var in (API_URL_VAR, UPLOAD_URL_VAR, OAUTH_URL_VAR)}
        if any(explicit.values()):
            missing = [var for var, value in explicit.items() if not value]
            if missing:
                raise ValueError(f"explicit Allegro URLs must be set together; missing {', '.join(missing)}")
            return cls(explicit[API_URL_VAR], explicit[UPLOAD_URL_VAR], explicit[OAUTH_URL_VAR])
        name = env.get(ENVIRONMENT_VAR, "").strip().lower()
        if name in ENVIRONMENTS:
            return ENVIRONMENTS[name]
        raise ValueError(
            f"set {ENVIRONMENT_VAR} to one of {sorted(ENVIRONMENTS)} "
            f"(got {name!r}) or set {API_URL_VAR}, {UPLOAD_URL_VAR} and {OAUTH_URL_VAR}"
        )


PRODUCTION = AllegroEnvironment(
    api_url="https://api.allegro.pl",
    upload_url="https://upload.allegro.pl",
    oauth_url="https://allegro.pl",
)
SANDBOX = AllegroEnvironment(
    api_url="https://api.allegro.pl.allegrosandbox.pl",
    upload_url="https://upload.allegro.pl.allegrosandbox.pl",
    oauth_url="https://allegro.pl.allegrosandbox.pl",
)
ENVIRONMENTS = {"production": PRODUCTION, "sandbox": SANDBOX}
