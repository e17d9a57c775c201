"""A refresher process really killed (SIGKILL) between Allegro's answer and the save; the next run recovers.

Unlike the in-process simulation, nothing of the dying process runs after the kill: no `finally`, no lease
release. AWS is a moto server on 127.0.0.1 and Allegro the emulator, so both processes share them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from allegro_sync.bootstrap import Application
from allegro_sync.contracts.accounts import AccountStatus
from allegro_sync.custody import Custody
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local.moto_server import reset
from allegro_sync.services.account_refresh import refresh_due_accounts
from allegro_sync.settings import Settings
from allegro_sync.topology import secret_env, table_env
from tests.integration.accounts.conftest import APP_SECRET, PREFIX, connect_shop1, create_control_table

pytestmark = pytest.mark.integration

# A Lambda process: its application built from its own environment (`bootstrap.application()`).
CHILD = """
import os, signal
from allegro_sync.bootstrap import application

custody = application().custody()
allegro = custody.oauth

class DiesAfterAllegroAnswers:
    def refresh(self, refresh_token, environment):
        allegro.refresh(refresh_token, environment)  # Allegro rotates the pair...
        os.kill(os.getpid(), signal.SIGKILL)          # ...and the process dies before saving it

custody.oauth = DiesAfterAllegroAnswers()
custody.tokens("shop1").access_token()
"""


@pytest.fixture
def server_custody(
    moto_endpoint: str, emulator: Emulator, allegro_env: dict[str, str]
) -> Iterator[tuple[Custody, dict[str, str]]]:
    reset(moto_endpoint)
    function_env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        table_env("control"): "control",
        secret_env("accounts"): PREFIX,
        secret_env("app-credentials"): APP_SECRET,
        **allegro_env,
    }
    app = Application(
        Settings.from_environ(function_env),
        now=lambda: emulator.clock.now().timestamp(),
        sleep=emulator.advance,
    )
    create_control_table(client=app.aws_client("dynamodb"))
    custody = app.custody()
    custody.app_credentials.write(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    child_env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-central-1"),
        **function_env,
    }
    yield custody, child_env
    app.http().close()


def test_a_killed_refresher_process_is_recovered_inside_allegros_grace(
    server_custody: tuple[Custody, dict[str, str]], emulator: Emulator
) -> None:
    custody, child_env = server_custody
    emulator.create_seller("seller-one")
    seller = emulator.seller_id("seller-one")
    original = connect_shop1(custody, emulator, lifetime=120)  # the next token request refreshes

    child = subprocess.run(  # noqa: S603 - our own interpreter running a fixed script
        [sys.executable, "-c", CHILD], env=child_env, capture_output=True, timeout=120, check=False
    )

    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert emulator.refresh_counters("seller-one").successes == 1  # Allegro did rotate the pair
    assert custody.vault.read("shop1", fresh=True).refresh_token == original.refresh_token  # lost
    assert custody.lease.holder("shop1")  # the dead process's lease

    report = refresh_due_accounts(custody.registry, custody.tokens, margin_seconds=3600, now=custody.now())

    assert report.refreshed == ["shop1"]
    recovered = custody.vault.read("shop1", fresh=True)
    assert recovered.refresh_token != original.refresh_token
    assert emulator.oauth.authenticate(recovered.access_token).seller_id == seller
    used_grace = emulator.clock.now().timestamp() - original.refreshed_at
    assert used_grace < 60  # recovered inside the old refresh token's grace
    # And the recovered pair is alive: a later refresh succeeds, the seller stays connected.
    emulator.advance(43199)
    assert custody.tokens("shop1").access_token() != recovered.access_token
    assert custody.registry.get("shop1").status is AccountStatus.CONNECTED  # type: ignore[union-attr]
