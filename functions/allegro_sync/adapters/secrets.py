"""Secrets Manager custody of Allegro credentials: the app's client id/secret, one secret per seller account.

Reads go through Powertools' `SecretsProvider` so a warm Lambda answers from memory for `max_age` seconds;
a refresh (or any caller who must see the newest pair) reads with `force_fetch`. Each vault owns its own
provider so caches never leak between accounts, tests or processes sharing a module.
"""

from __future__ import annotations

import json
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from botocore.exceptions import ClientError

from allegro_sync.adapters.config_secret import (
    APP_CREDENTIALS,
    ConfigSecretCorrupt,
    section_text,
    write_section,
)
from allegro_sync.contracts.accounts import AccountNotFound, StoredAccount, TokenStoreCorrupt

# The stack's KMS key for account secrets; secrets created at run time (a new account) must name it.
# Same convention as infra/naming.py `kms_key_env("accounts")`.
DEFAULT_MAX_AGE_SECONDS = 300


def _not_found(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, ClientError) and cause.response["Error"]["Code"] == "ResourceNotFoundException"


class SecretsManagerVault:
    """`TokenVault` over Secrets Manager: secret `<prefix><account name>` holds a `StoredAccount` as JSON."""

    def __init__(
        self,
        prefix: str,
        *,
        kms_key_id: str | None = None,
        max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
        client: Any = None,
    ) -> None:
        self._prefix = prefix
        self._kms_key_id = kms_key_id
        self._max_age = max_age_seconds
        self._client = client or boto3.client("secretsmanager")
        self._provider = SecretsProvider(boto3_client=self._client)

    def secret_name(self, name: str) -> str:
        return f"{self._prefix}{name}"

    def read(self, name: str, *, fresh: bool) -> StoredAccount:
        try:
            value = self._provider.get(
                self.secret_name(name), max_age=self._max_age, transform="json", force_fetch=fresh
            )
        except GetParameterError as exc:
            if _not_found(exc):
                raise AccountNotFound(name) from None
            raise
        except TransformParameterError:
            raise TokenStoreCorrupt(f"the secret of account {name!r} is not JSON") from None
        if not isinstance(value, dict):
            raise TokenStoreCorrupt(f"the secret of account {name!r} is not a JSON object")
        return StoredAccount.from_json(value)

    def save(self, account: StoredAccount) -> None:
        body = json.dumps(account.to_json())
        secret_id = self.secret_name(account.name)
        try:
            self._client.put_secret_value(SecretId=secret_id, SecretString=body)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            extra = {"KmsKeyId": self._kms_key_id} if self._kms_key_id else {}
            self._client.create_secret(
                Name=secret_id,
                SecretString=body,
                Description=f"Allegro tokens of seller account {account.name} (allegro-sync)",
                Tags=[{"Key": "allegro-sync:account", "Value": account.name}],
                **extra,
            )
        # Our own cached copy is now stale; the next read in this process must see what we just wrote.
        self._provider.clear_cache()  # type: ignore[no-untyped-call]

    def delete(self, name: str) -> None:
        """Scheduled for deletion (Secrets Manager's 7-day minimum): a mistaken removal can be restored."""
        try:
            self._client.delete_secret(SecretId=self.secret_name(name), RecoveryWindowInDays=7)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        self._provider.clear_cache()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class AppCredentials:
    """The seller's Allegro application. `link_signing_key` signs the browser flow's start links."""

    client_id: str
    client_secret: str = field(repr=False)
    link_signing_key: str = field(repr=False)
    sandbox_client_id: str = ""
    sandbox_client_secret: str = field(default="", repr=False)
    # The application as registered at apps.developer.allegro.pl: every API call names it (#13126).
    app_name: str = ""
    app_version: str = ""
    app_url: str = ""

    def user_agent(self) -> str | None:
        """`<registered name>/<version> (+<URL>)`, spaces in the name as dashes (Allegro's own generator,
        #13632) and Polish letters as plain ones (a header is ASCII; #13607); None until `accounts set-app`
        stored all three."""
        if not (self.app_name and self.app_version and self.app_url):
            return None
        name = "-".join(_ascii(self.app_name).split())
        version = "-".join(_ascii(self.app_version).split())
        return f"{name}/{version} (+{_ascii(self.app_url).strip()})"

    def for_environment(self, environment: str) -> tuple[str, str]:
        """Sandbox needs its own app; fall back to the main pair when the deployment itself is on sandbox."""
        if environment == "sandbox" and self.sandbox_client_id:
            return self.sandbox_client_id, self.sandbox_client_secret
        return self.client_id, self.client_secret

    def to_json(self) -> dict[str, str]:
        data = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "link_signing_key": self.link_signing_key,
        }
        if self.sandbox_client_id:
            data["sandbox_client_id"] = self.sandbox_client_id
            data["sandbox_client_secret"] = self.sandbox_client_secret
        data |= {k: v for k, v in self.identity().items() if v}
        return data

    def identity(self) -> dict[str, str]:
        return {"app_name": self.app_name, "app_version": self.app_version, "app_url": self.app_url}


