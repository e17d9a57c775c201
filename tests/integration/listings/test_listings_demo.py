"""`listings review` and `listings apply` on the demo catalogue, the way an operator runs them: the CLI finds
the local runtime (moto) and the connected account, reads the offers the catalogue worker published in the
Allegro emulator, and applies a proposal there; the change lands in the change log."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from allegro_sync.contracts.catalog import LinkStatus
from allegro_sync.domain.description_rules import validate_description
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from tests.fixtures.stack import running_stack
from tests.integration.catalog.conftest import ACCOUNT, SELLER, CatalogStack

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[3] / "demo"


@pytest.fixture(scope="module")
def stack() -> Iterator[CatalogStack]:
    with running_stack() as running:
        built = running.seen_as(CatalogStack)
        built.connect({ACCOUNT: SELLER})
        assert built.cli("mappings", "set", "Elektronika > Audio > Słuchawki", "101").exit_code == 0
        assert (
            built.cli("mappings", "set", "Dom > Kuchnia > Czajniki", "201", "--param", "Moc=17448").exit_code
            == 0
        )
        built.mappings.put_pricing_rule(
            ScopedRule(rule=PricingRule(name="allegro +10%", markup_percent=Decimal(10)))
        )
        imported = built.cli("catalog", "import", str(DEMO / "catalog.csv"), "--no-wait")
        assert imported.exit_code == 0, imported.output
        built.runtime.drain(timeout=30)  # the catalog worker publishes what the import queued
        yield built


def test_review_on_the_demo_catalogue_and_apply_one_proposal(stack: CatalogStack) -> None:
    link = stack.catalog.link("SONY-XM5", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED, link.reasons
    offer_id = str(link.offer_id)
    stack.emulator.marketplace.add_visits(offer_id, 40, watchers=3)
    before = stack.emulator.marketplace.offer(offer_id)

    reviewed = stack.cli("listings", "review")

    assert reviewed.exit_code == 0, reviewed.output
    assert offer_id in reviewed.output
    assert "Stan = 'Nowy' is not in the text" in " ".join(reviewed.output.split())  # the shop text omits it
    assert "=> rewritten" in reviewed.output

    applied = stack.cli("listings", "apply", offer_id, "--description-only")

    assert applied.exit_code == 0, applied.output
    assert f"{offer_id}: changed description" in applied.output
    after = stack.emulator.marketplace.offer(offer_id)
    assert after["name"] == before["name"]
    content = after["description"]["sections"][0]["items"][0]["content"]
    assert content.startswith(
        f"<h1>{before['name']}</h1><ul><li><b>Stan:</b> Nowy</li><li><b>Marka:</b> Sony</li>"
    )
    assert "<b>redukcja szumów</b>" in content  # the shop's text kept, <strong> as Allegro's <b>
    assert after["description"]["sections"][-1]["items"][-1]["type"] == "IMAGE"
    assert validate_description(after["description"], offer_images=after["images"]) == []
    history = stack.changes.history("SONY-XM5")
    assert history[0].action == "listing"
    assert set(history[0].changes) == {"description"}
    assert "Stan: Nowy" in history[0].changes["description"]["new"]


def test_bad_input_is_refused_with_a_clear_error(stack: CatalogStack) -> None:
    unknown = stack.cli("listings", "apply", "123")
    assert unknown.exit_code == 1
    assert "no proposal for offer 123" in unknown.output
    both = stack.cli("listings", "apply", "123", "--title-only", "--description-only")
    assert both.exit_code == 1
    assert "exclude each other" in both.output
    share = stack.cli("listings", "experiment", "start", "--category", "101", "--share", "1.5")
    assert share.exit_code == 1
    assert "--share must be between 0 and 1" in share.output
    none = stack.cli("listings", "experiment", "report")
    assert none.exit_code == 1
    assert "no experiment has been started" in none.output
