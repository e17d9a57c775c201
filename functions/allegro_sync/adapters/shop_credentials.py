"""The `shop-credentials` secret: where orders go in the shop, and the adapter that takes them there.

Secret value, JSON, one of:
  {"kind": "generic", "url": "https://shop.example/allegro-sync/orders", "signing_secret": "...",
   "changes_url": "https://shop.example/allegro-sync/changes"}   (changes_url optional: shop reconciliation)
  {"kind": "woocommerce", "url": "https://shop.example", "consumer_key": "ck_..",
   "consumer_secret": "cs_.."}
  {"kind": "shopify", "shop_domain": "sklep.myshopify.com", "access_token": "shpat_..",
   "api_secret": "..", "location_ids": ["24826418"], "api_version": "2026-01"}
Read through Powertools' cache (a rotated key is picked up within `max_age`); never logged.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any, Literal

import httpx
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from allegro_sync.adapters.dynamodb.shop_deliveries import DynamoShopDeliveries
from allegro_sync.adapters.shop.generic_changes import GenericChanges
from allegro_sync.adapters.shop.outbound_generic import GenericShop
from allegro_sync.adapters.shop.shopify_admin import SHOPIFY_API_VERSION, ShopifyShop
from allegro_sync.adapters.shop.shopify_changes import ShopifyChanges
from allegro_sync.adapters.shop.woocommerce_changes import WooCommerceChanges
from allegro_sync.adapters.shop.woocommerce_rest import WooCommerceShop
from allegro_sync.contracts.shop import ShopOrderSink

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
    changes_url: _Url | None = None  # the optional "changes since" endpoint (docs/shop-adapters.md)


class WooCommerceCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["woocommerce"]
    url: _Url
    consumer_key: Annotated[SecretStr, Field(min_length=1)]
    consumer_secret: Annotated[SecretStr, Field(min_length=1)]


class ShopifyCredentials(BaseModel):
    """A Shopify custom app: the Admin API access token, the app's client secret (webhook HMAC), and the
    locations whose `available` counts as the shop's stock (the first one takes orders' stock)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["shopify"]
    shop_domain: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,250}(:\d{1,5})?$")]
    access_token: Annotated[SecretStr, Field(min_length=1)]
    api_secret: Annotated[SecretStr, Field(min_length=1)]
    location_ids: Annotated[list[Annotated[str, Field(pattern=r"^\d{1,20}$")]], Field(min_length=1)]
    api_version: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")] = SHOPIFY_API_VERSION
    base_url: _Url | None = None  # tests and the demo only: a local fake instead of https://<shop_domain>


AnyShopCredentials = GenericCredentials | WooCommerceCredentials | ShopifyCredentials
ShopCredentials = Annotated[AnyShopCredentials, Field(discriminator="kind")]
_CREDENTIALS: TypeAdapter[ShopCredentials] = TypeAdapter(ShopCredentials)


def parse_credentials(raw: str | bytes) -> AnyShopCredentials:
    """The secret's JSON, or ShopNotConfigured naming the fields that are wrong (never their values)."""
    try:
        return _CREDENTIALS.validate_json(raw)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in e["loc"][1:]) or "kind" for e in exc.errors()})
        raise ShopNotConfigured(
            "the shop-credentials secret is not configured: expected "
            '{"kind": "generic"|"woocommerce"|"shopify", ...}; problems at: ' + ", ".join(where)
        ) from None


def build_sink(
    credentials: AnyShopCredentials,
    http: httpx.Client,
    deliveries: DynamoShopDeliveries,
) -> ShopOrderSink:
    if isinstance(credentials, GenericCredentials):
        return GenericShop(credentials.url, credentials.signing_secret.get_secret_value(), http)
    if isinstance(credentials, ShopifyCredentials):
        return shopify_shop(credentials, http, deliveries)
    return WooCommerceShop(
        credentials.url,
        credentials.consumer_key.get_secret_value(),
        credentials.consumer_secret.get_secret_value(),
        http,
        deliveries,
    )


