"""Issue 16 on the stack: the scheduled repricer moves an offer's allegro.cz price with its PLN price through
the seller's marketplace rule, in one bulk command, leaves allegro.sk to Allegro's exchange-rate rule, and
`prices why` names every marketplace and currency."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.integration.catalog.conftest import ACCOUNT, CatalogStack, upsert

pytestmark = pytest.mark.integration


def test_the_repricer_moves_the_czk_price_and_leaves_the_eur_price_to_allegro(
    stack: CatalogStack, tmp_path: Path
) -> None:
    for rule in (("allegro-cz", "--rate", "5.8"), ("allegro-sk", "--allegro-rate")):
        result = stack.cli("markets", "set", *rule, "--sku", "CZ-R", "--no-publish")
        assert result.exit_code == 0, result.output
    stack.publish(upsert("CZ-R", stock=4, cost_price=Decimal("800.00")))
    link = stack.catalog.link("CZ-R", ACCOUNT)
    assert link is not None
    assert link.offer_id is not None
    listed = stack.emulator.marketplace.state.offers[link.offer_id]
    assert listed.started_at is not None
    listed.started_at -= timedelta(days=60)  # a full 30-day sales window: the demand strategy decides
    settings = tmp_path / "repricing.json"
    settings.write_text('[{"sku": "CZ-R", "strategy": "demand", "min_change": "0.01"}]')
    assert stack.cli("prices", "configure", str(settings)).exit_code == 0
    before = stack.offer("CZ-R")["additionalMarketplaces"]["allegro-cz"]["sellingMode"]["price"]
    assert before == {"amount": "8288.00", "currency": "CZK"}  # 1428.99 PLN x 5.8, whole korunas
    commands = len(stack.emulator.marketplace.state.commands)

    stack.runtime.fire("repricer")

    offer = stack.offer("CZ-R")
    pln = Decimal(offer["sellingMode"]["price"]["amount"])
    assert pln < Decimal("1428.99")  # 4 in stock, nothing sold for 30 days: the price comes down
    converted = (pln * Decimal("5.8")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    czk = converted.quantize(Decimal(1), rounding=ROUND_HALF_UP)  # whole korunas, nearest
    assert offer["additionalMarketplaces"]["allegro-cz"]["sellingMode"]["price"] == {
        "amount": f"{czk}.00",
        "currency": "CZK",
    }
    assert [kind for kind, _ in list(stack.emulator.marketplace.state.commands)[commands:]] == ["bulk"]
    [repriced] = [c for c in stack.changes.history("CZ-R") if c.rule == "repricing:demand"]
    assert f"allegro-cz (CZK): 8288.00 -> {czk}.00 CZK" in repriced.reason
    assert "allegro-sk (EUR): left to Allegro's exchange-rate rule" in repriced.reason
    assert "allegro-cz (CZK)" in stack.cli("prices", "why", "CZ-R").output
    assert stack.emulator.violations == []
