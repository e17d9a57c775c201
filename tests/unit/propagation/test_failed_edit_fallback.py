"""A sell-out must reach Allegro inside the grace even when the usual PATCH cannot do it now.

Measured in the full soak (bench/REPORT.md, 3 units "oversold_preventable"): a failed asynchronous edit
(#11011: "locked by another operation. Try again.") sent the SKU back to the queue, so the offer kept
showing stock for another delivery (20 s in the soak, the queue's 6-minute timeout in AWS), and a sell-out
waited behind the other pushes of its batch. Now the failed edit goes out at once as a command, sell-outs
go first, and a SKU failed by an Allegro block says when that block ends (its messages come back then)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from allegro_sync.contracts.allegro_errors import (
    AllegroApiError,
    AllegroOperationFailed,
    AllegroServerError,
    AllegroUserRateLimited,
)
from allegro_sync.services.propagation import PropagationReport
from tests.unit.propagation.fakes import World


@pytest.fixture
def world() -> World:
    return World()


@contextmanager
def edits_fail(world: World, error: Exception) -> Iterator[None]:
    """Every PATCH of the `main` seller fails with `error` and changes nothing."""
    original = world.main.patch_product_offer

    def failing(offer_id: str, body: Any, *, wait: bool = True) -> Any:
        world.main.calls.append(("patch", (offer_id, dict(body))))
        raise error

    world.main.patch_product_offer = failing  # type: ignore[method-assign]
    try:
        yield
    finally:
        world.main.patch_product_offer = original  # type: ignore[method-assign]


def operation_failed(offer_id: str) -> AllegroOperationFailed:
    source = AllegroApiError(422, [], method="GET", path="/sale/product-offers/x/operations/y")
    return AllegroOperationFailed(source, offer_id=offer_id)


def pushed_after_a_failed_edit(world: World, level: int) -> PropagationReport:
    """SKU-1's offer O1 at 5 (pushed), then `level` pushed while Allegro's asynchronous edit fails."""
    world.offer("SKU-1", "O1", stock=5)
    world.run(world.level("SKU-1", 5))
    world.main.calls.clear()
    with edits_fail(world, operation_failed("O1")):
        return world.run(world.level("SKU-1", level))


def test_a_sell_out_whose_edit_failed_ends_the_offer_by_command_in_the_same_run(world: World) -> None:
    report = pushed_after_a_failed_edit(world, 0)

    assert report.failed == {}
    assert world.main.names() == ["patch", "publication"]
    assert world.main.offers["O1"].status == "ENDED"  # nobody can buy it any more
    assert world.pushes.records[("SKU-1", "O1")].action == "END"
    assert "asynchronous edit failed" in world.changes.changes[-1].reason


def test_a_lower_stock_whose_edit_failed_goes_out_as_a_quantity_command(world: World) -> None:
    report = pushed_after_a_failed_edit(world, 2)

    assert report.failed == {}
    assert world.main.offers["O1"].stock == 2
    assert world.pushes.records[("SKU-1", "O1")].quantity == 2


def test_sell_outs_go_out_before_the_other_pushes_of_a_batch(world: World) -> None:
    for n in range(1, 5):
        world.offer(f"SKU-{n}", f"O{n}", stock=5)
    world.run(*(world.level(f"SKU-{n}", 5) for n in range(1, 5)))
    world.main.calls.clear()

    world.run(
        world.level("SKU-1", 3), world.level("SKU-2", 4), world.level("SKU-3", 0), world.level("SKU-4", 0)
    )

    first_two = [args[0] for _, args in world.main.calls[:2]]
    assert first_two == ["O3", "O4"]
    assert [world.main.offers[f"O{n}"].status for n in (3, 4)] == ["ENDED", "ENDED"]


def test_a_push_failed_by_a_block_names_when_that_block_ends_and_other_failures_do_not(
    world: World,
) -> None:
    world.offer("SKU-1", "O1", stock=5)
    world.offer("SKU-2", "O2", stock=5, account="second")
    world.run(world.level("SKU-1", 5), world.level("SKU-2", 5))
    limited = AllegroUserRateLimited(1_700_000_042.0, account="main", resource="product-offers write")
    with edits_fail(world, limited):
        world.main.change_publication = _raising(limited)  # type: ignore[method-assign]
        world.second.patch_product_offer = _raising(  # type: ignore[method-assign]
            AllegroServerError(503, [], method="PATCH", path="/sale/product-offers/O2")
        )
        report = world.run(world.level("SKU-1", 0), world.level("SKU-2", 1))

    assert set(report.failed) == {"SKU-1", "SKU-2"}
    assert report.blocked_until == {"SKU-1": 1_700_000_042.0}  # SKU-2 comes back soon, not at a block's end


def _raising(error: Exception) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        raise error

    return call