def shopify_shop(
    credentials: ShopifyCredentials, http: httpx.Client, index: DynamoShopDeliveries | None
) -> ShopifyShop:
    return ShopifyShop(
        credentials.base_url or f"https://{credentials.shop_domain}",
        credentials.access_token.get_secret_value(),
        http,
        index,
        location=credentials.location_ids[0],
        api_version=credentials.api_version,
    )


def build_feed(
    credentials: AnyShopCredentials, http: httpx.Client, *, overlap: timedelta
) -> GenericChanges | WooCommerceChanges | ShopifyChanges:
    """The shop's change listing, or ShopNotConfigured for a generic shop without a `changes_url`."""
    if isinstance(credentials, WooCommerceCredentials):
        key = (credentials.consumer_key.get_secret_value(), credentials.consumer_secret.get_secret_value())
        return WooCommerceChanges(credentials.url, key, http, overlap=overlap)
    if isinstance(credentials, ShopifyCredentials):
        admin = shopify_shop(credentials, http, None)
        counted = frozenset(credentials.location_ids)
        return ShopifyChanges(admin, credentials.shop_domain, counted, overlap=overlap)
    if credentials.changes_url is None:
        raise ShopNotConfigured(
            "the shop-credentials secret has no changes_url: this generic shop offers no change listing, "
            "so only its webhooks sync it (docs/shop-adapters.md)"
        )
    return GenericChanges(credentials.changes_url, credentials.signing_secret.get_secret_value(), http)


def check_shop(credentials: AnyShopCredentials, http: httpx.Client) -> None:
    """One harmless call to the shop with these credentials (ShopRejected / ShopUnavailable say why not)."""
    if isinstance(credentials, GenericCredentials):
        GenericShop(credentials.url, credentials.signing_secret.get_secret_value(), http).check()
        return
    if isinstance(credentials, ShopifyCredentials):
        shopify_shop(credentials, http, None).check()
        return
    WooCommerceShop(
        credentials.url,
        credentials.consumer_key.get_secret_value(),
        credentials.consumer_secret.get_secret_value(),
        http,
        index=None,  # type: ignore[arg-type]  # a check never creates an order
    ).check()


class ShopCredentialsStore:
    """The `shop-credentials` secret through Powertools' cache: a rotated key lands within `max_age`."""

    def __init__(
        self, name: str, client: Any = None, *, max_age_seconds: int = SECRET_MAX_AGE_SECONDS
    ) -> None:
        self._name = name
        self._max_age = max_age_seconds
        self._provider = SecretsProvider(boto3_client=client) if client is not None else SecretsProvider()

    def read(self) -> AnyShopCredentials:
        """The parsed secret, or ShopNotConfigured naming what is wrong (never the values).

        A cached value that is not usable is fetched again at once: credentials stored a minute ago must
        not wait out the cache's `max_age` (issue 18), while usable ones are still read once per max_age."""
        try:
            return self._parsed(force=False)
        except ShopNotConfigured:
            return self._parsed(force=True)

    def _parsed(self, *, force: bool) -> AnyShopCredentials:
        raw = self._provider.get(self._name, max_age=self._max_age, force_fetch=force)
        return parse_credentials(raw.decode() if isinstance(raw, bytes) else str(raw or ""))

    def write(self, credentials: AnyShopCredentials, client: Any) -> None:
        """Store the credentials (`shop set-credentials`), creating the secret if the stack has none."""
        body = json.dumps(
            {
                k: v.get_secret_value() if isinstance(v, SecretStr) else v
                for k, v in credentials.model_dump().items()
                if v is not None
            }
        )
        try:
            client.put_secret_value(SecretId=self._name, SecretString=body)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            client.create_secret(Name=self._name, SecretString=body)
        self.forget()

    def forget(self) -> None:
        """Drop the cached value (a test that switches shops; AWS waits for `max_age`)."""
        self._provider.clear_cache()  # type: ignore[no-untyped-call]
