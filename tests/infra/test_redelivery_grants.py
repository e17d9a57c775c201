"""A queue consumer may set the visibility of its failed records on its own queue, and knows its URL
(adapters/redelivery.py): the event source's consume grant allows it, and the function's environment
names the queue it consumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allegro_sync.topology import TOPOLOGY, QueueTrigger, queue_env
from tests.infra.conftest import Synth, synthesize

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def shipped(synth_dir: Path) -> Synth:
    return synthesize(synth_dir / "redelivery", TOPOLOGY)


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["Ref"]} if "Ref" in value else set()
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


CONSUMERS = [(t.queue, f.name) for f in TOPOLOGY.functions for t in f.triggers if isinstance(t, QueueTrigger)]


@pytest.mark.parametrize(("queue", "function"), CONSUMERS)
def test_a_consumer_may_reschedule_its_own_queues_records(shipped: Synth, queue: str, function: str) -> None:
    queue_id = shipped.logical_id(shipped.stack.queues[queue].queue)
    allowed = {
        action
        for statement in shipped.role_statements(function)
        if statement["Effect"] == "Allow" and queue_id in _refs(statement["Resource"])
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert "sqs:ChangeMessageVisibility" in allowed  # the Batch call is authorised by this action
    env = shipped.properties(shipped.stack.functions[function])["Environment"]["Variables"]
    assert env[queue_env(queue)] == {"Ref": queue_id}
