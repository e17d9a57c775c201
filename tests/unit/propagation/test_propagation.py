"""Propagation rules on fakes: coalescing, PATCH vs batch, 0 ends, restock confirms then activates,
archived offers go back to the catalogue, unknown stock is never pushed."""

from __future__ import annotations

import pytest

from allegro_sync.contracts.allegro_errors import AllegroRateLimited
from allegro_sync.contracts.messages import StockChanged
from allegro_sync.contracts.stock import PushRecord
from allegro_sync.services.propagation_plan import coalesce
from tests.unit.propagation.fakes import World


@pytest.fixture
def world() -> World:
    return World()


def test_coalesce_keeps_the_newest_revision_per_sku() -> None:
    signals = [
        StockChanged(sku="A", revision=3),
        StockChanged(sku="A", revision=7),
        StockChanged(sku="A", revision=5),
    ]
    assert coalesce([*signals, StockChanged(sku="B", revision=1)]) == {"A": 7, "B": 1}


def test_a_burst_for_one_sku_is_one_push_of_the_newest_value(world: World) -> None:
    world.offer("SKU-1", "O1", stock=9)
    world.run(world.level("SKU-1", 9))
    world.main.calls.clear()
    burst = [world.level("SKU-1", q) for q in (8, 7, 6, 4)]

    world.run(*burst)

    assert world.main.calls == [("patch", ("O1", {"stock": {"available": 4}}))]
    assert world.main.offers["O1"].stock == 4
    # A late redelivery of an older message changes nothing on Allegro.
    world.run(burst[1])
    assert len(world.main.calls) == 1


def test_one_offer_gets_a_patch_many_offers_one_bulk_command_each_with_its_own_value(world: World) -> None:
    for n in range(3):
        world.offer(f"SKU-{n}", f"O{n}")
    world.offer("SKU-9", "O9")
    world.run(*(world.level(f"SKU-{n}", 5) for n in (0, 1, 2, 9)))  # first push: read back each
    world.main.calls.clear()

    world.run(*(world.level(f"SKU-{n}", 3) for n in range(3)), world.level("SKU-9", 8))

    # Across SKUs, same account, different values: one command, no PATCH, no quantity command.
    assert world.main.calls == [("bulk", (("O0", 3), ("O1", 3), ("O2", 3), ("O9", 8)))]
    assert [world.main.offers[f"O{n}"].stock for n in (0, 1, 2, 9)] == [3, 3, 3, 8]
    assert [c.action for c in world.changes.changes[-4:]] == ["stock"] * 4
    world.main.calls.clear()
    world.run(world.level("SKU-9", 2))
    assert world.main.calls == [("patch", ("O9", {"stock": {"available": 2}}))]  # one offer: a PATCH


def test_more_than_25_offers_take_one_bulk_command_per_25(world: World) -> None:
    for n in range(30):
        world.offer(f"SKU-{n}", f"O{n}")
    world.run(*(world.level(f"SKU-{n}", 9) for n in range(30)))
    world.main.calls.clear()

    world.run(*(world.level(f"SKU-{n}", 1 + n % 7) for n in range(30)))

    assert [len(args) for name, args in world.main.calls] == [25, 5]
    assert all(world.main.offers[f"O{n}"].stock == 1 + n % 7 for n in range(30))


def test_a_bulk_command_whose_answer_was_lost_is_not_run_again_by_the_redelivery(world: World) -> None:
    for n in range(3):
        world.offer(f"SKU-{n}", f"O{n}")
    world.run(*(world.level(f"SKU-{n}", 9) for n in range(3)))
    world.main.calls.clear()
    signals = [world.level(f"SKU-{n}", n + 1) for n in range(3)]
    world.main.lose_next_bulk_answer = True

    lost = world.run(*signals)
    redelivered = world.run(*signals)  # SQS hands the same messages back

    assert set(lost.failed) == {"SKU-0", "SKU-1", "SKU-2"}
    assert redelivered.failed == {}
    assert world.main.names() == ["bulk"]  # the same command id: its results are read, not run twice
    assert [world.main.offers[f"O{n}"].stock for n in range(3)] == [1, 2, 3]
    assert [c.changes["stock"]["new"] for c in world.changes.changes[-3:]] == [1, 2, 3]


def test_offers_on_two_accounts_are_both_set(world: World) -> None:
    world.offer("SKU-1", "M1", "main")
    world.offer("SKU-1", "S1", "second")

    world.run(world.level("SKU-1", 4))

    assert (world.main.offers["M1"].stock, world.second.offers["S1"].stock) == (4, 4)
    assert {c.account for c in world.changes.changes} == {"main", "second"}


def test_zero_ends_the_offer_with_a_patch_never_a_command(world: World) -> None:
    world.offer("SKU-1", "O1")
    world.offer("SKU-2", "O2")
    world.run(world.level("SKU-1", 5), world.level("SKU-2", 5))
    world.main.calls.clear()

    world.run(world.level("SKU-1", 0), world.level("SKU-2", 0))

    assert world.main.names() == ["patch", "patch"]
    assert all(args[1] == {"stock": {"available": 0}} for _, args in world.main.calls)
    assert world.main.offers["O1"].status == "ENDED"
    assert world.changes.changes[-1].action == "end"
    assert "0 ends the offer" in world.changes.changes[-1].reason


def test_restock_sets_stock_confirms_it_then_activates(world: World) -> None:
    world.offer("SKU-1", "O1")
    world.run(world.level("SKU-1", 5))
    world.run(world.level("SKU-1", 0))
    world.main.calls.clear()

    world.run(world.level("SKU-1", 6))

    assert world.main.names() == ["patch", "publication"]
    assert world.main.calls[1][1] == (("O1",), "ACTIVATE")
    assert (world.main.offers["O1"].status, world.main.offers["O1"].stock) == ("ACTIVE", 6)
    assert world.changes.changes[-1].action == "activate"


