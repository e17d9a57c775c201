"""Which Allegro hosts to talk to: production, sandbox, or explicit URLs (the local emulator)."""

from __future__ import annotations

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
    def from_env(cls, environ: Mapping[str, str]) -> AllegroEnvironment:
        """From a function's variables (ALLEGRO_ENVIRONMENT, or the three ALLEGRO_*_URL together)."""
        return cls.resolve(
            environment=environ.get(ENVIRONMENT_VAR, ""),
            api_url=environ.get(API_URL_VAR, ""),
            upload_url=environ.get(UPLOAD_URL_VAR, ""),
            oauth_url=environ.get(OAUTH_URL_VAR, ""),
        )

    @classmethod
    def resolve(
        cls, *, environment: str = "", api_url: str = "", upload_url: str = "", oauth_url: str = ""
    ) -> AllegroEnvironment:
        """Explicit URLs (all three together) win; otherwise `environment` is production or sandbox."""
        explicit = {API_URL_VAR: api_url, UPLOAD_URL_VAR: upload_url, OAUTH_URL_VAR: oauth_url}
        if any(explicit.values()):
            missing = [var for var, value in explicit.items() if not value]
            if missing:
                raise ValueError(f"explicit Allegro URLs must be set together; missing {', '.join(missing)}")
            return cls(api_url, upload_url, oauth_url)
        name = environment.strip().lower()
        if name in ENVIRONMENTS:
            return ENVIRONMENTS[name]
        raise ValueError(
            f"set {ENVIRONMENT_VAR} to one of {sorted(ENVIRONMENTS)} "
            f"(got {name!r}) or set {API_URL_VAR}, {UPLOAD_URL_VAR} and {OAUTH_URL_VAR}"
        )

    @classmethod
    def explicit(cls, environ: Mapping[str, str]) -> AllegroEnvironment | None:
        """The explicit hosts in `environ` (the emulator), or None: each account then uses its own."""
        if environ.get(API_URL_VAR) or environ.get(UPLOAD_URL_VAR) or environ.get(OAUTH_URL_VAR):
            return cls.from_env(environ)
        return None


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
