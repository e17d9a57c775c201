"""DLQ list/show/replay against the local runtime's real queues (moto), through the CLI and the service."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from allegro_sync.cli.deployment import find_environment
from allegro_sync.cli.main import app
from allegro_sync.local.runtime import LocalRuntime
from allegro_sync.services.dlq import DeadLetters
from tests.fixtures import recording_consumer
from tests.fixtures.local import MakeLocalRuntime

runner = CliRunner()


@pytest.fixture
def runtime(make_local_runtime: MakeLocalRuntime) -> LocalRuntime:
    return make_local_runtime(handler_modules=recording_consumer.replacing("stock-changes"))


def _dead_letter(runtime: LocalRuntime, body: dict[str, Any], group: str, dedup: str) -> str:
    sqs = runtime.client("sqs")
    url = runtime.wiring.queues["stock-changes"].dlq_url
    return str(
        sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps(body), MessageGroupId=group, MessageDeduplicationId=dedup
        )["MessageId"]
    )


class _CrashBeforeDelete:
    """An SQS client that dies between send and delete: the replay must duplicate, never lose."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def delete_message(self, **_: Any) -> None:
        raise ConnectionError("killed between send and delete")


def test_list_and_show_leave_the_message_in_place(runtime: LocalRuntime) -> None:
    message_id = _dead_letter(runtime, {"sku": "KETTLE-1", "revision": 7}, "KETTLE-1", "KETTLE-1#7")

    listed = runner.invoke(app, ["dlq", "list"])
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if "stock-changes" in line)
    assert row.split("│")[2].strip() == "1"
    assert (
        next(line for line in listed.output.splitlines() if " orders " in line).split("│")[2].strip() == "0"
    )

    for _ in range(2):  # showing twice still finds it: show never deletes
        shown = runner.invoke(app, ["dlq", "show", "stock-changes"])
        assert shown.exit_code == 0, shown.output
        assert message_id in shown.output
        assert '"sku": "KETTLE-1"' in shown.output
        assert "group=KETTLE-1" in shown.output
    [found] = json.loads(runner.invoke(app, ["dlq", "show", "stock-changes", "--json"]).output)  # for scripts
    assert (found["message_id"], found["group_id"]) == (message_id, "KETTLE-1")
    assert "stock_propagator" in found["why"]


def test_unknown_queue_is_a_clear_error(runtime: LocalRuntime) -> None:
    result = runner.invoke(app, ["dlq", "replay", "nope"])
    assert result.exit_code == 2
    assert "no dead-letter queue for 'nope'" in result.output


def test_dry_run_moves_nothing_and_replay_delivers_once(runtime: LocalRuntime) -> None:
    _dead_letter(runtime, {"sku": "MUG-2", "revision": 3}, "MUG-2", "MUG-2#3")

    dry = runner.invoke(app, ["dlq", "replay", "stock-changes", "--dry-run"])
    assert dry.exit_code == 0
    assert "1 message(s) would move" in dry.output
    runtime.drain()
    assert recording_consumer.take("stock-changes") == []

    moved = runner.invoke(app, ["dlq", "replay", "stock-changes"])
    assert moved.exit_code == 0
    assert "1 message(s) moved" in moved.output
    runtime.drain()
    assert recording_consumer.take("stock-changes") == [{"sku": "MUG-2", "revision": 3}]
    assert DeadLetters(runtime.client("sqs"), find_environment()).summary("stock-changes").messages == 0


def test_a_replay_that_crashed_before_delete_and_is_replayed_again_delivers_once(
    runtime: LocalRuntime,
) -> None:
    _dead_letter(runtime, {"sku": "PAN-9", "revision": 1}, "PAN-9", "PAN-9#1")
    env = find_environment()
    crashing = DeadLetters(_CrashBeforeDelete(runtime.client("sqs")), env, replay_visibility_seconds=0)
    with pytest.raises(ConnectionError):
        crashing.replay("stock-changes")

    again = DeadLetters(runtime.client("sqs"), env, replay_visibility_seconds=0).replay("stock-changes")
    assert [r.deduplication_id for r in again] == ["PAN-9#1"]  # the original id: SQS drops the repeat
    runtime.drain()
    assert recording_consumer.take("stock-changes") == [{"sku": "PAN-9", "revision": 1}]
