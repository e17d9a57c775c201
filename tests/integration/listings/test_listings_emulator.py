"""Listing optimization against the Allegro emulator (spec-checked) with its state in moto: the review
proposes titles and descriptions with reasons from the seller's own 30-day stats, `apply` changes the offer
on Allegro and records it in the change log, and an A/B experiment reports changed vs unchanged visits.
The operator's commands run against the shared `stack`, as on a laptop with `allegro-sync local up`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog
from allegro_sync.adapters.dynamodb.listings import DynamoListingStore
from allegro_sync.contracts.catalog import StoredProduct
from allegro_sync.domain.description_rules import validate_description
from allegro_sync.emulator import Emulator
from allegro_sync.services.listings import ListingOptimizer, in_treatment
from tests.fixtures.aws import create_tables
from tests.fixtures.products import product_upsert
from tests.fixtures.stack import Stack, seller_client

pytestmark = pytest.mark.integration

ACCOUNT = "sklep-opisy"
SONY_EAN = "4548736132610"  # category 101 in the emulator's catalogue
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SHOP_HTML = (
    '<div style="font-size:14px"><strong>Słuchawki z aktywną redukcją szumów.</strong> '
    "Zadzwoń: 600 700 800 albo napisz na biuro@mojsklep.pl</div>"
    "<p>Bateria do 30 godzin, składana konstrukcja.</p>"
)
# name, 30-day visits, sold: the "bezprzewodowe" offers do much better than the rest.
OFFERS = [
    ("Słuchawki bezprzewodowe Sony czarne", 120, 3),
    ("Słuchawki bezprzewodowe nauszne Sony", 110, 2),
    ("Słuchawki bezprzewodowe Sony składane", 95, 2),
    ("Słuchawki nauszne Sony czarne", 20, 0),
    ("Słuchawki Sony nauszne składane", 15, 0),
    ("Słuchawki Sony model nauszny", 25, 1),
    ("Słuchawki Sony WH-1000XM5 HIT", 10, 0),
    ("Słuchawki Sony z mikrofonem", 18, 0),
]


@dataclass
class World:
    emulator: Emulator
    optimizer: ListingOptimizer
    changes: DynamoChangeLog
    clock: list[datetime]
    offers: dict[str, str]  # sku -> offer id

    def client(self) -> AllegroClient:
        return seller_client(self.emulator, ACCOUNT, sleep=self.emulator.advance, max_wait_seconds=120)

    def offer(self, offer_id: str) -> dict[str, Any]:
        return self.emulator.marketplace.offer(offer_id)


@pytest.fixture
def world(aws: None, emulator: Emulator) -> World:
    emulator.create_seller(ACCOUNT)
    return seeded(emulator, create_tables("mappings", "catalog", "changes"))


def seeded(emulator: Emulator, tables: dict[str, Any]) -> World:
    """OFFERS on the seller's account with their visits and sales; each SKU's product in the catalogue."""
    catalog = DynamoCatalog(tables["catalog"])
    changes = DynamoChangeLog(tables["changes"])
    clock = [T0]
    optimizer = ListingOptimizer(
        DynamoListingStore(tables["mappings"]), catalog, changes, clock=lambda: clock[0]
    )
    world = World(emulator, optimizer, changes, clock, {})
    with world.client() as client:
        for index, (name, visits, sold) in enumerate(OFFERS):
            sku = f"SLU-{index}"
            body = {
                "name": name,
                "productSet": [{"product": {"id": SONY_EAN, "idType": "GTIN"}}],
                "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
                "sellingMode": {"format": "BUY_NOW", "price": {"amount": "999.00", "currency": "PLN"}},
                "stock": {"available": 20, "unit": "UNIT"},
                "external": {"id": sku},
                "description": {
                    "sections": [{"items": [{"type": "TEXT", "content": "<p>Tel. 600 700 800, pytaj!</p>"}]}]
                },
                "images": [],
                "publication": {"status": "ACTIVE"},
            }
            offer_id = client.create_product_offer(body).id
            world.offers[sku] = offer_id
            emulator.marketplace.add_visits(offer_id, visits, watchers=visits // 10)
            for _ in range(sold):
                emulator.marketplace.buy(offer_id)
            upsert = product_upsert(
                sku, delivery_id=f"d-{sku}", version=1, name="Słuchawki Sony WH-1000XM5", stock=None,
                price=Decimal("999.00"), description_html=SHOP_HTML,
                attributes={"Marka": "Sony", "Model": "WH-1000XM5", "Kolor": "czarny"},
            )  # fmt: skip
            catalog.accept(StoredProduct(sku=sku, order_key=f"{1:020d}", upsert=upsert))
    return world


def test_review_proposes_titles_with_reasons_and_apply_changes_the_offer_and_records_it(world: World) -> None:
    weak = world.offers["SLU-6"]  # "Słuchawki Sony WH-1000XM5 HIT": 10 visits
    with world.client() as client:
        proposals = world.optimizer.review(ACCOUNT, client, category="101")
    by_offer = {p.offer_id: p for p in proposals}
    proposal = by_offer[weak]
    assert proposal.current_title == "Słuchawki Sony WH-1000XM5 HIT"
    assert proposal.proposed_title.startswith("Słuchawki Sony WH-1000XM5 bezprzewodowe")
    assert proposal.expected_gain > 0.5
    assert any("'bezprzewodowe': offers with it: 108 visits / 2.3 sold" in r for r in proposal.reasons)
    assert any("'hit': promotional word" in r for r in proposal.reasons)
    assert any("600 700 800" in issue for issue in proposal.issues)
    assert [p.expected_gain for p in proposals] == sorted((p.expected_gain for p in proposals), reverse=True)

    with world.client() as client:
        change = world.optimizer.apply(ACCOUNT, client, weak)
    offer = world.offer(weak)
    assert offer["name"] == proposal.proposed_title
    content = offer["description"]["sections"][0]["items"][0]["content"]
    assert content.startswith(f"<h1>{proposal.proposed_title}</h1><ul><li><b>Marka:</b> Sony</li>")
    assert "600 700 800" not in content
    assert "biuro@mojsklep.pl" not in content
    assert "Bateria do 30 godzin" in content
    assert validate_description(offer["description"], offer_images=offer.get("images", [])) == []

    history = world.changes.history("SLU-6")
    assert [h.action for h in history] == ["listing"]
    assert history[0].offer_id == weak
    assert history[0].changes["name"] == {
        "old": "Słuchawki Sony WH-1000XM5 HIT",
        "new": proposal.proposed_title,
    }
    assert "bezprzewodowe" in history[0].reason
    assert change.changes.keys() == {"name", "description"}

    with world.client() as client, pytest.raises(ValueError, match="run `listings review` again"):
        world.optimizer.apply(ACCOUNT, client, weak)  # the reviewed title is no longer the offer's title
    assert [h.action for h in world.changes.history("SLU-6")] == ["listing"]


def test_apply_without_a_review_is_refused_and_changes_nothing(world: World) -> None:
    offer_id = world.offers["SLU-3"]
    before = world.offer(offer_id)["name"]
    with world.client() as client, pytest.raises(LookupError, match="run `listings review` first"):
        world.optimizer.apply(ACCOUNT, client, offer_id)
    assert world.offer(offer_id)["name"] == before
    assert world.changes.history("SLU-3") == []


def test_ab_experiment_changes_a_deterministic_share_and_reports_the_visit_difference(world: World) -> None:
    with world.client() as client:
        experiment, applied = world.optimizer.start_experiment(ACCOUNT, client, category="101", share=0.5)
    ids = set(world.offers.values())
    assert set(experiment.treatment) | set(experiment.control) <= ids
    assert all(in_treatment(i, 0.5, salt="101") for i in experiment.treatment)
    assert all(not in_treatment(i, 0.5, salt="101") for i in experiment.control)
    assert len(applied) == len(experiment.treatment) > 0
    for offer_id, change in experiment.treatment.items():
        assert world.offer(offer_id)["name"] == change["new"]
    for offer_id in experiment.control:
        assert world.offer(offer_id)["name"] in {name for name, _, _ in OFFERS}
    assert {c.action for c in applied} == {"listing-experiment"}

    world.clock[0] = T0 + timedelta(days=14)
    for offer_id in experiment.treatment:
        world.emulator.marketplace.add_visits(offer_id, 40)
    for offer_id in experiment.control:
        world.emulator.marketplace.add_visits(offer_id, 25)
    with world.client() as client:
        report = world.optimizer.report(client, experiment.experiment_id)
    assert report.days == pytest.approx(14)
    assert report.treatment_gain == pytest.approx(40)
    assert report.control_gain == pytest.approx(25)
    assert report.difference == pytest.approx(15)


def test_cli_review_keywords_and_apply_print_what_the_seller_needs(stack: Stack) -> None:
    """The operator's commands against the local runtime, the seller connected through our custody."""
    stack.connect({ACCOUNT: ACCOUNT})
    app = stack.app("catalog_worker")
    world = seeded(stack.emulator, {name: app.table(name) for name in ("mappings", "catalog", "changes")})
    shown = stack.cli("listings", "keywords", "101", "--add", "ANC")
    assert shown.exit_code == 0, shown.output
    assert "seller keywords for 101: ANC" in shown.output
    assert "bezprzewodowe" in shown.output
    assert "ANC *" in shown.output
    reviewed = stack.cli("listings", "review", "--category", "101")
    assert reviewed.exit_code == 0, reviewed.output
    assert "Słuchawki Sony WH-1000XM5 HIT" in reviewed.output
    assert "promotional word" in reviewed.output
    # the same lists for scripts: one JSON document each, nothing else on stdout
    scored = json.loads(stack.cli("listings", "keywords", "101", "--json").output)
    assert any(t["shown"] == "bezprzewodowe" for t in scored["terms"])
    proposals = json.loads(stack.cli("listings", "review", "--category", "101", "--json").output)
    assert any(p["current_title"] == "Słuchawki Sony WH-1000XM5 HIT" for p in proposals)
    weak = world.offers["SLU-6"]
    applied = stack.cli("listings", "apply", weak, "--title-only")
    assert applied.exit_code == 0, applied.output
    assert f"{weak}: changed name" in applied.output
    assert "ANC" in world.offer(weak)["name"]
    assert world.offer(weak)["description"]["sections"][0]["items"][0]["content"].startswith("<p>Tel.")
    unknown = stack.cli("listings", "apply", "no-such-offer")
    assert unknown.exit_code == 1
    assert "no proposal" in unknown.output
