"""`catalog import`, `mappings suggest/set/approve/list` and `products status` end to end: CLI ->
shop-events -> catalog_worker -> the Allegro emulator, on the local runtime. One runtime per module (its
setup is most of the cost); tests keep apart by SKU and by file."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allegro_sync.adapters.queues import SqsFifoPublisher
from allegro_sync.contracts.catalog import LinkStatus, OfferLink
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from tests.integration.catalog_cli.conftest import ACCOUNT, DEMO, Stack, running_stack

pytestmark = pytest.mark.integration

HEADPHONES = "Elektronika > Audio > Słuchawki"
KETTLES = "Dom > Kuchnia > Czajniki"
BOOKS = "Książki > Fantastyka"


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Iterator[Stack]:
    with running_stack(moto_endpoint) as built:
        assert built.cli("mappings", "set", HEADPHONES, "101").exit_code == 0
        assert built.cli("mappings", "set", KETTLES, "201", "--param", "Moc=17448").exit_code == 0
        assert built.cli("mappings", "set", "Słuchawki", "101").exit_code == 0  # the WooCommerce shop's
        # Stored when Allegro's category 10 was a leaf; it has subcategories now: Allegro refuses offers.
        assert built.cli("mappings", "set", "Elektronika > Kable", "10", "--no-check").exit_code == 0
        built.mappings.put_pricing_rule(
            ScopedRule(rule=PricingRule(name="allegro +10%", markup_percent=Decimal(10)))
        )
        yield built


def _link(stack: Stack, sku: str) -> OfferLink:
    link = stack.catalog.link(sku, ACCOUNT)
    assert link is not None, f"{sku} was not processed"
    return link


def _offers(stack: Stack, sku: str) -> list[dict[str, Any]]:
    state = stack.emulator.marketplace.state
    offers = [stack.emulator.marketplace.offer(i) for i in sorted(state.offers)]
    return [o for o in offers if o.get("external", {}).get("id") == sku]


def test_importing_the_demo_catalogue_publishes_and_explains_the_rest(stack: Stack) -> None:
    result = stack.cli("catalog", "import", str(DEMO / "catalog.csv"))

    assert result.exit_code == 0, result.output
    assert "7 product(s) queued, 0 already queued by an earlier run, 2 bad row(s) not queued" in result.output
    rows = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert "10 KABEL-ZLY-EAN ean an EAN has 8 or 12-14 digits (got '12345')" in rows
    assert any(
        r.startswith("7 CZAJNIK-GRATIS price 0.00 is not a selling price (it must be above 0)") for r in rows
    )
    assert "Summary: 3 published, 3 waiting, 1 failed, 0 not finished." in result.output, result.output
    for sku in ("SONY-XM5", "JBL-TUNE510", "BOSCH-TWK3A011"):
        link = _link(stack, sku)
        assert link.status is LinkStatus.PUBLISHED, (sku, link.reasons)
        assert [o["id"] for o in _offers(stack, sku)] == [link.offer_id]
    [sony] = _offers(stack, "SONY-XM5")
    assert sony["sellingMode"]["price"]["amount"] == "1428.90"  # "1299,00" read as 1299.00, +10%
    philips = _link(stack, "PHILIPS-HD9350")
    assert philips.status is LinkStatus.WAITING
    assert len(philips.candidates) == 2
    assert "matches 2 Allegro catalogue products" in philips.reasons[0]
    assert "no approved category mapping for 'Książki > Fantastyka'" in _link(stack, "WIEDZMIN-1").reasons[0]
    assert "Moc (17448)" in _link(stack, "CZAJNIK-SZKLANY").reasons[0]
    assert stack.catalog.product("CZAJNIK-GRATIS") is None  # a price of 0 is refused, never published
    failed = _link(stack, "KABEL-HDMI-2M")
    assert failed.status is LinkStatus.FAILED
    assert failed.last_error is not None
    assert failed.last_error["status"] == 422
    assert "Category 10 is not a leaf category" in failed.reasons[0]  # Allegro's own words
    assert "Category 10 is not a leaf category" in result.output
    assert stack.catalog.product("KABEL-ZLY-EAN") is None  # a bad row is never queued
    assert stack.queued() == 0

    again = stack.cli("catalog", "import", str(DEMO / "catalog.csv"))

    assert again.exit_code == 0, again.output
    assert "0 product(s) queued, 7 already queued by an earlier run" in again.output
    assert len(_offers(stack, "SONY-XM5")) == 1


def test_products_status_shows_the_offer_and_the_reasons(stack: Stack) -> None:
    if stack.catalog.product("SONY-XM5") is None:
        stack.cli("catalog", "import", str(DEMO / "catalog.csv"))

    published = stack.cli("products", "status", "SONY-XM5")
    waiting = stack.cli("products", "status", "PHILIPS-HD9350")
    unknown = stack.cli("products", "status", "NOPE-1")

    link = _link(stack, "SONY-XM5")
    assert published.exit_code == 0
    assert "PUBLISHED" in published.output
    assert str(link.offer_id) in published.output
    assert "create" in published.output
    assert "WAITING" in waiting.output
    assert "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e05" in waiting.output
    assert unknown.exit_code == 1
    assert "unknown SKU 'NOPE-1'" in unknown.output


def test_choosing_the_catalogue_product_publishes_a_product_whose_ean_matched_two(stack: Stack) -> None:
    if stack.catalog.product("PHILIPS-HD9350") is None:
        stack.cli("catalog", "import", str(DEMO / "catalog.csv"))
    chosen = "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e05"

    unknown = stack.cli("products", "link", "NOPE-2", chosen)
    linked = stack.cli("products", "link", "PHILIPS-HD9350", chosen)

    assert unknown.exit_code == 1
    assert "no product 'NOPE-2'" in unknown.output
    assert linked.exit_code == 0, linked.output
    link = _link(stack, "PHILIPS-HD9350")
    assert link.status is LinkStatus.PUBLISHED, link.reasons
    [offer] = _offers(stack, "PHILIPS-HD9350")
    assert offer["productSet"][0]["product"]["id"] == chosen
    assert "PUBLISHED" in linked.output


def test_suggest_stores_pending_and_approve_publishes_the_waiting_products(stack: Stack) -> None:
    if stack.catalog.product("WIEDZMIN-1") is None:
        stack.cli("catalog", "import", str(DEMO / "catalog.csv"))

    suggested = stack.cli("mappings", "suggest")

    assert suggested.exit_code == 0, suggested.output
    pending = stack.mappings.get_mapping(["Książki", "Fantastyka"])
    assert pending is not None
    assert not pending.mapping.approved
    assert pending.mapping.allegro_category_id == "30"  # the emulator's matching categories for "Wiedźmin"
    assert "PENDING" in stack.cli("mappings", "list", "--pending").output
    assert _link(stack, "WIEDZMIN-1").status is LinkStatus.WAITING  # pending publishes nothing
    assert "Książki > Fantastyka" not in stack.cli("mappings", "suggest").output  # never asks twice

    approved = stack.cli("mappings", "approve", BOOKS)

    assert approved.exit_code == 0, approved.output
    link = _link(stack, "WIEDZMIN-1")
    assert link.status is LinkStatus.PUBLISHED, link.reasons
    [offer] = _offers(stack, "WIEDZMIN-1")
    assert offer["category"]["id"] == "30"
    assert str(link.offer_id) in approved.output


def test_bad_mapping_input_is_refused_and_stores_nothing(stack: Stack) -> None:
    unknown_param = stack.cli("mappings", "set", "Dom > Łazienka", "201", "--param", "Kolor=99999")
    unknown_category = stack.cli("mappings", "set", "Dom > Łazienka", "424242")
    bad_spec = stack.cli("mappings", "set", "Dom > Łazienka", "201", "--param", "Kolor")
    missing = stack.cli("mappings", "approve", "Nie > Ma")

    assert unknown_param.exit_code == 1
    assert "has no parameter(s) 99999" in unknown_param.output
    assert unknown_category.exit_code == 1
    assert "no category '424242'" in unknown_category.output
    assert bad_spec.exit_code == 1
    assert "ATTRIBUTE=PARAMETER_ID" in bad_spec.output
    assert missing.exit_code == 1
    assert "no category mapping for 'Nie > Ma'" in missing.output
    assert stack.mappings.get_mapping(["Dom", "Łazienka"]) is None


def test_an_interrupted_import_resumes_without_duplicates(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = ["sku,ean,name,price,stock,category_path,attributes"] + [
        f'RESUME-{i:02d},,Słuchawki przewodowe douszne model {i:02d},"{50 + i},50",3,{HEADPHONES},'
        '"Stan=Nowy; Marka=Acme; Typ słuchawek=douszne"'
        for i in range(15)
    ]
    file = tmp_path / "sklep.csv"
    file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    real_send = SqsFifoPublisher.send
    batches: list[int] = []

    def crash_on_second_batch(self: SqsFifoPublisher, messages: Any) -> None:
        batches.append(len(messages))
        if len(batches) == 2:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the import
        real_send(self, messages)

    monkeypatch.setattr(SqsFifoPublisher, "send", crash_on_second_batch)
    first = stack.cli("catalog", "import", str(file))
    monkeypatch.setattr(SqsFifoPublisher, "send", real_send)

    assert first.exit_code == 130
    assert "interrupted after 10 queued row(s)" in first.output

    second = stack.cli("catalog", "import", str(file))

    assert second.exit_code == 0, second.output
    assert "5 product(s) queued, 10 already queued by an earlier run" in second.output
    assert "Summary: 15 published, 0 waiting, 0 failed, 0 not finished." in second.output
    for i in range(15):
        link = _link(stack, f"RESUME-{i:02d}")
        assert link.status is LinkStatus.PUBLISHED, link.reasons
        assert [o["id"] for o in _offers(stack, f"RESUME-{i:02d}")] == [link.offer_id]  # exactly one offer
    assert stack.queued() == 0


def test_a_woocommerce_export_goes_the_same_way(stack: Stack) -> None:
    result = stack.cli("catalog", "import", str(DEMO / "woocommerce-products.json"))

    assert result.exit_code == 0, result.output
    assert "3 product(s) queued, 0 already queued by an earlier run, 1 bad row(s) not queued" in result.output
    assert "a variable product has no price or stock: export its variations" in result.output
    sony = _link(stack, "WOO-SONY-XM5")
    assert sony.status is LinkStatus.PUBLISHED, sony.reasons
    assert [o["id"] for o in _offers(stack, "WOO-SONY-XM5")] == [sony.offer_id]
    assert _link(stack, "WOO-PHILIPS-HD9350").status is LinkStatus.WAITING  # the EAN matches two products
    assert "'Literatura piękna'" in _link(stack, "WOO-LALKA").reasons[0]
