"""Drift injected straight into the emulator is found by `allegro-sync reconcile --dry-run` (changing
nothing) and repaired by the scheduled reconciler, each repair in the change log with its reason."""

from __future__ import annotations

import pytest

from tests.integration.propagation.conftest import StockWorld

pytestmark = pytest.mark.integration


def drift(world: StockWorld) -> dict[str, str]:
    """Everything in sync, then Allegro drifts behind the ledger's back."""
    offers = {
        "hand-edited": world.seller_offer("shop1", "SONY-XM5", stock=10),
        "active-at-zero": world.seller_offer("shop2", "KETTLE-1", stock=10),
        "sold-out": world.seller_offer("shop1", "MOUSE-1", stock=10),
    }
    world.propagate(world.level("SONY-XM5", 4), world.level("KETTLE-1", 0), world.level("MOUSE-1", 0))
    state = world.emulator.marketplace.state.offers
    state[offers["hand-edited"]].stock = 9  # the seller typed 9 in Allegro's panel
    kettle = state[offers["active-at-zero"]]
    kettle.stock, kettle.status, kettle.ended_by = 3, "ACTIVE", None  # re-activated by hand
    world.level("MOUSE-1", 5)  # stock came back but its message was lost
    offers["unlinked"] = world.seller_offer("shop2", "SONY-XM5", stock=1, link=False)  # made outside the sync
    return offers


def snapshot(world: StockWorld, offers: dict[str, str]) -> dict[str, tuple[str, int]]:
    return {name: world.shown(offer_id) for name, offer_id in offers.items()}


def test_dry_run_shows_the_drift_as_a_table_and_changes_nothing(world: StockWorld) -> None:
    offers = drift(world)
    before = snapshot(world, offers)

    result = world.cli("reconcile", "--dry-run", env=world.env("reconciler"))

    assert result.exit_code == 0, result.output
    for kind in ("STOCK", "ACTIVE_AT_ZERO", "ENDED_WITH_STOCK", "UNLINKED"):
        assert kind in result.output
    assert "dry run: nothing changed" in result.output
    assert "4 drift(s)" in result.output
    assert snapshot(world, offers) == before
    assert offers["unlinked"] not in {t.offer_id for t in world.ledger().view("SONY-XM5").offers}

    one = world.cli("reconcile", "--dry-run", "--account", "shop2", env=world.env("reconciler"))
    assert "2 drift(s)" in one.output, one.output
    unknown = world.cli("reconcile", "--dry-run", "--account", "nope", env=world.env("reconciler"))
    assert unknown.exit_code == 1
    assert "'nope' is not connected" in unknown.output


def test_the_scheduled_reconciler_repairs_every_drift_with_its_reason(world: StockWorld) -> None:
    offers = drift(world)

    summary = world.runtime.fire("reconciler")

    assert summary["drifts"] == 4
    assert summary["failed"] == {}
    assert snapshot(world, offers) == {
        "hand-edited": ("ACTIVE", 4),
        "active-at-zero": ("ENDED", 0),
        "sold-out": ("ACTIVE", 5),
        "unlinked": ("ACTIVE", 4),
    }
    assert offers["unlinked"] in {t.offer_id for t in world.ledger().view("SONY-XM5").offers}
    latest = world.history("SONY-XM5")[0]
    assert latest.reason.startswith("reconciler: Allegro showed ACTIVE with stock")
    assert [c.action for c in world.history("MOUSE-1")][:2] == ["activate", "stock"]
    again = world.runtime.fire("reconciler")
    assert again["drifts"] == 0


def test_a_second_live_offer_for_a_sku_on_one_account_is_ended_never_linked(world: StockWorld) -> None:
    kept = world.seller_offer("shop1", "DUP-1", stock=10)
    world.propagate(world.level("DUP-1", 4))
    # A second offer with the same external.id on the same account (a draft a failed create left,
    # activated by hand): two offers would sell the same units.
    twin = world.seller_offer("shop1", "DUP-1", stock=3, link=False)

    dry = world.cli("reconcile", "--dry-run", env=world.env("reconciler"))
    assert "DUPLICATE" in dry.output, dry.output
    world.runtime.fire("reconciler")

    assert world.shown(kept) == ("ACTIVE", 4)
    assert world.shown(twin) == ("ENDED", 0)
    assert twin not in {t.offer_id for t in world.ledger().view("DUP-1").offers}
