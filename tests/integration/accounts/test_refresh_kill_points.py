"""A refresher killed at every step of a refresh, with nobody else calling: the account stays connected.

The dying process is modelled by wrapping each port of its `AccountTokens`: after the chosen step nothing of
it runs any more (no `finally`, no lease release), as after SIGKILL. What it left behind is what matters:
the recovery it scheduled on the real SQS queue (moto) before calling Allegro (the emulator, with its 60 s
single-use grace). The test plays the queue's consumer once the delay is over, then lets time run far past
every grace and asks for a token.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from allegro_sync.adapters.token_recovery import SqsRecoveryScheduler
from allegro_sync.contracts.accounts import AccountStatus
from allegro_sync.contracts.messages import TokenRecovery
from allegro_sync.custody import Custody
from allegro_sync.emulator import Emulator
from allegro_sync.services.tokens import AccountTokens, RefreshPolicy
from tests.fixtures.stack import Stack
from tests.integration.accounts.conftest import connect_shop1

pytestmark = pytest.mark.integration

TWELVE_HOURS = 43199
GRACE = 60

# Every call a refresher makes to the world once it holds the lease, in order; the kill comes right after.
STEPS = [
    "lease.acquire",
    "recovery.schedule",
    "oauth.refresh",
    "vault.save",
    "lease.release",
    "events.refreshed",
]


class _Killed(BaseException):
    """The refresher's process dies here."""


class _Process:
    def __init__(self, kill_after: str) -> None:
        self.kill_after = kill_after
        self.dead = False


class _Dying:
    """A port of the doomed process: works until the kill, then nothing of the process runs any more."""

    def __init__(self, target: Any, port: str, process: _Process) -> None:
        self._target, self._port, self._process = target, port, process

    def __getattr__(self, method: str) -> Any:
        call = getattr(self._target, method)

        def dying(*args: Any, **kwargs: Any) -> Any:
            if self._process.dead:
                raise _Killed
            answer = call(*args, **kwargs)
            if f"{self._port}.{method}" == self._process.kill_after:
                self._process.dead = True
                raise _Killed
            return answer

        return dying


class _ImmediateDelivery(SqsRecoveryScheduler):
    """Sends at once and remembers the delay asked for: moto delays in wall-clock time, the test's clock
    is the emulator's, so the test waits the delay out on that clock before it consumes the message."""

    def __init__(self, queue_url: str, client: Any) -> None:
        super().__init__(queue_url, client)
        self.delays: list[int] = []

    def schedule(self, name: str, refresh_fingerprint: str, delay_seconds: int) -> None:
        self.delays.append(delay_seconds)
        super().schedule(name, refresh_fingerprint, 0)


def _doomed_tokens(custody: Custody, recovery: Any, process: _Process) -> AccountTokens:
    """shop1's token service whose every collaborator dies with `process` at its kill point."""
    return AccountTokens(
        "shop1",
        vault=_Dying(custody.vault, "vault", process),
        lease=_Dying(custody.lease, "lease", process),
        oauth=_Dying(custody.oauth, "oauth", process),
        events=_Dying(custody.events, "events", process),
        recovery=_Dying(recovery, "recovery", process),
        now=custody.now,
        sleep=custody.sleep,
    )


def _consume(queue_url: str, custody: Custody) -> int:
    """The token_recovery function's work for each queued message; how many refreshes it redid."""
    sqs = boto3.client("sqs")
    redone = 0
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        note = TokenRecovery.model_validate_json(message["Body"])
        redone += custody.tokens(note.account).recover(note.refresh_fingerprint)
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return redone


@pytest.mark.parametrize("kill_after", STEPS)
def test_a_refresher_killed_at_any_step_leaves_the_account_connected(
    custody: Custody, emulator: Emulator, kill_after: str
) -> None:
    queue_url = boto3.client("sqs").create_queue(QueueName="token-recovery")["QueueUrl"]
    recovery = _ImmediateDelivery(queue_url, boto3.client("sqs"))
    custody.recovery = recovery
    original = connect_shop1(custody, emulator, lifetime=120)  # the next token request refreshes
    process = _Process(kill_after)
    doomed = _doomed_tokens(custody, recovery, process)
    with pytest.raises(_Killed):
        doomed.access_token()
    assert process.dead

    policy = RefreshPolicy()
    scheduled = recovery.delays
    if kill_after == "lease.acquire":
        assert scheduled == []  # died before scheduling, so before Allegro: the old token was never used
    else:
        assert scheduled == [policy.recovery_delay_seconds]
        assert policy.lease_ttl_seconds < policy.recovery_delay_seconds < GRACE - 15
    emulator.advance(policy.recovery_delay_seconds)  # nobody calls; the delayed message comes due
    redone = _consume(queue_url, custody)
    assert redone == (kill_after in ("recovery.schedule", "oauth.refresh"))

    emulator.advance(10 * GRACE)  # far past every grace, still nobody
    emulator.advance(TWELVE_HOURS)  # and past the access token's life: the next call must refresh
    token = custody.tokens("shop1").access_token()
    assert token != original.access_token
    assert emulator.oauth.authenticate(token).seller_id == emulator.seller_id("seller-one")
    assert custody.registry.get("shop1").status is AccountStatus.CONNECTED  # type: ignore[union-attr]
    assert (
        emulator.refresh_counters("seller-one").attempts == emulator.refresh_counters("seller-one").successes
    )


def test_the_token_recovery_function_redoes_a_refresh_its_refresher_did_not_live_to_save(
    stack: Stack,
) -> None:
    """End to end on the local runtime: the real queue, the function's own grants, its handler."""
    stack.connect({"shop1": "seller-one"})
    custody = stack.app("stock_propagator").custody()  # a function that calls Allegro
    original = custody.vault.read("shop1", fresh=True)
    process = _Process("oauth.refresh")
    doomed = _doomed_tokens(custody, custody.recovery, process)
    with pytest.raises(_Killed):
        doomed.token_rejected(original.access_token)  # a 401 forces a refresh; it dies after Allegro answered
    assert (
        custody.vault.read("shop1", fresh=True).refresh_token == original.refresh_token
    )  # the new pair is lost

    # The test runtime delivers the delayed note at once; the recovery waits out the dead refresher's lease.
    stack.runtime.drain(timeout=60)

    recovered = custody.vault.read("shop1", fresh=True)
    assert recovered.refresh_token != original.refresh_token
    assert stack.emulator.oauth.authenticate(recovered.access_token).seller_id == stack.emulator.seller_id(
        "seller-one"
    )
    assert stack.runtime.invoker.totals["token_recovery"].errors == 0
    assert stack.runtime.invoker.iam.denied == []
