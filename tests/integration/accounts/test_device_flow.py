"""The device flow end to end: the CLI's use case against the emulator's OAuth server and moto."""

from __future__ import annotations

import pytest

from allegro_sync.contracts.accounts import AccessDenied, AccountNotFound, AccountStatus, DeviceCodeExpired
from allegro_sync.custody import Custody
from allegro_sync.emulator import Emulator
from allegro_sync.services.accounts import DevicePrompt, InvalidAccountName

pytestmark = pytest.mark.integration


def test_the_seller_approves_and_the_account_is_stored_connected(
    custody: Custody, emulator: Emulator
) -> None:
    prompts: list[DevicePrompt] = []
    polls_before_approval = 3

    def approve_later(seconds: float) -> None:
        emulator.advance(seconds)
        if len(sleeps) == polls_before_approval:
            emulator.approve_device(prompts[0].user_code, "seller-one")
        sleeps.append(seconds)

    sleeps: list[float] = []
    custody.sleep = approve_later
    profile = custody.accounts().connect_with_device_flow(
        "shop1", environment="production", on_prompt=prompts.append
    )

    assert prompts[0].verification_uri.startswith(emulator.base_url)
    assert prompts[0].user_code in prompts[0].verification_uri_complete
    assert sleeps == [5, 5, 5, 5]  # Allegro's interval, never faster (no slow_down)
    assert profile.status is AccountStatus.CONNECTED
    assert profile.seller_id == emulator.seller_id("seller-one")
    stored = custody.vault.read("shop1", fresh=True)
    assert stored.seller_id == profile.seller_id
    assert stored.expires_at == pytest.approx(emulator.clock.now().timestamp() + 43199, abs=2)
    # The token works on Allegro, and the registry shows the account without any token.
    assert emulator.oauth.authenticate(stored.access_token).seller_id == profile.seller_id
    listed = custody.accounts().list_accounts()
    assert [p.name for p in listed] == ["shop1"]
    assert stored.access_token not in repr(listed)


def test_a_denied_code_says_so_and_stores_nothing(custody: Custody, emulator: Emulator) -> None:
    def deny(prompt: DevicePrompt) -> None:
        emulator.deny_device(prompt.user_code)

    with pytest.raises(AccessDenied, match="refused access"):
        custody.accounts().connect_with_device_flow("shop1", environment="production", on_prompt=deny)
    with pytest.raises(AccountNotFound):
        custody.vault.read("shop1", fresh=True)
    assert custody.accounts().list_accounts() == []


def test_a_code_nobody_approves_expires_with_a_clear_message(custody: Custody, emulator: Emulator) -> None:
    sleeps: list[float] = []

    def seller_walks_away(seconds: float) -> None:
        emulator.advance(seconds if not sleeps else 3600)  # the second wait outlasts the code
        sleeps.append(seconds)

    custody.sleep = seller_walks_away
    with pytest.raises(DeviceCodeExpired, match="expired before the seller approved it; run connect again"):
        custody.accounts().connect_with_device_flow(
            "shop1", environment="production", on_prompt=lambda _p: None
        )
    assert len(sleeps) == 2
    assert custody.accounts().list_accounts() == []


def test_slow_down_makes_the_poller_wait_longer(custody: Custody, emulator: Emulator) -> None:
    prompts: list[DevicePrompt] = []
    sleeps: list[float] = []

    def too_fast(seconds: float) -> None:
        # The second wait is cut short (a clock that runs slow), so Allegro answers slow_down once.
        emulator.advance(1 if len(sleeps) == 1 else seconds)
        sleeps.append(seconds)
        if len(sleeps) == 3:
            emulator.approve_device(prompts[0].user_code, "seller-one")

    custody.sleep = too_fast
    custody.accounts().connect_with_device_flow("shop1", environment="production", on_prompt=prompts.append)
    assert sleeps[:3] == [5, 5, 10]


def test_a_bad_account_name_is_refused_before_anything_is_asked(custody: Custody, emulator: Emulator) -> None:
    with pytest.raises(InvalidAccountName, match="lower-case letters"):
        custody.accounts().connect_with_device_flow(
            "Shop One!", environment="production", on_prompt=lambda _p: None
        )
    assert emulator.oauth.refresh_count("seller-one") == 0
