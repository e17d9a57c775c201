"""The `shop-credentials` secret: where orders go in the shop, and the adapter that takes them there.

Secret value, JSON, one of:
  {"kind": "generic", "url": "https://shop.example/allegro-sync/orders", "signing_secret": "...",
   "changes_url": "https://shop.example/allegro-sync/changes",    (optional: shop reconciliation)
   "stock_url": "https://shop.example/allegro-sync/stock"}        (optional: a sale in doubt re-read)
  {"kind": "woocommerce", "url": "https://shop.example", "consumer_key": "ck_..",
   "consumer_secret": "cs_.."}
  {"kind": "prestashop", "url": "https://shop.example", "api_key": "32 characters",
   ...optional shop ids and settings, see PrestaShopCredentials}
  {"kind": "shopify", "shop_domain": "sklep.myshopify.com", "access_token": "shpat_..",
   "api_secret": "..", "location_ids": ["24826418"], "api_version": "2026-01"}
Read through Powertools' cache (a rotated key is picked up within `max_age`); never logged.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from allegro_sync.adapters.config_secret import (
    SHOP_CREDENTIALS,
    ConfigSecretCorrupt,
    section_text,
    write_section,
)
from allegro_sync.adapters.shop.platforms import SHOPIFY_API_VERSION
from allegro_sync.contracts.shop import ShopOrderSink

if TYPE_CHECKING:  # the shop adapters (and httpx) are imported by the function that builds one
    import httpx

    from allegro_sync.adapters.dynamodb.shop_deliveries import DynamoShopDeliveries
    from allegro_sync.adapters.shop.generic_changes import GenericChanges
    from allegro_sync.adapters.shop.prestashop import PrestaShopChanges
    from allegro_sync.adapters.shop.prestashop_orders import Setup
    from allegro_sync.adapters.shop.shopify_admin import ShopifyShop
    from allegro_sync.adapters.shop.shopify_changes import ShopifyChanges
    from allegro_sync.adapters.shop.stock_read import GenericStock, WooCommerceStock
    from allegro_sync.adapters.shop.woocommerce_changes import WooCommerceChanges

SECRET_MAX_AGE_SECONDS = 300
SHOP_TIMEOUT_SECONDS = 10.0
_Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=500)]


class ShopNotConfigured(LookupError):
    """The `shop-credentials` secret is missing or malformed: nothing can be delivered yet."""


class GenericCredentials(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)
    kind: Literal["generic"]
    url: _Url
    signing_secret: Annotated[SecretStr, Field(min_length=16)]
    changes_url: _Url | None = None  # the optional "changes since" endpoint (docs/shop-adapters.md)
    stock_url: _Url | None = None  # the optional one-SKU stock read (docs/shop-adapters.md)


class WooCommerceCredentials(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)
    kind: Literal["woocommerce"]
    url: _Url
    consumer_key: Annotated[SecretStr, Field(min_length=1)]
    consumer_secret: Annotated[SecretStr, Field(min_length=1)]


class PrestaShopCredentials(BaseModel):
    """PrestaShop's webservice key, and the shop's own ids an order needs (defaults: a fresh installation)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)
    kind: Literal["prestashop"]
    url: _Url
    api_key: Annotated[SecretStr, Field(min_length=1)]
    timezone: str = "Europe/Warsaw"  # the shop's PS_TIMEZONE: `date_upd` is local time
    vat_percent: Annotated[Decimal, Field(ge=0, le=100)] = Decimal("23")  # webservice prices are net
    id_lang: int = 1
    id_currency: int = 1
    id_country: int = 14
    id_carrier: int = 1
    payment_module: str = "ps_wirepayment"
    state_paid: int = 2
    state_cancelled: int = 6
    state_awaiting: int = 10

    def setup(self) -> Setup:
        from allegro_sync.adapters.shop.prestashop_orders import Setup

        return Setup(
            self.id_lang,
            self.id_currency,
            self.id_country,
            self.id_carrier,
            self.payment_module,
            self.state_paid,
            self.state_cancelled,
            self.state_awaiting,
        )


