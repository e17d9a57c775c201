"""The propagator handles a batch as a whole: each SKU's Allegro calls still carry their own event's id."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync import correlation
from allegro_sync.contracts.messages import StockChanged
from tests.unit.ops.test_correlation import LogLines, logs
from tests.unit.propagation.fakes import World

__all__ = ["logs"]  # the fixture, shared with the helper's tests


class CallsWithIds(list[tuple[str, Any]]):
    """The fake Allegro's call list, noting the correlation id current at each call."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[tuple[str, Any, str | None]] = []

    def append(self, call: tuple[str, Any]) -> None:
        super().append(call)
        self.ids.append((call[0], call[1], correlation.current()))


@pytest.fixture
def world() -> World:
    built = World()
    built.main.calls = CallsWithIds()
    built.second.calls = CallsWithIds()
    return built


def tagged(signal: StockChanged, correlation_id: str) -> StockChanged:
    """As the handler builds it: the message's attribute next to what its body says."""
    return signal.model_copy(update={"correlation_id": correlation_id})


def calls(world: World, name: str) -> list[tuple[Any, str | None]]:
    assert isinstance(world.main.calls, CallsWithIds)
    assert isinstance(world.second.calls, CallsWithIds)
    return [(args, cid) for n, args, cid in world.main.calls.ids + world.second.calls.ids if n == name]


def test_each_sku_is_pushed_under_the_id_of_its_newest_message(world: World, logs: LogLines) -> None:
    world.offer("SKU-A", "A1", "main")
    world.offer("SKU-A", "A2", "second")
    world.offer("SKU-B", "B1", "main")
    world.run(world.level("SKU-A", 5), world.level("SKU-B", 5))  # first pushes (no ids: a repair's shape)
    assert {cid for _, cid in calls(world, "patch")} == {None}
    world.main.calls.ids.clear()  # type: ignore[attr-defined]
    world.second.calls.ids.clear()  # type: ignore[attr-defined]
    older = tagged(world.level("SKU-A", 4), "delivery-old")
    newer = tagged(world.level("SKU-A", 3), "order-event-7")

    world.run(newer, tagged(world.level("SKU-B", 1), "delivery-b"), older)

    # A2 is alone on its account: a PATCH under its SKU's newest id. A1 and B1 share one bulk command.
    patched = {args[0]: cid for args, cid in calls(world, "patch")}
    assert patched == {"A2": "order-event-7"}
    [(args, command_id)] = calls(world, "bulk")
    assert args == (("A1", 3), ("B1", 1))
    assert command_id is None  # two events share it: neither id alone would be true
    shared = [
        (line["sku"], line["offer_id"], line["correlation_id"])
        for line in logs.lines
        if line["message"] == "stock in a shared bulk command"
    ]
    assert shared == [("SKU-A", "A1", "order-event-7"), ("SKU-B", "B1", "delivery-b")]
    assert correlation.current() is None  # nothing lingers after the batch


def test_a_bulk_command_shared_by_two_events_names_each_under_its_own_id(
    world: World, logs: LogLines
) -> None:
    world.offer("SKU-1", "O1")
    world.offer("SKU-2", "O2")
    world.run(world.level("SKU-1", 5), world.level("SKU-2", 5))

    world.run(tagged(world.level("SKU-1", 3), "delivery-1"), tagged(world.level("SKU-2", 3), "delivery-2"))

    [(args, command_id)] = calls(world, "bulk")
    assert args == (("O1", 3), ("O2", 3))
    assert command_id is None  # two events share it: neither id alone would be true
    shared = [
        (line["sku"], line["correlation_id"])
        for line in logs.lines
        if line["message"] == "stock in a shared bulk command"
    ]
    assert shared == [("SKU-1", "delivery-1"), ("SKU-2", "delivery-2")]


def test_a_bulk_command_for_one_event_carries_its_id(world: World) -> None:
    world.offer("SKU-1", "O1")
    world.offer("SKU-1", "O2")
    world.run(world.level("SKU-1", 5))

    world.run(tagged(world.level("SKU-1", 2), "delivery-9"))

    assert calls(world, "bulk") == [((("O1", 2), ("O2", 2)), "delivery-9")]
