"""A price the repricer owns is not overwritten by shop price webhooks: they move the list price (the ceiling)
and the next repricing round decides. Uses the catalogue's own fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from allegro_sync.contracts.catalog import CategoryMapping, StoredMapping
from allegro_sync.contracts.messages import PriceSet, ProductUpsert
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from allegro_sync.domain.repricing import RepricingSettings, SettingsIndex, Strategy
from allegro_sync.services.publishing import Context, Publisher
from allegro_sync.services.stock import StockLedger
from tests.fixtures.changes import FakeChangeLog
from tests.fixtures.ledger import InMemoryLedgerRepository
from tests.fixtures.products import product_upsert
from tests.unit.catalog import fakes

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def product(
    minutes: int, price: str, name: str = "Słuchawki bezprzewodowe Sony WH-1000XM5 czarne"
) -> ProductUpsert:
    return product_upsert(
        "SONY", minutes=minutes, delivery_id=f"d-{minutes}", name=name, price=Decimal(price)
    )


def publisher(settings: list[RepricingSettings]) -> tuple[Publisher, fakes.FakeAllegro, fakes.FakeCatalog]:
    catalog, api = fakes.FakeCatalog(), fakes.FakeAllegro()
    index = SettingsIndex(settings)
    mappings = fakes.FakeMappings(
        mappings=[
            StoredMapping(
                mapping=CategoryMapping(
                    shop_path=["Elektronika", "Słuchawki"], allegro_category_id="101", approved=True
                )
            )
        ],
        rules=[ScopedRule(rule=PricingRule(name="plus 20", markup_amount=Decimal(20)))],
    )
    built = Publisher(
        Context(
            catalog=catalog,
            mappings=mappings,
            changes=FakeChangeLog(),
            accounts=fakes.FakeAccounts({"shop1": api}),
            ledger=StockLedger(InMemoryLedgerRepository(), sleep=lambda _: None),
            stock_changes=fakes.RecordingStockChanges(),
            now=lambda: T0,
            clock=lambda: 0.0,
            price_owner=lambda account, sku, category: (
                index.for_offer(account, category, sku).strategy is not Strategy.NONE
            ),
        )
    )
    return built, api, catalog


def test_a_repriced_offer_keeps_its_allegro_price_and_takes_the_new_list_price() -> None:
    pub, api, catalog = publisher([RepricingSettings(category_id="101", strategy=Strategy.FEED)])
    pub.handle(product(0, "100.00"))
    calls = len(api.calls)

    pub.handle(
        PriceSet(delivery_id="p", occurred_at=T0 + timedelta(minutes=5), sku="SONY", price=Decimal(50))
    )
    pub.handle(product(10, "60.00"))  # a full upsert with a new price, nothing else changed

    assert [name for name, _ in api.calls[calls:]] == []  # neither a price command nor a PATCH
    link = catalog.link("SONY", "shop1")
    assert link is not None
    assert link.price == "80.00"  # the list price (60 + 20), the repricer's ceiling

    pub.handle(product(20, "70.00", name="Słuchawki bezprzewodowe Sony WH-1000XM5 czarne nowe"))
    patches = [body for name, (_, body) in api.calls[calls:] if name == "patch_product_offer"]
    assert patches
    assert all("sellingMode" not in body for body in patches)  # the name changes, the price is not sent


def test_an_offer_without_a_repricing_rule_still_follows_the_shop_price() -> None:
    pub, api, _ = publisher([RepricingSettings(category_id="999", strategy=Strategy.FEED)])
    pub.handle(product(0, "100.00"))
    pub.handle(
        PriceSet(delivery_id="p", occurred_at=T0 + timedelta(minutes=5), sku="SONY", price=Decimal(50))
    )
    assert "change_price" in [name for name, _ in api.calls]