class ShopifyCredentials(BaseModel):
    """A Shopify custom app: the Admin API access token, the app's client secret (webhook HMAC), and the
    locations whose `available` counts as the shop's stock (the first one takes orders' stock)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)
    kind: Literal["shopify"]
    shop_domain: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,250}(:\d{1,5})?$")]
    access_token: Annotated[SecretStr, Field(min_length=1)]
    api_secret: Annotated[SecretStr, Field(min_length=1)]
    location_ids: Annotated[list[Annotated[str, Field(pattern=r"^\d{1,20}$")]], Field(min_length=1)]
    api_version: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")] = SHOPIFY_API_VERSION
    base_url: _Url | None = None  # tests and the demo only: a local fake instead of https://<shop_domain>


AnyCredentials = GenericCredentials | WooCommerceCredentials | PrestaShopCredentials | ShopifyCredentials
ShopCredentials = Annotated[AnyCredentials, Field(discriminator="kind")]
_CREDENTIALS: TypeAdapter[ShopCredentials] = TypeAdapter(ShopCredentials, config=ConfigDict(defer_build=True))


def parse_credentials(raw: str | bytes) -> AnyCredentials:
    """The secret's JSON, or ShopNotConfigured naming the fields that are wrong (never their values)."""
    try:
        return _CREDENTIALS.validate_json(raw)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in e["loc"][1:]) or "kind" for e in exc.errors()})
        raise ShopNotConfigured(
            "the shop-credentials secret is not configured: expected "
            '{"kind": "generic"|"woocommerce"|"prestashop"|"shopify", ...}; problems at: ' + ", ".join(where)
        ) from None


def build_sink(
    credentials: AnyCredentials,
    http: httpx.Client,
    deliveries: DynamoShopDeliveries,
) -> ShopOrderSink:
    from allegro_sync.adapters.shop.outbound_generic import GenericShop
    from allegro_sync.adapters.shop.woocommerce_rest import WooCommerceShop

    if isinstance(credentials, PrestaShopCredentials):
        from allegro_sync.adapters.shop.prestashop_orders import PrestaShopShop

        key = credentials.api_key.get_secret_value()
        return PrestaShopShop(credentials.url, key, http, deliveries, setup=credentials.setup())
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
    from allegro_sync.adapters.shop.shopify_admin import ShopifyShop

    return ShopifyShop(
        credentials.base_url or f"https://{credentials.shop_domain}",
        credentials.access_token.get_secret_value(),
        http,
        index,
        location=credentials.location_ids[0],
        api_version=credentials.api_version,
    )


def build_feed(
    credentials: AnyCredentials, http: httpx.Client, *, overlap: timedelta
) -> GenericChanges | WooCommerceChanges | PrestaShopChanges | ShopifyChanges:
    """The shop's change listing, or ShopNotConfigured for a generic shop without a `changes_url`."""
    from allegro_sync.adapters.shop.generic_changes import GenericChanges
    from allegro_sync.adapters.shop.woocommerce_changes import WooCommerceChanges

    if isinstance(credentials, PrestaShopCredentials):
        from allegro_sync.adapters.shop.prestashop import PrestaShopChanges

        return PrestaShopChanges(
            credentials.url,
            credentials.api_key.get_secret_value(),
            http,
            timezone=credentials.timezone,
            vat_percent=credentials.vat_percent,
            language=credentials.id_lang,
            overlap=overlap,
        )
    if isinstance(credentials, WooCommerceCredentials):
        key = (credentials.consumer_key.get_secret_value(), credentials.consumer_secret.get_secret_value())
        return WooCommerceChanges(credentials.url, key, http, overlap=overlap)
    if isinstance(credentials, ShopifyCredentials):
        from allegro_sync.adapters.shop.shopify_changes import ShopifyChanges

        admin = shopify_shop(credentials, http, None)
        counted = frozenset(credentials.location_ids)
        return ShopifyChanges(admin, credentials.shop_domain, counted, overlap=overlap)
    if credentials.changes_url is None:
        raise ShopNotConfigured(
            "the shop-credentials secret has no changes_url: this generic shop offers no change listing, "
            "so only its webhooks sync it (docs/shop-adapters.md)"
        )
    return GenericChanges(credentials.changes_url, credentials.signing_secret.get_secret_value(), http)


