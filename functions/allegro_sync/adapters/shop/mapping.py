"""What the shop platforms' product mappings share (WooCommerce, Shopify, PrestaShop): here, not in one
platform's adapter, so a seller's platform never imports another's (adapters/shop/platforms.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import ConfigDict, HttpUrl, TypeAdapter, ValidationError

from allegro_sync.adapters.shop.errors import schema_violation
from allegro_sync.contracts.messages import ShopEvent
from allegro_sync.contracts.webhooks import Refusal

MAX_IMAGES = 16
_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl, config=ConfigDict(defer_build=True))
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Image(Protocol):
    """A platform's product image: its URL as the shop sent it."""

    @property
    def src(self) -> str: ...


def images(*sources: Sequence[Image]) -> list[HttpUrl]:
    """Valid image URLs in order, each once, at most `MAX_IMAGES`."""
    urls: list[HttpUrl] = []
    for image in (i for group in sources for i in group):
        try:
            url = _URL.validate_python(image.src)
        except ValidationError:
            continue
        if url not in urls:
            urls.append(url)
    return urls[:MAX_IMAGES]


def printable(sku: str) -> str:
    """A SKU as it can be shown and typed: control characters as `\\xNN` escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", sku)


def build_event(kind: type[ShopEvent], where: str, refused: list[Refusal], **fields: Any) -> list[ShopEvent]:
    """The event, or none with the reason added to `refused` (data resending cannot fix: answered 2xx)."""
    try:
        return [kind(**fields)]
    except ValidationError as exc:
        problems = schema_violation(exc, prefix=where).details
        reason = "; ".join(f"{p.field}: {p.problem}" for p in problems)
        refused.append(Refusal(printable(str(fields.get("sku", ""))), f"not synced: {reason}"))
        return []


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256) of `body`: WooCommerce's `X-WC-Webhook-Signature`, Shopify's HMAC header."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
