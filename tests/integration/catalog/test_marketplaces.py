"""Foreign marketplaces on the emulator (issue 16, item 1): a seller's `markets set` rule puts the offer on
allegro.cz with its own CZK price, a new shop price moves the CZK price too, the stock stays one number,
and a buyer on allegro.cz pays in CZK."""

from __future__ import annotations

from decimal import Decimal

import pytest

from allegro_sync.contracts.catalog import LinkStatus
from allegro_sync.contracts.messages import PriceSet
from tests.fixtures.products import T0
from tests.integration.catalog.conftest import ACCOUNT, CatalogStack, upsert

pytestmark = pytest.mark.integration


def test_an_offer_goes_to_allegro_cz_with_its_czk_price_and_follows_the_shop_price(
    stack: CatalogStack,
) -> None:
    result = stack.cli("markets", "set", "allegro-cz", "--rate", "5.8", "--sku", "CZ-1", "--no-publish")
    assert result.exit_code == 0, result.output
    assert "1 PLN = 5.8 CZK" in stack.cli("markets", "list").output

    stack.publish(upsert("CZ-1", stock=4))

    link = stack.catalog.link("CZ-1", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED, link
    offer = stack.offer("CZ-1")
    # 1299.00 PLN -> the seller's +10% rule, ending .99 -> 1428.99 PLN; x 5.8 = 8288.14 -> whole korunas
    assert offer["sellingMode"]["price"] == {"amount": "1428.99", "currency": "PLN"}
    cz = offer["additionalMarketplaces"]["allegro-cz"]
    assert cz["sellingMode"]["price"] == {"amount": "8288.00", "currency": "CZK"}
    assert cz["publication"]["state"] == "APPROVED"
    assert offer["publication"]["marketplaces"]["additional"] == [{"id": "allegro-cz"}]
    assert offer["additionalMarketplaces"]["allegro-sk"]["publication"]["state"] == "REFUSED"
    assert offer["stock"]["available"] == 4  # one number for every marketplace

    stack.publish(
        PriceSet(delivery_id="cz-p-1", occurred_at=T0.replace(minute=30), sku="CZ-1", price=Decimal(999))
    )

    offer = stack.offer("CZ-1")
    assert offer["sellingMode"]["price"]["amount"] == "1098.99"
    assert offer["additionalMarketplaces"]["allegro-cz"]["sellingMode"]["price"] == {
        "amount": "6374.00",  # 1098.99 x 5.8 = 6374.14
        "currency": "CZK",
    }
    why = [c for c in stack.changes.history("CZ-1") if "marketplaces" in c.reason]
    assert why, "the CZK price change is recorded with its reason"
    assert stack.emulator.violations == []


def test_a_buyer_on_allegro_cz_pays_in_czk_from_the_same_stock(stack: CatalogStack) -> None:
    assert (
        stack.cli("markets", "set", "allegro-cz", "--rate", "5.8", "--sku", "CZ-2", "--no-publish").exit_code
        == 0
    )
    stack.publish(upsert("CZ-2", stock=3))
    link = stack.catalog.link("CZ-2", ACCOUNT)
    assert link is not None
    assert link.offer_id is not None

    form_id = stack.emulator.marketplace.buy(link.offer_id, 2, marketplace="allegro-cz")

    form = stack.as_seller(ACCOUNT).checkout_form(form_id)
    assert form.marketplace is not None
    assert form.marketplace.id == "allegro-cz"
    line = form.line_items[0]
    assert line.price is not None
    assert (line.price.amount, line.price.currency) == ("8288.00", "CZK")
    assert stack.offer("CZ-2")["stock"]["available"] == 1


def test_a_rule_in_the_wrong_currency_is_refused_and_nothing_is_stored(stack: CatalogStack) -> None:
    result = stack.cli("markets", "set", "allegro-cz", "--rate", "5.8", "--min-price", "10.50", "--sku", "X")
    assert result.exit_code != 0
    assert "whole units" in result.output
    assert "X" not in stack.cli("markets", "list").output.split()


def test_setting_a_rule_puts_an_offer_already_listed_on_allegro_cz_at_once(stack: CatalogStack) -> None:
    stack.publish(upsert("CZ-3", stock=2))
    assert stack.offer("CZ-3")["publication"]["marketplaces"]["additional"] == []

    result = stack.cli("markets", "set", "allegro-cz", "--rate", "5.8", "--sku", "CZ-3")

    assert result.exit_code == 0, result.output
    cz = stack.offer("CZ-3")["additionalMarketplaces"]["allegro-cz"]
    assert (cz["sellingMode"]["price"]["amount"], cz["publication"]["state"]) == ("8288.00", "APPROVED")
    assert stack.cli("markets", "remove", "allegro-cz", "--sku", "CZ-3").exit_code == 0
    assert "CZ-3" not in stack.cli("markets", "list").output