def build_stock_reader(credentials: AnyCredentials, http: httpx.Client) -> GenericStock | WooCommerceStock:
    """The shop's one-SKU stock read, or ShopNotConfigured for a generic shop without a `stock_url`."""
    from allegro_sync.adapters.shop.stock_read import GenericStock, WooCommerceStock

    if isinstance(credentials, WooCommerceCredentials):
        key, secret = credentials.consumer_key, credentials.consumer_secret
        return WooCommerceStock(credentials.url, key.get_secret_value(), secret.get_secret_value(), http)
    if isinstance(credentials, PrestaShopCredentials):
        raise ShopNotConfigured(
            "PrestaShop offers no one-SKU stock read here yet: a sale in doubt waits for the next shop "
            "reconciliation, which re-sends every level when the shop's stock changed (docs/shop-adapters.md)"
        )
    if isinstance(credentials, ShopifyCredentials):
        raise ShopNotConfigured(
            "Shopify offers no one-SKU stock read here yet: a sale in doubt waits for the next inventory "
            "webhook or shop reconciliation, which re-send the level (docs/shop-adapters.md)"
        )
    if credentials.stock_url is None:
        raise ShopNotConfigured(
            "the shop-credentials secret has no stock_url: this generic shop offers no stock read, so a "
            "sale in doubt waits for its next stock report (docs/shop-adapters.md)"
        )
    return GenericStock(credentials.stock_url, credentials.signing_secret.get_secret_value(), http)


def check_shop(credentials: AnyCredentials, http: httpx.Client) -> None:
    """One harmless call to the shop with these credentials (ShopRejected / ShopUnavailable say why not)."""
    from allegro_sync.adapters.shop.outbound_generic import GenericShop
    from allegro_sync.adapters.shop.woocommerce_rest import WooCommerceShop

    if isinstance(credentials, PrestaShopCredentials):
        from allegro_sync.adapters.shop.prestashop_orders import PrestaShopShop

        key = credentials.api_key.get_secret_value()
        PrestaShopShop(credentials.url, key, http, index=None).check()  # type: ignore[arg-type]
        return
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
    """The `shop-credentials` section of the configuration secret through Powertools' cache: a rotated
    key lands within `max_age`."""

    def __init__(
        self, name: str, client: Any = None, *, max_age_seconds: int = SECRET_MAX_AGE_SECONDS
    ) -> None:
        self._name = name
        self._max_age = max_age_seconds
        self._provider = SecretsProvider(boto3_client=client) if client is not None else SecretsProvider()

    def read(self) -> AnyCredentials:
        """The parsed secret, or ShopNotConfigured naming what is wrong (never the values).

        A cached value that is not usable is fetched again at once: credentials stored a minute ago must
        not wait out the cache's `max_age` (issue 18), while usable ones are still read once per max_age."""
        try:
            return self._parsed(force=False)
        except ShopNotConfigured:
            return self._parsed(force=True)

    def _parsed(self, *, force: bool) -> AnyCredentials:
        raw = self._provider.get(self._name, max_age=self._max_age, force_fetch=force)
        try:
            text = section_text(raw, SHOP_CREDENTIALS)
        except ConfigSecretCorrupt as exc:
            raise ShopNotConfigured(str(exc)) from None
        return parse_credentials(text)

    def write(self, credentials: AnyCredentials, client: Any) -> None:
        """Store the credentials (`shop set-credentials`), creating the secret if the stack has none."""
        body = json.loads(
            json.dumps(
                {
                    k: v.get_secret_value() if isinstance(v, SecretStr) else v
                    for k, v in credentials.model_dump().items()
                    if v is not None  # an optional setting left out (Shopify's base_url) is not stored
                },
                default=str,  # a Decimal setting (vat_percent) as its exact text
            )
        )
        write_section(client, self._name, SHOP_CREDENTIALS, body)
        self.forget()

    def forget(self) -> None:
        """Drop the cached value (a test that switches shops; AWS waits for `max_age`)."""
        self._provider.clear_cache()  # type: ignore[no-untyped-call]
