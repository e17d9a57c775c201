"""The soak's own parts: crashes at about their rate, a log scan that finds secrets without repeating them."""

from __future__ import annotations

import time
from types import SimpleNamespace

from bench.soak import RandomCrashes, Soak, SoakConfig, leaks
from bench.soak.engine import Purchase


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


def test_a_cancelled_purchase_puts_its_units_back_before_a_later_oversell_is_judged() -> None:
    """`oversold_preventable` counts from when a SKU ran short; units a buyer's cancellation gave back end
    that run, so a sale after them is judged from when the SKU ran short again, not from before."""
    soak = Soak(SoakConfig(accounts=1, skus=1))
    soak.seeded, soak.truth["S"] = {"S": 1}, 0
    soak.levels["S"].append((time.monotonic() - 100, 0))  # sold out 100 s ago
    soak.purchases.append(Purchase("F", "konto-1", "O", "S", 1, time.time() - 60))
    soak.emulator = SimpleNamespace(marketplace=SimpleNamespace(cancel=lambda form_id: None))  # type: ignore[assignment]

    soak._cancel_one()

    assert soak.truth["S"] == 1
    assert soak._short_since("S", 1) is None  # one unit is there again: not short of one
