"""What the `webhook-signing` secret may hold, and what counts as "not configured" (answered 503)."""

from __future__ import annotations

import json

import pytest

from allegro_sync.adapters.shop.signing_secret import SigningNotConfigured, SigningSecrets
from allegro_sync.local.provision import PLACEHOLDER_SECRET


def test_a_plain_string_is_the_secret_for_both_routes() -> None:
    parsed = SigningSecrets.parse("  plain-secret  ")

    assert (parsed.generic, parsed.woocommerce) == (["plain-secret"], ["plain-secret"])


def test_json_with_previous_and_a_woocommerce_secret() -> None:
    parsed = SigningSecrets.parse(json.dumps({"secret": "new", "previous": "old", "woocommerce": "woo"}))

    assert (parsed.generic, parsed.woocommerce) == (["new", "old"], ["woo"])


@pytest.mark.parametrize(
    "raw", [json.dumps(PLACEHOLDER_SECRET), "", "   ", '{"secret": ""}', '{"secret": '], ids=str
)
def test_placeholders_and_junk_are_not_configured(raw: str) -> None:
    with pytest.raises(SigningNotConfigured):
        SigningSecrets.parse(raw)


def test_the_secrets_never_show_in_a_repr() -> None:
    assert "hunter2" not in repr(SigningSecrets.parse("hunter2"))
