"""The one seller the catalogue benchmarks publish for: connected through the device flow, with the headphones
category mapped and a +10 % pricing rule, so every generated product can become an offer."""

from __future__ import annotations

from decimal import Decimal

from allegro_sync.adapters import token_store
from allegro_sync.adapters.dynamodb.mappings import DynamoMappings, mappings_table
from allegro_sync.adapters.token_store import AccountsSettings, Custody, connect_with_device_flow
from allegro_sync.domain.parameters import CategoryMapping
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local import LocalRuntime
from allegro_sync.services.catalog import StoredMapping
from allegro_sync.topology import table_env


def connect_seller(emulator: Emulator, runtime: LocalRuntime) -> None:
    """Account `shop1` (seller-one) connected; 'Elektronika > Słuchawki' -> Allegro 101, prices +10 %."""
    token_store.reset()
    env = runtime.environment("catalog_worker")
    settings = AccountsSettings.from_env(env)
    Custody.build(settings).app_credentials.write(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    emulator.create_seller("seller-one")
    connect_with_device_flow(
        "shop1",
        on_prompt=lambda prompt: emulator.approve_device(prompt.user_code, "seller-one"),
        settings=settings,
        sleep=emulator.advance,
    )
    mappings = DynamoMappings(mappings_table(env[table_env("mappings")]))
    mappings.put_mapping(
        StoredMapping(
            mapping=CategoryMapping(
                shop_path=["Elektronika", "Słuchawki"], allegro_category_id="101", approved=True
            )
        )
    )
    mappings.put_pricing_rule(ScopedRule(rule=PricingRule(markup_percent=Decimal(10))))
