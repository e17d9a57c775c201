"""The generic signature scheme: what a sender computes is what the receiver accepts, and nothing else."""

from __future__ import annotations

import time

import pytest

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.errors import WebhookRejected
from allegro_sync.adapters.shop.generic import parse_generic

BODY = b'{"type":"stock.set","sku":"A-1","stock":4}'
NOW = 1_800_000_000


def headers(
    secret: str = "s",  # noqa: S107 - a test secret
    ts: int = NOW,
    delivery: str = "d-1",
    body: bytes = BODY,
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-allegro-sync-delivery": delivery,
        "x-allegro-sync-timestamp": str(ts),
        "x-allegro-sync-signature": signing.sign(secret, ts, delivery, body),
    }


def test_the_documented_scheme_is_hmac_sha256_over_timestamp_id_and_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"s", b"1800000000.d-1." + BODY, hashlib.sha256).hexdigest()

    assert signing.sign("s", NOW, "d-1", BODY) == f"v1={expected}"


@pytest.mark.parametrize(
    "tamper",
    [
        {"x-allegro-sync-timestamp": str(NOW + 1)},
        {"x-allegro-sync-delivery": "d-2"},
        {"x-allegro-sync-signature": "v1=" + "0" * 64},
        {"x-allegro-sync-signature": "v2=" + signing.sign("s", NOW, "d-1", BODY)[3:]},
    ],
    ids=["timestamp", "delivery id", "zeros", "unknown scheme"],
)
def test_changing_any_signed_part_breaks_the_signature(tamper: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected) as refused:
        parse_generic({**headers(), **tamper}, BODY, ["s"], now=NOW, replay_window=300)

    assert (refused.value.status, refused.value.code) == (401, "invalid_signature")


def test_a_changed_body_breaks_the_signature() -> None:
    with pytest.raises(WebhookRejected) as refused:
        parse_generic(headers(), BODY.replace(b"4", b"5"), ["s"], now=NOW, replay_window=300)

    assert refused.value.code == "invalid_signature"


def test_any_of_several_signatures_may_match_during_a_sender_rotation() -> None:
    both = f"{signing.sign('old', NOW, 'd-1', BODY)}, {signing.sign('s', NOW, 'd-1', BODY)}"

    delivery = parse_generic(
        {**headers(), "x-allegro-sync-signature": both}, BODY, ["s"], now=NOW, replay_window=300
    )

    assert [e.sku for e in delivery.events] == ["A-1"]


@pytest.mark.parametrize(("skew", "code"), [(-301, "stale_timestamp"), (301, "future_timestamp")])
def test_the_replay_window_is_enforced_both_ways(skew: int, code: str) -> None:
    with pytest.raises(WebhookRejected) as refused:
        parse_generic(headers(ts=NOW + skew), BODY, ["s"], now=NOW, replay_window=300)

    assert (refused.value.status, refused.value.code) == (401, code)


def test_the_edge_of_the_window_is_still_inside() -> None:
    delivery = parse_generic(headers(ts=NOW - 300), BODY, ["s"], now=NOW, replay_window=300)

    assert delivery.key == "d-1"
    assert delivery.events[0].occurred_at.timestamp() == NOW - 300  # defaults to the signed timestamp


def test_a_valid_signature_with_a_stale_timestamp_is_refused_at_real_time() -> None:
    old = int(time.time()) - 3600

    with pytest.raises(WebhookRejected) as refused:
        parse_generic(headers(ts=old), BODY, ["s"], now=time.time(), replay_window=300)

    assert refused.value.code == "stale_timestamp"
