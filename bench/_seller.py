"""The sellers the benchmarks act for: connected through the device flow as the CLI would, and for the
catalogue benchmarks the headphones category mapped with a +10 % pricing rule, so every generated
product can become an offer. Benchmarks that seed offers through Allegro's API do it as the seller, with
`seller_client` and `headphones_offer`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.dynamodb.mappings import DynamoMappings
from allegro_sync.bootstrap import Application
from allegro_sync.contracts.catalog import CategoryMapping, StoredMapping
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from allegro_sync.emulator import DEFAULT_APP_IDENTITY, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.services.accounts import DevicePrompt
from allegro_sync.settings import Settings

# The emulator catalogue's Sony WH-1000XM5 (category 101, condition parameter 11323).
HEADPHONES_GTIN = "4548736132610"


def connect_accounts(emulator: Emulator, runtime: LocalRuntime, accounts: Mapping[str, str]) -> None:
    """The app's credentials stored, then each account (name -> emulated login) connected by device flow.

    The seller's CLI is its own application (built from the oauth function's names) whose device-flow
    polling waits on the emulator's clock, so connecting takes no wall time.
    """
    operator = Application(Settings.from_environ(runtime.environment("oauth")), sleep=emulator.advance)
    custody = operator.custody()
    custody.app_credentials.write(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, identity=DEFAULT_APP_IDENTITY)
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


@contextmanager
def catalogue_world() -> Iterator[tuple[Emulator, LocalRuntime]]:
    """The emulator, a quiet local runtime pointed at it, and `connect_seller` done: the catalogue benchmarks'
    starting point."""
    with (
        Emulator(port=0, validate=False) as emulator,
        LocalRuntime(
            allegro_urls=AllegroUrls.single(emulator.base_url), env={"POWERTOOLS_LOG_LEVEL": "WARNING"}
        ) as runtime,
    ):
        connect_seller(emulator, runtime)
        yield emulator, runtime


class IssuedToken:
    """One access token, issued once: a benchmark ends long before it expires, so a rejection means the
    set-up is wrong, not that the token needs refreshing."""

    def __init__(self, token: str) -> None:
        self._token = token

    @classmethod
    def of(cls, emulator: Emulator, login: str) -> IssuedToken:
        return cls(str(emulator.issue_tokens(login)["access_token"]))

    def access_token(self) -> str:
        return self._token

    def token_rejected(self, rejected_token: str) -> str:
        raise RuntimeError("the benchmark's Allegro token was rejected")


def seller_client(emulator: Emulator, login: str, account: str, **options: Any) -> AllegroClient:
    """An Allegro client acting as `login` on the emulator (all hosts its one URL), for seeding offers."""
    url = emulator.base_url
    return AllegroClient(
        AllegroEnvironment(url, url, url), IssuedToken.of(emulator, login), account=account, **options
    )


def headphones_offer(
    sku: str, available: int, *, name: str = "Słuchawki Sony WH-1000XM5 czarne", price: str = "1299.00"
) -> dict[str, Any]:
    """`POST /sale/product-offers` body of an active buy-now offer of the emulator's headphones product."""
    return {
        "name": name,
        "productSet": [{"product": {"id": HEADPHONES_GTIN, "idType": "GTIN"}}],
        "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
        "sellingMode": {"format": "BUY_NOW", "price": {"amount": price, "currency": "PLN"}},
        "stock": {"available": available, "unit": "UNIT"},
        "external": {"id": sku},
        "images": [],
        "publication": {"status": "ACTIVE"},
    }