def test_restock_reads_back_when_the_patch_answer_lags_and_never_activates_unconfirmed(world: World) -> None:
    world.offer("SKU-1", "O1")
    world.run(world.level("SKU-1", 5))
    world.run(world.level("SKU-1", 0))
    world.main.calls.clear()
    world.main.stale_reads = True

    world.run(world.level("SKU-1", 6))

    assert world.main.names() == ["patch", "get", "publication"]  # read back before ACTIVATE


def test_unconfirmed_stock_is_not_activated_and_the_sku_is_retried(world: World) -> None:
    world.offer("SKU-1", "O1")
    world.run(world.level("SKU-1", 5))
    world.run(world.level("SKU-1", 0))
    world.main.calls.clear()

    original = world.main.patch_product_offer

    def patch_not_applied(offer_id: str, body: object, *, wait: bool = True) -> object:
        world.main.calls.append(("patch", (offer_id, body)))
        return world.main._view(offer_id, world.main.offers[offer_id])  # Allegro ignored it for now

    world.main.patch_product_offer = patch_not_applied  # type: ignore[assignment,method-assign]
    report = world.propagator.propagate([world.level("SKU-1", 6)])
    world.main.patch_product_offer = original  # type: ignore[method-assign]

    assert "publication" not in world.main.names()
    assert "SKU-1" in report.failed
    assert world.pushes.records[("SKU-1", "O1")].action == "END"  # nothing claims the 6 is on Allegro
    world.run(world.level("SKU-1", 6))  # the retry (a newer revision here) goes through
    assert world.main.offers["O1"].status == "ACTIVE"


def test_an_offer_the_seller_ended_gets_stock_but_is_not_reactivated(world: World) -> None:
    world.offer("SKU-1", "O1", status="ENDED", ended_by="USER", stock=0)

    world.run(world.level("SKU-1", 3))

    assert world.main.names() == ["patch"]
    assert (world.main.offers["O1"].status, world.main.offers["O1"].stock) == ("ENDED", 3)


def test_an_archived_offer_is_handed_to_the_catalogue_for_recreation(world: World) -> None:
    world.offer("SKU-1", "O1", status="ENDED", ended_by="EMPTY_STOCK", stock=0, archived=True)

    signal = world.level("SKU-1", 4)
    report = world.run(signal)

    assert world.archived.asked == [("SKU-1", "main", "O1")]
    assert report.recreated == {"O1": "NEW-1"}
    assert world.main.offers["NEW-1"].stock == 4  # the ledger's level, not the catalogue's
    assert [(c.action, c.offer_id) for c in world.changes.changes[-2:]] == [
        ("recreate", "O1"),
        ("stock", "NEW-1"),
    ]
    assert "archived" in world.changes.changes[-2].reason
    world.run(signal)  # a redelivery does not ask the catalogue twice
    assert len(world.archived.asked) == 1


def test_a_failed_batch_task_falls_back_to_the_single_path(world: World) -> None:
    world.offer("SKU-1", "O1")
    world.offer("SKU-2", "O2")
    world.run(world.level("SKU-1", 5), world.level("SKU-2", 5))
    world.main.offers["O2"].archived = True

    world.run(world.level("SKU-1", 2), world.level("SKU-2", 2))

    assert world.main.offers["O1"].stock == 2
    assert world.archived.asked == [("SKU-2", "main", "O2")]


def test_unknown_quantity_pushes_nothing(world: World) -> None:
    world.offer("SKU-1", "O1", stock=5)
    world.run(world.level("SKU-1", 5))
    world.main.calls.clear()

    report = world.run(world.level("SKU-1", None))

    assert world.main.calls == []
    assert world.main.offers["O1"].stock == 5  # neither 0 nor anything else
    assert next(s.why for s in report.skipped).startswith("unknown quantity")


def test_same_value_at_a_newer_revision_records_the_revision_without_a_call(world: World) -> None:
    world.offer("SKU-1", "O1")
    world.run(world.level("SKU-1", 5))
    world.main.calls.clear()

    signal = world.level("SKU-1", 5)  # an equal-key report: a new revision showing the same number
    world.ledger.set_buffer("SKU-1", 0)
    world.run(StockChanged(sku="SKU-1", revision=world.ledger.view("SKU-1").revision), signal)

    assert world.main.calls == []
    assert world.pushes.records[("SKU-1", "O1")] == PushRecord(
        world.ledger.view("SKU-1").revision, "SET", 5, "main"
    )


def test_a_rate_limited_account_does_not_hold_back_the_other_and_only_it_is_retried(world: World) -> None:
    world.offer("SKU-1", "M1", "main")
    world.offer("SKU-1", "S1", "second")
    world.run(world.level("SKU-1", 5))
    blocked = AllegroRateLimited(blocked_until=1e10)

    def limited(offer_id: str, body: object, *, wait: bool = True) -> object:
        raise blocked

    original = world.second.patch_product_offer
    world.second.patch_product_offer = limited  # type: ignore[assignment,method-assign]
    signal = world.level("SKU-1", 2)
    report = world.run(signal)
    world.second.patch_product_offer = original  # type: ignore[method-assign]

    assert world.main.offers["M1"].stock == 2
    assert world.second.offers["S1"].stock == 5
    assert "RATE_LIMITED" in report.failed["SKU-1"]
    world.main.calls.clear()
    world.run(signal)  # SQS redelivers the SKU's message
    assert world.second.offers["S1"].stock == 2
    assert world.main.calls == []  # the account that had it is not called again
