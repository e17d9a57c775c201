"""Schedules fire their functions with EventBridge-shaped events, on a scaled (and injectable) clock."""

from __future__ import annotations

import pytest

from tests.fixtures.local import MakeLocalRuntime
from tests.integration.local.handlers import recorder
from tests.integration.local.topologies import MODULES, QUEUES

pytestmark = pytest.mark.integration


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_one_minute_schedule_fires_every_scaled_second_and_never_replays_missed_runs(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    recorder.CALLS.clear()
    clock = FakeClock()
    runtime = make_local_runtime(QUEUES, handler_modules=MODULES, time_scale=60, clock=clock)
    scheduler = runtime.scheduler

    clock.now += 0.9
    assert scheduler.tick() == []
    clock.now += 0.1  # one scaled minute
    assert scheduler.tick() == ["recorder"]
    clock.now += 10  # ten minutes late: EventBridge fires once, it does not catch up
    assert scheduler.tick() == ["recorder"]
    assert scheduler.tick() == []

    assert len(recorder.CALLS) == 2
    event = recorder.CALLS[0]["event"]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["region"] == runtime.region
    assert event["resources"] == [
        f"arn:aws:events:{runtime.region}:123456789012:rule/allegro-sync-recorder-every-1m"
    ]
    assert event["detail"] == {}


def test_the_background_scheduler_fires_on_its_own(make_local_runtime: MakeLocalRuntime) -> None:
    recorder.CALLS.clear()
    runtime = make_local_runtime(QUEUES, handler_modules=MODULES, time_scale=6000)  # a minute in 10 ms

    runtime.scheduler.start()
    reached = recorder.wait_for_calls(3, timeout=10)
    runtime.scheduler.stop()

    assert reached
    assert runtime.scheduler.fired("recorder") >= 3
    assert all(call["event"]["source"] == "aws.events" for call in recorder.CALLS)


def test_fire_runs_a_scheduled_function_now_and_rejects_unscheduled_ones(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    recorder.CALLS.clear()
    runtime = make_local_runtime(QUEUES, handler_modules=MODULES)

    answer = runtime.fire("recorder")
    # Run now, its answer returned. The count is a module global: a scheduled call of the previous test's
    # runtime still finishing on a loaded machine may add to it, so "at least ours".
    assert set(answer) == {"seen"}
    assert answer["seen"] >= 1
    assert recorder.CALLS[-1]["event"]["source"] == "aws.events"
    with pytest.raises(KeyError, match="flaky"):
        runtime.fire("flaky")
