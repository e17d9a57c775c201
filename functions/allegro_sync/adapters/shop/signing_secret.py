"""The `webhook-signing` section of the configuration secret (adapters/config_secret.py), read through
Powertools' cache so a warm Lambda does not call Secrets
Manager per request, and a rotated secret is picked up within `max_age` seconds.

Secret value, JSON: {"secret": "...", "previous": "...", "woocommerce": "..."} — `previous` keeps the old
secret valid while the shop switches over; `woocommerce` is the WooCommerce webhook's own secret (it falls
back to `secret`). A plain string is taken as `secret`. The local runtime's placeholder
(`{"configured": false}`) or an empty value means "not configured": deliveries are answered 503.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from allegro_sync.adapters.config_secret import WEBHOOK_SIGNING, ConfigSecretCorrupt, section_text

DEFAULT_MAX_AGE_SECONDS = 300


class SigningNotConfigured(LookupError):
    """There is no usable signing secret yet."""


@dataclass(frozen=True)
class SigningSecrets:
    generic: list[str] = field(repr=False)
    woocommerce: list[str] = field(repr=False)

    @classmethod
    def parse(cls, raw: str) -> SigningSecrets:
        text = raw.strip()
        value: Any
        try:
            value = json.loads(text) if text.startswith("{") else text
        except ValueError:
            raise SigningNotConfigured(
                "the webhook-signing secret is neither JSON nor a plain string"
            ) from None
        if isinstance(value, str):
            value = {"secret": value}
        if not isinstance(value, dict):
            raise SigningNotConfigured("the webhook-signing secret must be a JSON object or a plain string")
        current = str(value.get("secret") or "").strip()
        previous = str(value.get("previous") or "").strip()
        woo = str(value.get("woocommerce") or "").strip()
        generic = [s for s in (current, previous) if s]
        if not generic and not woo:
            raise SigningNotConfigured(
                'the webhook-signing secret is not configured; put {"secret": "..."} in it'
            )
        return cls(generic=generic, woocommerce=[woo] if woo else generic)


class SigningSecretStore:
    def __init__(
        self,
        name: str,
        *,
        max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
        client: Any = None,
    ) -> None:
        self._name = name
        self._max_age = max_age_seconds
        self._provider = SecretsProvider(boto3_client=client) if client is not None else SecretsProvider()

    def forget(self) -> None:
        """Drop the cached value: the next read fetches the secret again."""
        self._provider.clear_cache()  # type: ignore[no-untyped-call]

    def read(self) -> SigningSecrets:
        """The accepted secrets; `SigningNotConfigured` when the secret is missing or empty.

        "Not configured" in the cache is checked at the source at once: a secret stored a minute ago must
        not be refused for the rest of the cache's `max_age` (issue 18).

        Any other failure to read it (throttling, permissions) raises `GetParameterError`: the caller
        answers "try again" rather than judging a delivery it cannot verify.
        """
        try:
            return self._read(force=False)
        except SigningNotConfigured:
            return self._read(force=True)

    def _read(self, *, force: bool) -> SigningSecrets:
        try:
            raw = self._provider.get(self._name, max_age=self._max_age, force_fetch=force)
        except GetParameterError as exc:
            cause = exc.__cause__ or exc.__context__
            if (
                isinstance(cause, ClientError)
                and cause.response["Error"]["Code"] == "ResourceNotFoundException"
            ):
                raise SigningNotConfigured(f"the secret {self._name!r} does not exist") from None
            raise
        try:
            return SigningSecrets.parse(section_text(raw, WEBHOOK_SIGNING))
        except ConfigSecretCorrupt as exc:
            raise SigningNotConfigured(str(exc)) from None
