"""The whole publishing path on a laptop: shop event on `shop-events` -> catalog_worker -> the emulator.

Moto (local runtime) holds the tables, queues and secrets; the Allegro emulator answers every call and checks
it against Allegro's spec. One seller account `shop1` is connected through the real device flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from allegro_sync.adapters import token_store
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog, catalog_table
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog, changes_table
from allegro_sync.adapters.dynamodb.mappings import DynamoMappings, mappings_table
from allegro_sync.adapters.token_store import AccountsSettings, Custody, connect_with_device_flow
from allegro_sync.domain.parameters import CategoryMapping, ParameterMapping
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from allegro_sync.domain.shop_events import SHOP_EVENT_ADAPTER, ProductUpsert, ShopEvent
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.local.moto_server import reset
from allegro_sync.services.catalog import StoredMapping
from allegro_sync.topology import table_env
from tests.fixtures.emulator import checked_emulator

ACCOUNT = "shop1"
SELLER = "seller-one"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

SONY_EAN = "4548736132610"  # one catalogue product (category 101, Słuchawki)
PHILIPS_EAN = "8710103760138"  # two catalogue products (#8081)
HEADPHONES = ("Elektronika", "Audio", "Słuchawki")
KETTLES = ("Dom", "Kuchnia", "Czajniki")


@dataclass
class CatalogStack:
    runtime: LocalRuntime
    emulator: Emulator
    catalog: DynamoCatalog
    mappings: DynamoMappings
    changes: DynamoChangeLog

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

    def queued(self, queue: str) -> tuple[int, int]:
        """(messages on the queue, messages in its dead-letter queue)."""
        wiring = self.runtime.wiring.queues[queue]
        sqs = self.runtime.client("sqs")
        counts = []
        for url in (wiring.url, wiring.dlq_url):
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            counts.append(sum(int(v) for v in attributes.values()))
        return counts[0], counts[1]

    def offers(self, sku: str) -> list[dict[str, Any]]:
        """The seller's offers for this SKU on the emulator, as GET /sale/product-offers/{id} shows them."""
        state = self.emulator.marketplace.state
        found = [self.emulator.marketplace.offer(offer_id) for offer_id in sorted(state.offers)]
        return [offer for offer in found if offer.get("external", {}).get("id") == sku]

    def offer(self, sku: str) -> dict[str, Any]:
        link = self.catalog.link(sku, ACCOUNT)
        assert link is not None
        assert link.offer_id is not None, link
        return self.emulator.marketplace.offer(link.offer_id)


def upsert(sku: str = "SONY-XM5", *, minutes: int = 0, **changes: Any) -> ProductUpsert:
    fields: dict[str, Any] = {
        "delivery_id": f"d-{sku}-{minutes}",
        "occurred_at": T0 + timedelta(minutes=minutes),
        "sku": sku,
        "name": "Słuchawki bezprzewodowe Sony WH-1000XM5 czarne",
        "ean": SONY_EAN,
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
    fields.update(changes)
    return ProductUpsert(**fields)


def approved(path: tuple[str, ...], category_id: str, **kwargs: Any) -> StoredMapping:
    return StoredMapping(
        mapping=CategoryMapping(
            shop_path=list(path), allegro_category_id=category_id, approved=True, **kwargs
        )
    )


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Iterator[CatalogStack]:
    """One runtime, emulator and connected account per test module (setup is most of a test's cost):
    tests keep apart by using their own SKUs and delivery ids."""
    with checked_emulator() as emulator, _runtime(moto_endpoint, emulator) as runtime:
        yield _prepare(runtime, emulator)


@contextmanager
def catalog_stack(moto_endpoint: str, env: dict[str, str] | None = None) -> Iterator[CatalogStack]:
    """A prepared stack for a module with its own environment (e.g. OFFER_SETTINGS)."""
    with checked_emulator() as emulator, _runtime(moto_endpoint, emulator, env) as runtime:
        yield _prepare(runtime, emulator)


@contextmanager
def _runtime(
    moto_endpoint: str, emulator: Emulator, env: dict[str, str] | None = None
) -> Iterator[LocalRuntime]:
    token_store.reset()
    reset(moto_endpoint)
    runtime = LocalRuntime(
        aws_endpoint=moto_endpoint, allegro_urls=AllegroUrls.single(emulator.base_url), env=env
    )
    try:
        yield runtime.start()
    finally:
        runtime.stop()
        token_store.reset()


def _prepare(runtime: LocalRuntime, emulator: Emulator) -> CatalogStack:
    env = runtime.environment("catalog_worker")
    settings = AccountsSettings.from_env(env)
    Custody.build(settings).app_credentials.write(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    emulator.create_seller(SELLER)
    connect_with_device_flow(
        ACCOUNT,
        on_prompt=lambda prompt: emulator.approve_device(prompt.user_code, SELLER),
        settings=settings,
        sleep=emulator.advance,
    )
    mappings = DynamoMappings(mappings_table(env[table_env("mappings")]))
    mappings.put_mapping(approved(HEADPHONES, "101"))
    mappings.put_mapping(
        approved(KETTLES, "201", parameters=[ParameterMapping(parameter_id="11323", constant="Nowy")])
    )
    mappings.put_pricing_rule(
        ScopedRule(
            rule=PricingRule(name="allegro +10%", markup_percent=Decimal(10), endings=(Decimal("0.99"),))
        )
    )
    return CatalogStack(
        runtime=runtime,
        emulator=emulator,
        catalog=DynamoCatalog(catalog_table(env[table_env("catalog")])),
        mappings=mappings,
        changes=DynamoChangeLog(changes_table(env[table_env("changes")])),
    )
