"""`allegro-sync status` on the real local runtime, with an account connected through the emulator."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from allegro_sync.adapters.dynamodb.rate_limit import DynamoBlockedUntilStore
from allegro_sync.adapters.dynamodb.repricing import DynamoRepricingStore
from allegro_sync.cli.main import app
from allegro_sync.local import LocalRuntime
from tests.fixtures.stack import Stack

runner = CliRunner()


@pytest.fixture
def runtime(stack: Stack) -> LocalRuntime:
    stack.connect({"main": "kettle-shop"})
    return stack.runtime


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
    assert "Last reconcile repair: n/a: no repair by the reconciler" in out
    assert "LookupError" not in out
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
    poller = runtime.application("order_poller")
    control = DynamoBlockedUntilStore(poller.settings.table("control"), client=poller.aws_client("dynamodb"))
    control.extend_blocked_until(time.time() + 45)
    repricer = runtime.application("repricer")
    DynamoRepricingStore(repricer.table("mappings"), repricer.table("control")).pause(
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
