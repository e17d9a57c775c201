"""The local event source honours the visibility a handler set on its failed records, as Lambda does.

In AWS a failed record comes back when its visibility says; the poller's `retry_delay_seconds` applies
only to failures the handler left alone. moto's visibility is real time, so the tests choose 0 s against
a long retry delay (back at once) and a long visibility against no retry delay (not back at once).
"""

from __future__ import annotations

import pytest

from allegro_sync.local import LocalRuntime
from allegro_sync.topology import Access, Function, Queue, QueueTrigger, Table, Topology
from tests.fixtures.local import MakeLocalRuntime
from tests.integration.local.topologies import HANDLERS

pytestmark = pytest.mark.integration

RESCHEDULING = Topology(
    tables=(Table("ledger", "unused"),),
    queues=(Queue("rescheduled", "its consumer sets its failures' visibility", fifo=False),),
    secrets=(),
    functions=(
        Function(
            "rescheduler",
            "fails every record and says when it comes back",
            triggers=(QueueTrigger("rescheduled", batch_size=10),),
            tables={"ledger": Access.READ},
        ),
    ),
)
MODULES = {"rescheduler": f"{HANDLERS}.rescheduler"}


def start(make_local_runtime: MakeLocalRuntime, retry_delay_seconds: int) -> LocalRuntime:
    return make_local_runtime(
        RESCHEDULING, handler_modules=MODULES, retry_delay_seconds=retry_delay_seconds, redelivery_scale=1
    )


def poll(runtime: LocalRuntime) -> list[str] | None:
    outcome = runtime.poller.poll_once(*runtime.poller.consumer("rescheduled"))
    return None if outcome is None else outcome.message_ids


def test_a_record_the_handler_rescheduled_at_once_is_not_held_back_by_the_retry_delay(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    runtime = start(make_local_runtime, retry_delay_seconds=300)
    runtime.send("rescheduled", {"come_back_after": 0})

    first = poll(runtime)
    again = poll(runtime)  # with the poller's 300 s, nothing would be visible now

    assert first is not None
    assert again == first
    assert runtime.poller.stats.retried["rescheduled"] == 2


def test_a_record_the_handler_held_back_stays_invisible_although_the_poller_retries_at_once(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    runtime = start(make_local_runtime, retry_delay_seconds=0)
    runtime.send("rescheduled", {"come_back_after": 300})

    assert poll(runtime) is not None
    assert poll(runtime) is None  # still in flight: the handler's 300 s, not the poller's 0 s
    assert runtime.poller.pending() == {"rescheduled": 1}


def test_the_poller_still_retries_the_failures_the_handler_left_alone(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    runtime = start(make_local_runtime, retry_delay_seconds=0)
    held = runtime.send("rescheduled", {"come_back_after": 300})
    left = runtime.send("rescheduled", {"come_back_after": None})

    assert sorted(poll(runtime) or []) == sorted([held, left])
    assert poll(runtime) == [left]
    # Settled handles are forgotten: the registry does not grow with every rescheduled record.
    assert len(runtime.invoker.rescheduled) == 0


def test_a_redelivery_scale_of_zero_brings_rescheduled_records_back_at_once(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    # What the test fixtures use, so tests do not wait out back-offs and Allegro blocks.
    runtime = make_local_runtime(
        RESCHEDULING, handler_modules=MODULES, retry_delay_seconds=300, redelivery_scale=0
    )
    sent = runtime.send("rescheduled", {"come_back_after": 300})

    assert poll(runtime) == [sent]
    assert poll(runtime) == [sent]
