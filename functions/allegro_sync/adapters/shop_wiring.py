"""Builds the shop notifier's use case from the `shop-credentials` secret and the function's environment.

Secret value, JSON, one of:
  {"kind": "generic", "url": "https://shop.example/allegro-sync/orders", "signing_secret": "..."}
  {"kind": "woocommerce", "url": "https://shop.example", "consumer_key": "ck_..",
   "consumer_secret": "cs_.."}
Read through Powertools' cache (a rotated key is picked up within `max_age`); never logged.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Annotated, Literal

import httpx
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.dynamodb.shop_deliveries import DynamoShopDeliveries
from allegro_sync.adapters.shop.outbound_generic import GenericShop
from allegro_sync.adapters.shop.woocommerce_rest import WooCommerceShop
from allegro_sync.services.shop_delivery import ShopDelivery, ShopOrderSink
from allegro_sync.services.stock import StockLedger
from allegro_sync.topology import secret_env, table_env

SECRET_MAX_AGE_SECONDS = 300
SHOP_TIMEOUT_SECONDS = 10.0
_Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=500)]


class ShopNotConfigured(LookupError):
    """The `shop-credentials` secret is missing or malformed: nothing can be delivered yet."""


class GenericCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["generic"]
    url: _Url
    signing_secret: Annotated[SecretStr, Field(min_length=16)]


class WooCommerceCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["woocommerce"]
    url: _Url
    consumer_key: Annotated[SecretStr, Field(min_length=1)]
    consumer_secret: Annotated[SecretStr, Field(min_length=1)]


ShopCredentials = Annotated[GenericCredentials | WooCommerceCredentials, Field(discriminator="kind")]
_CREDENTIALS: TypeAdapter[ShopCredentials] = TypeAdapter(ShopCredentials)


def parse_credentials(raw: str | bytes) -> GenericCredentials | WooCommerceCredentials:
    """The secret's JSON, or ShopNotConfigured naming the fields that are wrong (never their values)."""
    try:
        return _CREDENTIALS.validate_json(raw)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in e["loc"][1:]) or "kind" for e in exc.errors()})
        raise ShopNotConfigured(
            "the shop-credentials secret is not configured: expected "
            '{"kind": "generic"|"woocommerce", "url", ...}; problems at: ' + ", ".join(where)
        ) from None


def build_sink(
    credentials: GenericCredentials | WooCommerceCredentials,
    http: httpx.Client,
    deliveries: DynamoShopDeliveries,
) -> ShopOrderSink:
    if isinstance(credentials, GenericCredentials):
        return GenericShop(credentials.url, credentials.signing_secret.get_secret_value(), http)
    return WooCommerceShop(
        credentials.url,
        credentials.consumer_key.get_secret_value(),
        credentials.consumer_secret.get_secret_value(),
        http,
        deliveries,
    )


_lock = threading.Lock()
_providers: dict[str, SecretsProvider] = {}


def _provider() -> SecretsProvider:
    """One cached provider per AWS endpoint: its boto3 client keeps the endpoint it was built with."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    with _lock:
        if endpoint not in _providers:
            _providers[endpoint] = SecretsProvider()
        return _providers[endpoint]


@functools.cache
def _shared_http() -> httpx.Client:
    """One connection pool per process: a warm Lambda reuses its TLS session to the shop."""
    return httpx.Client(timeout=SHOP_TIMEOUT_SECONDS, follow_redirects=False)


def forget_credentials() -> None:
    """Drop the cached secret (tests switch shops; a rotation is otherwise picked up within max_age)."""
    with _lock:
        for provider in _providers.values():
            provider.clear_cache()  # type: ignore[no-untyped-call]


def shop_delivery() -> ShopDelivery:
    """The use case for this invocation: a fresh secret read (cached by Powertools) and shared clients."""
    raw = _provider().get(os.environ[secret_env("shop-credentials")], max_age=SECRET_MAX_AGE_SECONDS)
    text = raw.decode() if isinstance(raw, bytes) else str(raw or "")
    credentials = parse_credentials(text)
    deliveries, ledger = _stores()
    return ShopDelivery(build_sink(credentials, _shared_http(), deliveries), ledger, deliveries)


_stores_built: dict[tuple[str, ...], tuple[DynamoShopDeliveries, StockLedger]] = {}


def _stores() -> tuple[DynamoShopDeliveries, StockLedger]:
    """Repositories per deployment (boto3 clients cost tens of ms to build; the local runtime has many)."""
    orders, ledger = os.environ[table_env("orders")], os.environ[table_env("ledger")]
    key = (os.environ.get("AWS_ENDPOINT_URL", ""), orders, ledger)
    with _lock:
        if key not in _stores_built:
            _stores_built[key] = (
                DynamoShopDeliveries(orders),
                StockLedger(DynamoLedgerRepository(ledger)),
            )
        return _stores_built[key]
