"""Injected crashes (the soak's chaos): a batch dies part-way, after its first records' side effects."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync.local.invoker import InjectedCrash, Invoker
from allegro_sync.topology import TOPOLOGY

SEEN: list[str] = []


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    SEEN.extend(record["body"] for record in event.get("Records", [])) if "Records" in event else SEEN.append(
        "run"
    )
    return {"batchItemFailures": []}


class CrashAfter:
    def __init__(self, at: int | None) -> None:
        self.at = at

    def crash_after(self, function: str, records: int) -> int | None:
        return self.at


def invoker(plan: CrashAfter | None) -> Invoker:
    name = TOPOLOGY.functions[0].name
    return Invoker({name: {}}, region="eu-central-1", handler_modules={name: __name__}, crashes=plan)


def batch(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": str(n), "body": body} for n, body in enumerate(bodies)]}


@pytest.fixture(autouse=True)
def _clear() -> None:
    SEEN.clear()


def test_a_crash_mid_batch_keeps_the_first_records_work_and_fails_the_invocation() -> None:
    runner = invoker(CrashAfter(2))
    with pytest.raises(InjectedCrash, match="after 2 of 4 records"):
        runner.invoke(TOPOLOGY.functions[0], batch("a", "b", "c", "d"))
    assert SEEN == ["a", "b"]
    totals = runner.totals[TOPOLOGY.functions[0].name]
    assert (totals.invocations, totals.errors) == (1, 1)


def test_a_scheduled_run_dies_after_its_work_and_an_unplanned_one_lives() -> None:
    with pytest.raises(InjectedCrash, match="after its work"):
        invoker(CrashAfter(0)).invoke(TOPOLOGY.functions[0], {"source": "aws.events"})
    assert SEEN == ["run"]
    assert invoker(None).invoke(TOPOLOGY.functions[0], batch("x")) == {"batchItemFailures": []}
    assert SEEN == ["run", "x"]
