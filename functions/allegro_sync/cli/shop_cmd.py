"""`allegro-sync shop set-credentials`: where Allegro orders go in the shop, checked before it is stored.

Without these credentials every order waits in the `shop-outbox` queue and ends in its DLQ. The command
makes one harmless call with them first (a signed ping for the generic contract, one product read
for WooCommerce and PrestaShop), so a typo is found now and not when the first order fails. Secrets are
asked for with a hidden prompt when not given and are never printed.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from allegro_sync.adapters.shop_credentials import (
    AnyCredentials,
    check_shop,
    parse_credentials,
)
from allegro_sync.cli import deployment
from allegro_sync.contracts.shop import ShopDeliveryError
from allegro_sync.topology import secret_env

shop_app = typer.Typer(help="The shop that receives Allegro orders.", no_args_is_help=True)
FUNCTION = "shop_notifier"
StackOption = Annotated[str | None, typer.Option(help="CloudFormation stack name (env ALLEGRO_SYNC_STACK).")]


class Kind(StrEnum):
    generic = "generic"
    woocommerce = "woocommerce"
    prestashop = "prestashop"
    shopify = "shopify"


def register(app: typer.Typer) -> None:
    app.add_typer(shop_app, name="shop")


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def _shopify_fields(url: str, locations: list[str]) -> dict[str, object]:
    """The `shopify` secret from the custom app's token and client secret (both asked for, never echoed)."""
    if not locations:
        _fail("shopify needs --location-id (Settings > Locations: the number in the location's URL)")
    host = url.split("://", 1)[-1].split("/", 1)[0].lower()
    fields: dict[str, object] = {
        "kind": "shopify",
        "shop_domain": host,
        "access_token": typer.prompt("Admin API access token (shpat_...)", hide_input=True),
        "api_secret": typer.prompt("The app's client secret (signs the webhooks)", hide_input=True),
        "location_ids": locations,
    }
    if not host.endswith(".myshopify.com"):
        fields["base_url"] = url  # a local fake (tests, demo): Shopify itself is always <shop>.myshopify.com
    return fields


@shop_app.command("set-credentials")
def set_credentials(
    kind: Annotated[
        Kind,
        typer.Argument(
            help="generic (signed JSON POSTs), woocommerce (REST API), prestashop (webservice) or shopify "
            "(Admin API)."
        ),
    ],
    *,
    url: Annotated[
        str,
        typer.Option(
            help="generic: the URL orders are POSTed to; woocommerce, prestashop: the shop's base URL; "
            "shopify: https://<shop>.myshopify.com"
        ),
    ],
    signing_secret: Annotated[
        str | None, typer.Option(help="generic: the secret the shop verifies our signature with (16+ chars).")
    ] = None,
    consumer_key: Annotated[
        str | None, typer.Option(help="woocommerce: REST API consumer key (ck_...).")
    ] = None,
    consumer_secret: Annotated[
        str | None, typer.Option(help="woocommerce: REST API consumer secret (asked for when omitted).")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="prestashop: the webservice key (asked for when omitted).")
    ] = None,
    location_id: Annotated[
        list[str] | None,
        typer.Option(help="shopify: a location whose stock counts (repeat; the first takes orders' stock)."),
    ] = None,
    check: Annotated[bool, typer.Option(help="Make one test call to the shop before storing.")] = True,
    stack: StackOption = None,
) -> None:
    """Store the shop's credentials (checked by a test call first); orders flow from the next delivery."""
    if kind is Kind.generic:
        secret = signing_secret or typer.prompt("Signing secret", hide_input=True)
        fields = {"kind": "generic", "url": url, "signing_secret": secret}
    elif kind is Kind.prestashop:
        secret = api_key or typer.prompt("Webservice key", hide_input=True)
        fields = {"kind": "prestashop", "url": url, "api_key": secret}
    elif kind is Kind.shopify:
        fields = _shopify_fields(url, location_id or [])
    else:
        if not consumer_key:
            _fail("woocommerce needs --consumer-key (WooCommerce > Settings > Advanced > REST API)")
        secret = consumer_secret or typer.prompt("Consumer secret", hide_input=True)
        fields = {"kind": "woocommerce", "url": url, "consumer_key": consumer_key, "consumer_secret": secret}
    try:
        credentials: AnyCredentials = parse_credentials(json.dumps(fields))
    except LookupError as error:
        _fail(f"{error}; nothing stored")
    app = deployment.application(stack, function=FUNCTION, needed=[secret_env("shop-credentials")])
    if check:
        try:
            check_shop(credentials, app.shop_http())
        except ShopDeliveryError as error:
            _fail(f"{error}; nothing stored (--no-check stores them anyway)")
        typer.echo(f"The shop at {url} answered the test call.")
    try:
        app.shop_credentials().write(credentials, app.aws_client("secretsmanager"))
    except (ClientError, BotoCoreError, ValidationError) as error:
        _fail(f"could not store the shop credentials: {type(error).__name__}")
    typer.secho(
        f"Stored the {kind.value} shop credentials. Orders go to the shop from the next delivery; "
        "orders that already failed: allegro-sync dlq replay shop-outbox",
        fg=typer.colors.GREEN,
    )
