"""The sellers the benchmarks act for: connected through the device flow as the CLI would, and for the
catalogue benchmarks the headphones category mapped with a +10 % pricing rule, so every generated
product can become an offer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from allegro_sync.adapters.dynamodb.mappings import DynamoMappings
from allegro_sync.bootstrap import Application
from allegro_sync.contracts.catalog import CategoryMapping, StoredMapping
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local import LocalRuntime
from allegro_sync.services.accounts import DevicePrompt
from allegro_sync.settings import Settings


def connect_accounts(emulator: Emulator, runtime: LocalRuntime, accounts: Mapping[str, str]) -> None:
    """The app's credentials stored, then each account (name -> emulated login) connected by device flow.

    The seller's CLI is its own application (built from the oauth function's names) whose device-flow
    polling waits on the emulator's clock, so connecting takes no wall time.
    """
    operator = Application(Settings.from_environ(runtime.environment("oauth")), sleep=emulator.advance)
    custody = operator.custody()
    custody.app_credentials.write(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    for account, login in accounts.items():
        emulator.create_seller(login)
        custody.accounts().connect_with_device_flow(
            account, environment="production", on_prompt=_approve_as(emulator, login)
        )


def _approve_as(emulator: Emulator, login: str) -> Callable[[DevicePrompt], None]:
    def approve(prompt: DevicePrompt) -> None:
        emulator.approve_device(prompt.user_code, login)

    return approve


def connect_seller(emulator: Emulator, runtime: LocalRuntime) -> None:
    """Account `shop1` (seller-one) connected; 'Elektronika > Słuchawki' -> Allegro 101, prices +10 %."""
    connect_accounts(emulator, runtime, {"shop1": "seller-one"})
    mappings = DynamoMappings(runtime.application("catalog_worker").table("mappings"))
    mappings.put_mapping(
        StoredMapping(
            mapping=CategoryMapping(
                shop_path=["Elektronika", "Słuchawki"], allegro_category_id="101", approved=True
            )
        )
    )
    mappings.put_pricing_rule(ScopedRule(rule=PricingRule(markup_percent=Decimal(10))))
