"""The whole publishing path on a laptop: shop event on `shop-events` -> catalog_worker -> the emulator.

Built on the shared `stack` world (moto through the local runtime, the spec-checked Allegro emulator); one
seller account `shop1` is connected through the real device flow. The repositories a test reads are the
catalog_worker's own (its application's tables).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog
from allegro_sync.adapters.dynamodb.mappings import DynamoMappings
from allegro_sync.contracts.catalog import CategoryMapping, ParameterMapping, StoredMapping
from allegro_sync.contracts.messages import SHOP_EVENT_ADAPTER, ProductUpsert, ShopEvent
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from tests.fixtures.products import product_upsert
from tests.fixtures.stack import Stack, running_stack

ACCOUNT = "shop1"
SELLER = "seller-one"
PHILIPS_EAN = "8710103760139"  # two catalogue products (#8081)
HEADPHONES = ("Elektronika", "Audio", "Słuchawki")
KETTLES = ("Dom", "Kuchnia", "Czajniki")
PLUS_TEN = PricingRule(name="allegro +10%", markup_percent=Decimal(10), endings=(Decimal("0.99"),))
AS_IN_THE_SHOP = PricingRule(name="as in the shop")


class CatalogStack(Stack):
    """The stack seen from the catalogue: its tables, the shop events it takes, the offers it made."""

    @property
    def catalog(self) -> DynamoCatalog:
        return DynamoCatalog(self.app("catalog_worker").table("catalog"))

    @property
    def mappings(self) -> DynamoMappings:
        return DynamoMappings(self.app("catalog_worker").table("mappings"))

    @property
    def changes(self) -> DynamoChangeLog:
        return self.app("catalog_worker").change_log()

    def publish(self, *events: ShopEvent) -> None:
        """Queue the events as the webhook intake does (group = SKU) and let the worker drain the queue."""
        for event in events:
            self.runtime.send(
                "shop-events",
                SHOP_EVENT_ADAPTER.dump_json(event).decode(),
                group_id=event.sku,
                deduplication_id=f"{event.sku}-{event.delivery_id}-{event.type}",
            )
        self.runtime.drain(timeout=30)

    def offers(self, sku: str) -> list[dict[str, Any]]:
        """The seller's offers for this SKU on the emulator, as GET /sale/product-offers/{id} shows them."""
        state = self.emulator.marketplace.state
        found = [self.emulator.marketplace.offer(offer_id) for offer_id in sorted(state.offers)]
        return [offer for offer in found if offer.get("external", {}).get("id") == sku]

    def offer(self, sku: str, account: str = ACCOUNT) -> dict[str, Any]:
        link = self.catalog.link(sku, account)
        assert link is not None
        assert link.offer_id is not None, link
        return self.emulator.marketplace.offer(link.offer_id)

    def map_categories(self, rule: PricingRule = PLUS_TEN) -> None:
        """Headphones and kettles mapped and approved, and one pricing rule for every account."""
        self.mappings.put_mapping(approved(HEADPHONES, "101"))
        self.mappings.put_mapping(
            approved(KETTLES, "201", parameters=[ParameterMapping(parameter_id="11323", constant="Nowy")])
        )
        self.mappings.put_pricing_rule(ScopedRule(rule=rule))


def upsert(sku: str = "SONY-XM5", *, minutes: int = 0, **changes: Any) -> ProductUpsert:
    page = {
        "description_html": (
            "<div><h3>Cisza, której szukasz</h3><p>Najlepsza <strong>redukcja szumów</strong>.</p>"
            '<img src="https://shop.example.pl/img/xm5-side.jpg">'
            "<ul><li>30 godzin</li><li>USB-C</li></ul></div>"
        ),
        "image_urls": ["https://shop.example.pl/img/xm5-front.jpg"],
        "price": Decimal("1299.00"),
        "stock": 7,
        "category_path": list(HEADPHONES),
        "attributes": {"Stan": "Nowy", "Marka": "Sony"},
    }
    return product_upsert(sku, minutes=minutes, **{**page, **changes})


def approved(path: tuple[str, ...], category_id: str, **kwargs: Any) -> StoredMapping:
    return StoredMapping(
        mapping=CategoryMapping(
            shop_path=list(path), allegro_category_id=category_id, approved=True, **kwargs
        )
    )


@pytest.fixture(scope="module")
def catalog_env() -> dict[str, str]:
    """Extra function environment for the module's stack (e.g. OFFER_SETTINGS); override per module."""
    return {}


@pytest.fixture(scope="module")
def stack(catalog_env: dict[str, str]) -> Iterator[CatalogStack]:
    """One runtime, emulator and connected account per test module (set-up is most of a test's cost):
    tests keep apart by using their own SKUs and delivery ids."""
    with running_stack(env=catalog_env) as built:
        catalog = built.seen_as(CatalogStack)
        catalog.connect({ACCOUNT: SELLER})
        catalog.map_categories()
        yield catalog
