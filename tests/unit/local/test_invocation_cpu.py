"""The local runtime meters each function's CPU beside its wall time: the cost model needs what the work
took, not how long it waited for a core while other functions shared the process."""

from __future__ import annotations

import time
from typing import Any

from allegro_sync.local.invoker import Invoker
from allegro_sync.topology import TOPOLOGY


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    if event.get("work") == "sleep":
        time.sleep(0.3)  # waiting: wall time, next to no CPU
    else:
        sum(i * i for i in range(200_000))  # working: CPU
    return {}


def test_a_waiting_invocation_bills_wall_time_and_next_to_no_cpu_a_working_one_cpu_too() -> None:
    name = TOPOLOGY.functions[0].name
    runner = Invoker({name: {}}, region="eu-central-1", handler_modules={name: __name__})

    runner.invoke(TOPOLOGY.functions[0], {"work": "sleep"})
    slept_wall, slept_cpu = runner.totals[name].seconds, runner.totals[name].cpu_seconds
    assert slept_wall >= 0.3
    assert slept_cpu < slept_wall / 3

    runner.invoke(TOPOLOGY.functions[0], {"work": "compute"})
    assert runner.totals[name].cpu_seconds > slept_cpu
    assert runner.totals[name].invocations == 2
