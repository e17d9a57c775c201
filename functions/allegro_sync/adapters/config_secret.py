"""The deployment's one configuration secret (issue 21): a JSON object with a section per concern.

    {"app-credentials": {"client_id": ..., "client_secret": ...},
     "webhook-signing": {"secret": ..., "previous": ..., "woocommerce": ...},
     "shop-credentials": {"kind": "generic", ...}}

Why one: Secrets Manager bills $0.40 a month per secret whether it is read or not, and these three are set
once by the operator and read together by warm functions; three of them were $1.20 of an idle month.
The per-account token secrets stay one per account: they rotate on their own, every few hours.

Each reader takes its section's value as the JSON text it parsed when it had a secret of its own, so the
rules of what a section may hold did not move. A missing section reads as "" (not configured).
Writers replace only their own section (`write_section`), read-modify-write: the operator's CLI is the only
writer, one command at a time.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

APP_CREDENTIALS = "app-credentials"
WEBHOOK_SIGNING = "webhook-signing"
SHOP_CREDENTIALS = "shop-credentials"
SECTIONS = (APP_CREDENTIALS, WEBHOOK_SIGNING, SHOP_CREDENTIALS)

# What an unconfigured secret holds at the top level (the stack's and the local runtime's placeholder);
# dropped by the first write of a section.
_PLACEHOLDER_KEYS = ("configured", "note")


class ConfigSecretCorrupt(ValueError):
    """The configuration secret is not a JSON object."""


def document(raw: object) -> dict[str, Any]:
    """The whole secret as a dict; an empty value is an empty dict, anything else not an object raises."""
    if isinstance(raw, dict):  # already parsed (a provider's json transform)
        return raw
    text = (raw.decode() if isinstance(raw, bytes) else str(raw or "")).strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ConfigSecretCorrupt("the configuration secret is not JSON") from None
    if not isinstance(value, dict):
        raise ConfigSecretCorrupt("the configuration secret is not a JSON object with a section each")
    return value


def section_text(raw: object, section: str) -> str:
    """One section's value as the JSON text its reader parses ("" when the section is missing; a plain
    string section is returned as it is)."""
    part = document(raw).get(section)
    if part is None:
        return ""
    return part if isinstance(part, str) else json.dumps(part)


def write_section(client: Any, secret_id: str, section: str, value: Any) -> None:
    """Replace one section, keeping the others; creates the secret when there is none."""
    try:
        current = client.get_secret_value(SecretId=secret_id).get("SecretString")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        client.create_secret(Name=secret_id, SecretString=json.dumps({section: value}))
        return
    try:
        whole = document(current)
    except ConfigSecretCorrupt:
        whole = {}  # unreadable: every section was unusable anyway; the operator is storing one now
    for key in _PLACEHOLDER_KEYS:
        whole.pop(key, None)
    whole[section] = value
    client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(whole))
