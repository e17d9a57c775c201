"""`allegro-sync status` on the real local runtime, with an account connected through the emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import httpx
import pytest
from typer.testing import CliRunner

from allegro_sync.adapters import token_store
from allegro_sync.adapters.allegro import factory
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.adapters.dynamodb.rate_limit import DynamoBlockedUntilStore
from allegro_sync.adapters.dynamodb.repricing import DynamoRepricingStore
from allegro_sync.adapters.token_store import AccountsSettings, Custody, connect_with_device_flow
from allegro_sync.cli.main import app
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.topology import table_env
from tests.fixtures.local import MakeLocalRuntime

runner = CliRunner()


@pytest.fixture
def runtime(make_local_runtime: MakeLocalRuntime, emulator: Emulator) -> Iterator[LocalRuntime]:
    token_store.reset()
    saved = factory._shared
    # No real waiting on Allegro's budget in a test: the process guard keeps its block record in memory.
    factory._shared = (RateGuard(InMemoryBlockedUntilStore()), httpx.Client(timeout=10.0))
    runtime = make_local_runtime(
        allegro_urls=AllegroUrls.single(emulator.base_url), env={"ORDER_POLL_RUN_SECONDS": "0"}
    )
    settings = AccountsSettings.from_env(runtime.environment("order_poller"))
    Custody.build(settings).app_credentials.write(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    emulator.create_seller("kettle-shop")
    connect_with_device_flow(
        "main",
        on_prompt=lambda prompt: emulator.approve_device(prompt.user_code, "kettle-shop"),
        settings=settings,
        sleep=emulator.advance,
    )
    yield runtime
    factory._shared = saved
    token_store.reset()


def lines_with(output: str, word: str) -> list[str]:
    return [line for line in output.splitlines() if word in line]


def test_status_of_a_fresh_deployment_renders_every_section(runtime: LocalRuntime) -> None:
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 3, result.output  # never polled yet: needs attention
    out = result.output
    account = lines_with(out, "main")[0]
    assert "CONNECTED" in account
    assert "(in 11h" in account  # the emulator issues 12 h access tokens
    assert "not polled yet" in lines_with(out, "main")[1]
    assert len(lines_with(out, "shop-events")) == 2  # the queue and its DLQ
    assert "Last reconcile repair: n/a: LookupError: no repair by the reconciler" in out
    assert "not blocked" in out


def test_status_after_polling_with_a_dead_letter_a_block_and_a_pause(runtime: LocalRuntime) -> None:
    runtime.fire("order_poller")
    dlq_url = runtime.wiring.queues["orders"].dlq_url
    runtime.client("sqs").send_message(
        QueueUrl=dlq_url,
        MessageBody=json.dumps({"id": "e1"}),
        MessageGroupId="f1",
        MessageDeduplicationId="e1",
    )
    control = runtime.environment("order_poller")[table_env("control")]
    DynamoBlockedUntilStore(control).extend_blocked_until(time.time() + 45)
    dynamodb = boto3.resource("dynamodb")
    mappings = dynamodb.Table(runtime.environment("repricer")[table_env("mappings")])
    DynamoRepricingStore(mappings, dynamodb.Table(control)).pause(
        "main", datetime.now(UTC) + timedelta(minutes=30), "5 failed changes in a row"
    )

    result = runner.invoke(app, ["status"])
    assert result.exit_code == 3, result.output
    out = result.output
    poll = lines_with(out, "main")[1]
    assert "started, no order event yet" in poll
    orders_dlq = next(line for line in lines_with(out, "orders") if "dlq show" in line)
    assert orders_dlq.split("│")[2].strip() == "1"
    assert "BLOCKED" in out
    assert "PAUSED" in out
    assert "5 failed changes in a row" in out
