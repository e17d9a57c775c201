"""The soak's own parts: crashes at about their rate, a log scan that finds secrets without repeating them."""

from __future__ import annotations

from bench.soak import RandomCrashes, leaks


def test_random_crashes_hit_about_their_rate_and_never_past_the_batch() -> None:
    plan = RandomCrashes(0.25, seed=3)
    decisions = [plan.crash_after("f", 10) for _ in range(2000)]
    crashed = [d for d in decisions if d is not None]
    assert 400 < len(crashed) < 600
    assert all(0 <= d < 10 for d in crashed)
    assert plan.injected["f"] == len(crashed)
    assert RandomCrashes(0.0, seed=3).crash_after("f", 10) is None


def test_the_log_scan_finds_a_secret_value_and_token_shaped_text_without_repeating_them() -> None:
    secret = "a-webhook-signing-secret-value"
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWxsZXIifQ.c2lnbmF0dXJl"
    found = leaks(f'{{"message": "x", "secret": "{secret}"}}\nAuthorization: Bearer {jwt}\n', [secret])
    assert len(found) >= 3  # the value, the JWT, the bearer header
    assert not any(secret in f or jwt in f for f in found)
    assert leaks('{"message": "Allegro call", "status": 200, "account": "konto-1"}', [secret]) == []
