"""The reconciler on fakes: each kind of drift found, repaired through the propagator with a reason;
dry-run finds the same and changes nothing."""

from __future__ import annotations

import pytest

from allegro_sync.services.reconcile import DriftKind, Reconciler
from tests.unit.propagation.fakes import FakeClients, FakeOffer, World


@pytest.fixture
def world() -> World:
    return World()


def reconciler(world: World) -> Reconciler:
    return Reconciler(
        ledger=world.ledger,
        clients=FakeClients(main=world.main, second=world.second),
        propagator=world.propagator,
        accounts=lambda: ["main", "second"],
    )


def drifted(world: World) -> None:
    """Four SKUs in sync, then Allegro drifts: a hand edit, an active offer at 0, a sold-out offer left
    ended although stock came back, an offer created outside the sync, and a second live offer for a SKU
    on an account that already sells it (e.g. the draft of a failed 202 create, activated by hand)."""
    for sku, offer, qty in (("A", "OA", 5), ("B", "OB", 0), ("C", "OC", 4), ("D", "OD", 2)):
        world.offer(sku, offer, stock=qty, status="ACTIVE" if qty else "ENDED")
        world.run(world.level(sku, qty))
    world.main.offers["OA"].stock = 9  # the seller typed 9 in Allegro's panel
    world.main.offers["OB"].status = "ACTIVE"  # someone re-activated a sold-out offer
    world.main.offers["OB"].stock = 3
    world.main.offers["OC"].status, world.main.offers["OC"].ended_by = "ENDED", "EMPTY_STOCK"
    world.second.offers["OX"] = FakeOffer(stock=7, sku="D")  # D's offer on `second`, unknown to the ledger
    world.main.offers["OY"] = FakeOffer(stock=7, sku="D")  # a second live offer for D on `main`
    world.main.offers["OU"] = FakeOffer(stock=1, status="ENDED", ended_by="USER", sku="A")
    world.main.calls.clear()


def test_every_kind_of_drift_is_found_and_repaired_with_its_reason(world: World) -> None:
    drifted(world)

    report = reconciler(world).run()

    kinds = {(d.offer_id, d.kind) for d in report.drifts}
    assert kinds == {
        ("OA", DriftKind.STOCK),
        ("OB", DriftKind.ACTIVE_AT_ZERO),
        ("OC", DriftKind.ENDED_WITH_STOCK),
        ("OX", DriftKind.UNLINKED),
        ("OU", DriftKind.UNLINKED),
        ("OY", DriftKind.DUPLICATE),
    }
    offers = world.main.offers
    assert offers["OA"].stock == 5
    assert offers["OB"].status == "ENDED"
    assert (offers["OC"].status, offers["OC"].stock) == ("ACTIVE", 4)
    assert world.second.offers["OX"].stock == 2  # adopted, then shows what D has
    assert "OX" in {t.offer_id for t in world.ledger.view("D").offers}
    assert offers["OY"].status == "ENDED"  # one offer per SKU x account: the duplicate is ended ...
    assert "OY" not in {t.offer_id for t in world.ledger.view("D").offers}  # ... and never linked
    assert (offers["OU"].status, offers["OU"].stock) == ("ENDED", 1)  # the seller ended it: left alone
    reasons = [c.reason for c in world.changes.changes if c.offer_id == "OA"]
    assert "reconciler: Allegro showed ACTIVE with stock 9" in reasons[-1]
    assert report.failed == {}


def test_dry_run_shows_the_same_drift_and_changes_nothing(world: World) -> None:
    drifted(world)
    before = {k: (o.stock, o.status) for k, o in world.main.offers.items()}
    logged = len(world.changes.changes)

    report = reconciler(world).run(dry_run=True)

    assert {d.offer_id for d in report.drifts} == {"OA", "OB", "OC", "OX", "OU", "OY"}
    assert world.main.writes() == []
    assert world.second.writes() == []
    assert {k: (o.stock, o.status) for k, o in world.main.offers.items()} == before
    assert len(world.changes.changes) == logged
    assert "OX" not in {t.offer_id for t in world.ledger.view("D").offers}


def test_an_unknown_level_is_never_drift_and_foreign_skus_are_ignored(world: World) -> None:
    world.offer("A", "OA", stock=5)
    world.run(world.level("A", 5))
    world.run(world.level("A", None))
    world.main.offers["OA"].stock = 1
    world.main.offers["OF"] = FakeOffer(stock=3, sku="NOT-OURS")
    world.main.calls.clear()

    report = reconciler(world).run()

    assert report.drifts == []
    assert world.main.writes() == []


def test_a_linked_offer_allegro_no_longer_lists_is_reported(world: World) -> None:
    world.offer("A", "OA", stock=5)
    world.offer("A", "OGONE", stock=5)
    world.run(world.level("A", 5))
    world.main.offers["OGONE"].archived = True

    report = reconciler(world).run(account="main")

    assert [(d.offer_id, d.kind) for d in report.drifts] == [("OGONE", DriftKind.MISSING)]


def test_an_account_that_is_not_connected_is_a_clear_error(world: World) -> None:
    with pytest.raises(LookupError, match="'nope' is not connected"):
        reconciler(world).run(account="nope")


def test_a_run_reads_each_skus_view_once_for_all_its_accounts(world: World) -> None:
    """Issue 21: a view is the SKU's, so the second account's pages reuse the first's reads; a drift on
    the second account is still found and repaired (from a strongly consistent re-read)."""
    world.offer("A", "OA", stock=5)
    world.offer("A", "OA2", stock=5, account="second")
    world.run(world.level("A", 5))
    world.second.offers["OA2"].stock = 8  # hand-edited on the second account
    asked: list[list[str]] = []
    repository = world.ledger.repository
    load_many = repository.load_many

    def counted(skus: list[str]) -> object:  # the batched, eventually consistent read behind `views`
        asked.append(list(skus))
        return load_many(skus)

    repository.load_many = counted  # type: ignore[method-assign,assignment]

    report = reconciler(world).run()

    assert asked == [["A"]]
    assert [(d.offer_id, d.kind) for d in report.drifts] == [("OA2", DriftKind.STOCK)]
    assert world.second.offers["OA2"].stock == 5