def _ascii(text: str) -> str:
    """ "Mój Łódź" -> "Moj Lodz": accents dropped, ł/Ł (which do not decompose) mapped by hand."""
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return folded.encode("ascii", "ignore").decode()


class AppCredentialsStore:
    """Reads (cached) and writes the app-credentials section of the configuration secret."""

    def __init__(
        self, name: str, *, max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS, client: Any = None
    ) -> None:
        self._name = name
        self._max_age = max_age_seconds
        self._client = client or boto3.client("secretsmanager")
        self._provider = SecretsProvider(boto3_client=self._client)

    def read(self, *, fresh: bool = False) -> AppCredentials:
        """The app's credentials, cached for `max_age`; `fresh` reads Secrets Manager now (after Allegro
        refused the cached ones: they may have been replaced a moment ago)."""
        try:
            raw = self._provider.get(self._name, max_age=self._max_age, force_fetch=fresh)
            value = json.loads(section_text(raw, APP_CREDENTIALS) or "{}")
        except GetParameterError as exc:
            if _not_found(exc):
                raise LookupError(
                    "the Allegro app credentials are not set; run: allegro-sync accounts set-app CLIENT_ID"
                ) from None
            raise
        except (ValueError, ConfigSecretCorrupt):
            raise TokenStoreCorrupt("the app-credentials section is not JSON") from None
        if not isinstance(value, dict) or not value.get("client_id") or not value.get("client_secret"):
            raise TokenStoreCorrupt("the app-credentials secret needs client_id and client_secret")
        return AppCredentials(
            client_id=str(value["client_id"]),
            client_secret=str(value["client_secret"]),
            link_signing_key=str(value.get("link_signing_key", "")),
            sandbox_client_id=str(value.get("sandbox_client_id", "")),
            sandbox_client_secret=str(value.get("sandbox_client_secret", "")),
            app_name=str(value.get("app_name", "")),
            app_version=str(value.get("app_version", "")),
            app_url=str(value.get("app_url", "")),
        )

    def write(
        self,
        client_id: str,
        client_secret: str,
        *,
        sandbox: bool = False,
        identity: Mapping[str, str] | None = None,
    ) -> AppCredentials:
        """Store the app (or its sandbox twin), keeping the other half and minting a link key on first use.
        `identity`: the registered `app_name`, `app_version`, `app_url` (kept when not given)."""
        try:
            current: AppCredentials | None = self.read()
        except (LookupError, TokenStoreCorrupt):
            current = None
        key = current.link_signing_key if current and current.link_signing_key else secrets.token_urlsafe(32)
        if sandbox:
            updated = AppCredentials(
                client_id=current.client_id if current else client_id,
                client_secret=current.client_secret if current else client_secret,
                link_signing_key=key,
                sandbox_client_id=client_id,
                sandbox_client_secret=client_secret,
            )
        else:
            updated = AppCredentials(
                client_id=client_id,
                client_secret=client_secret,
                link_signing_key=key,
                sandbox_client_id=current.sandbox_client_id if current else "",
                sandbox_client_secret=current.sandbox_client_secret if current else "",
            )
        kept = current.identity() if current else {}
        updated = replace(updated, **{**kept, **{k: v for k, v in (identity or {}).items() if v}})
        write_section(self._client, self._name, APP_CREDENTIALS, updated.to_json())
        self._provider.clear_cache()  # type: ignore[no-untyped-call]
        return updated
