"""Device-flow polling rules, with a scripted OAuth port: interval, slow_down, hiccups, expiry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allegro_sync.contracts.accounts import (
    AuthorizationPending,
    DeviceAuthorization,
    DeviceCodeExpired,
    Identity,
    OAuthUnavailable,
    SlowDown,
    TokenPair,
)
from allegro_sync.services.accounts import Accounts, DevicePrompt
from tests.unit.accounts.fakes import FakeClock, MemoryVault


class ScriptedOAuth:
    def __init__(self, answers: list[Exception | TokenPair]) -> None:
        self._answers: Iterator[Exception | TokenPair] = iter(answers)
        self.polls = 0

    def start_device(self, environment: str) -> DeviceAuthorization:
        return DeviceAuthorization(
            "ABC-123", "device-secret", "https://x/verify", "https://x/verify?code=ABC", 60, 5
        )

    def poll_device(self, device_code: str, environment: str) -> TokenPair:
        self.polls += 1
        answer = next(self._answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def identify(self, access_token: str, environment: str) -> Identity:
        return Identity("42", "seller-one")

    def authorize_url(self, environment: str, *, redirect_uri: str, state: str, code_challenge: str) -> str:
        raise NotImplementedError

    def exchange_code(
        self, environment: str, *, code: str, redirect_uri: str, code_verifier: str
    ) -> TokenPair:
        raise NotImplementedError


class Registry:
    def __init__(self) -> None:
        self.profiles: list[object] = []

    def put(self, profile: object) -> None:
        self.profiles.append(profile)

    def get(self, name: str) -> None:  # a first connection: no account of that name yet
        return None

    def all(self) -> list[object]:
        return list(self.profiles)


def accounts(oauth: ScriptedOAuth, clock: FakeClock, vault: MemoryVault) -> Accounts:
    return Accounts(
        vault=vault,
        registry=Registry(),  # type: ignore[arg-type]
        one_time=None,  # type: ignore[arg-type]
        oauth=oauth,
        now=clock.now,
        sleep=clock.sleep,
    )


PAIR = TokenPair("A", "R", 43199, ("s",))


def test_a_few_network_hiccups_do_not_lose_the_sellers_approval() -> None:
    clock, vault = FakeClock(), MemoryVault()
    oauth = ScriptedOAuth(
        [AuthorizationPending("authorization_pending"), OAuthUnavailable("unavailable"), PAIR]
    )
    prompts: list[DevicePrompt] = []
    profile = accounts(oauth, clock, vault).connect_with_device_flow(
        "shop1", environment="production", on_prompt=prompts.append
    )
    assert profile.login == "seller-one"
    assert vault.items["shop1"].refresh_token == "R"
    assert prompts[0].user_code == "ABC-123"
    assert "device-secret" not in repr(prompts[0])


def test_an_outage_that_lasts_gives_up_with_the_error() -> None:
    oauth = ScriptedOAuth([OAuthUnavailable("unavailable")] * 4)
    with pytest.raises(OAuthUnavailable):
        accounts(oauth, FakeClock(), MemoryVault()).connect_with_device_flow(
            "shop1", environment="production", on_prompt=lambda _p: None
        )
    assert oauth.polls == 4


def test_slow_down_adds_five_seconds_each_time_and_expiry_is_respected() -> None:
    clock = FakeClock()
    start = clock.now()
    answers: list[Exception | TokenPair] = [SlowDown("slow_down"), SlowDown("slow_down")]
    oauth = ScriptedOAuth(answers + [AuthorizationPending("p")] * 20)
    with pytest.raises(DeviceCodeExpired, match="expired before the seller approved it"):
        accounts(oauth, clock, MemoryVault()).connect_with_device_flow(
            "shop1", environment="production", on_prompt=lambda _p: None
        )
    # 5, 10, 15, 15, ... until the 60 s code expires: never faster than Allegro asked.
    assert oauth.polls == 5
    assert clock.now() - start == 5 + 10 + 15 + 15 + 15
