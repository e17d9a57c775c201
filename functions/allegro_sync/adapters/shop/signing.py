"""The generic contract's signature scheme, shared by the verifier, the CLI signer and the docs.

`X-Allegro-Sync-Signature: v1=<hex>` where hex = HMAC-SHA256(secret, "<timestamp>.<delivery id>." + raw body).
The timestamp (unix seconds) and the delivery id are signed with the body, so neither can be swapped to
replay a captured delivery as a "new" one or outside the replay window. Several `v1=` values may be sent
(comma-separated) while the shop rotates its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re

SIGNATURE_HEADER = "X-Allegro-Sync-Signature"
TIMESTAMP_HEADER = "X-Allegro-Sync-Timestamp"
DELIVERY_HEADER = "X-Allegro-Sync-Delivery"
SCHEME = "v1"

DELIVERY_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")
_SIGNATURE_VALUE = re.compile(r"^[0-9a-f]{64}$")


def signed_payload(timestamp: int, delivery_id: str, body: bytes) -> bytes:
    return f"{timestamp}.{delivery_id}.".encode() + body


def sign(secret: str, timestamp: int, delivery_id: str, body: bytes) -> str:
    """The header value a sender puts in `X-Allegro-Sync-Signature`."""
    digest = hmac.new(secret.encode(), signed_payload(timestamp, delivery_id, body), hashlib.sha256)
    return f"{SCHEME}={digest.hexdigest()}"


def signed_headers(secret: str, delivery_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers a sender adds to a delivery of `body` (the CLI signer, the soak's shop, tests)."""
    return {
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, delivery_id, body),
    }


def candidate_signatures(header: str) -> list[str]:
    """The well-formed `v1=` hex values of a header (malformed parts are ignored, never compared)."""
    found = []
    for part in header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME and _SIGNATURE_VALUE.match(value):
            found.append(value)
    return found


def matches(secrets: list[str], header: str, timestamp: int, delivery_id: str, body: bytes) -> bool:
    """True when any sent signature matches any accepted secret; every comparison is constant-time."""
    payload = signed_payload(timestamp, delivery_id, body)
    expected = [hmac.new(s.encode(), payload, hashlib.sha256).hexdigest() for s in secrets if s]
    ok = False
    for sent in candidate_signatures(header):
        for want in expected:
            ok |= hmac.compare_digest(sent, want)
    return ok
