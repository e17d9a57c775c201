"""`allegro-sync webhooks sign FILE`: sign a test delivery the way a shop must, print curl-ready headers.
`allegro-sync webhooks set-secret`: store the signing secret, keeping the old one valid during a rotation.

The secret comes from `--secret` or, better (it stays out of shell history), the environment variable
`ALLEGRO_SYNC_WEBHOOK_SECRET`; it is never printed. `--event` prints an API Gateway (HTTP API v2) event
instead, for `allegro-sync invoke shop_webhook`.
"""

from __future__ import annotations

import json
import shlex
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError

from allegro_sync.adapters.config_secret import (
    WEBHOOK_SIGNING,
    ConfigSecretCorrupt,
    section_text,
    write_section,
)
from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.bootstrap import Application
from allegro_sync.cli.deployment import DEFAULT_STACK, find_settings
from allegro_sync.local.events import HttpRequest, http_api_v2_event
from allegro_sync.settings import STACK_ENV, Settings
from allegro_sync.settings import WEBHOOK_SECRET_ENV as SECRET_ENV
from allegro_sync.topology import secret_env

DEFAULT_URL = "http://127.0.0.1:8080"

webhooks_app = typer.Typer(
    help="Shop webhooks: set the signing secret, sign test deliveries.", no_args_is_help=True
)


def signed_headers(
    body: bytes, secret: str, *, delivery_id: str, timestamp: int, woocommerce_topic: str | None
) -> list[tuple[str, str]]:
    """The headers a correctly signed delivery of `body` carries (generic, or WooCommerce's own)."""
    headers = [("Content-Type", "application/json")]
    if woocommerce_topic:
        return [
            *headers,
            ("User-Agent", "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"),
            ("X-WC-Webhook-Source", "https://shop.example.pl/"),
            ("X-WC-Webhook-Topic", woocommerce_topic),
            ("X-WC-Webhook-Resource", woocommerce_topic.split(".")[0]),
            ("X-WC-Webhook-Event", woocommerce_topic.split(".")[-1]),
            ("X-WC-Webhook-ID", "1"),
            ("X-WC-Webhook-Delivery-ID", delivery_id),
            ("X-WC-Webhook-Signature", wc.sign(secret, body)),
        ]
    return [*headers, *signing.signed_headers(secret, delivery_id, body, timestamp).items()]


@webhooks_app.command("sign")
def sign(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The JSON body to deliver.")
    ],
    *,
    secret: Annotated[
        str | None,
        typer.Option(envvar=SECRET_ENV, show_envvar=True, help="The signing secret (prefer the env var)."),
    ] = None,
    delivery_id: Annotated[str | None, typer.Option(help="Delivery id (default: a new UUID).")] = None,
    timestamp: Annotated[int | None, typer.Option(help="Unix seconds (default: now).")] = None,
    woocommerce: Annotated[
        str | None,
        typer.Option(
            "--woocommerce", metavar="TOPIC", help="Sign as WooCommerce would, e.g. product.updated."
        ),
    ] = None,
    url: Annotated[str, typer.Option(help="API base URL for the curl line.")] = DEFAULT_URL,
    event: Annotated[
        bool, typer.Option("--event", help="Print an HTTP API v2 event instead of curl.")
    ] = False,
) -> None:
    """Print a curl command (or a Lambda event) with a valid signature for FILE's exact bytes."""
    if not secret:
        raise typer.BadParameter(
            f"give the signing secret with --secret or {SECRET_ENV}", param_hint="--secret"
        )
    body = file.read_bytes()
    if woocommerce is None:
        try:
            json.loads(body)
        except ValueError as exc:
            raise typer.BadParameter(f"{file} is not valid JSON: {exc}") from exc
    headers = signed_headers(
        body,
        secret,
        delivery_id=delivery_id or str(uuid.uuid4()),
        timestamp=int(time.time()) if timestamp is None else timestamp,
        woocommerce_topic=woocommerce,
    )
    path = "/webhooks/woocommerce" if woocommerce else "/webhooks/shop"
    if event:
        request = HttpRequest("POST", path, headers=headers, body=body, host="api.example.com")
        typer.echo(json.dumps(http_api_v2_event(request, route_key=f"POST {path}"), indent=2))
        return
    lines = [f"curl -sS -X POST {shlex.quote(url.rstrip('/') + path)}"]
    lines += [f"  -H {shlex.quote(f'{name}: {value}')}" for name, value in headers]
    lines.append(f"  --data-binary @{shlex.quote(str(file))}")
    typer.echo(" \\\n".join(lines))


def signing_secret(stack: str | None) -> tuple[Application, str]:
    """The deployment's application and its `webhook-signing` secret: the env var, else the stack's
    output, else the local runtime's name."""
    env_name = secret_env("webhook-signing")
    process = Settings.from_environ()
    try:
        settings = find_settings(stack, needed=[env_name], process=process)
        return Application(settings), settings.secret("webhook-signing")
    except LookupError:
        stack_name = stack or process.stack_name or DEFAULT_STACK
        raise typer.BadParameter(
            f"cannot find the webhook-signing secret: set {env_name}, pass --stack, or deploy stack "
            f"{stack_name!r} (output {env_name.replace('_', '')})"
        ) from None


def rotated(
    current: str | None, new: str | None, *, woocommerce: bool, drop_previous: bool
) -> dict[str, str]:
    """The secret's next JSON value: the new one in force, the old one kept as `previous` (generic only)."""
    try:
        value = (
            json.loads(current) if current and current.strip().startswith("{") else {"secret": current or ""}
        )
    except ValueError:
        value = {}
    if not isinstance(value, dict):
        value = {}
    fields = {k: str(value[k]) for k in ("secret", "previous", "woocommerce") if value.get(k)}
    if new and woocommerce:
        fields["woocommerce"] = new
    elif new:
        if fields.get("secret") and fields["secret"] != new:
            fields["previous"] = fields["secret"]
        fields["secret"] = new
    if drop_previous:
        fields.pop("previous", None)
    return fields


@webhooks_app.command("set-secret")
def set_secret(
    *,
    secret: Annotated[
        str | None,
        typer.Option(envvar=SECRET_ENV, show_envvar=True, help="The new secret (prefer the env var)."),
    ] = None,
    woocommerce: Annotated[
        bool, typer.Option("--woocommerce", help="Set the WooCommerce webhook's secret instead.")
    ] = False,
    drop_previous: Annotated[
        bool, typer.Option("--drop-previous", help="Stop accepting the previous secret (rotation done).")
    ] = False,
    stack: Annotated[str | None, typer.Option(help=f"CloudFormation stack (env {STACK_ENV}).")] = None,
) -> None:
    """Store the signing secret; the old one stays valid as `previous` until --drop-previous."""
    if not secret and not drop_previous:
        raise typer.BadParameter(f"give the new secret in {SECRET_ENV} (or --secret)", param_hint="--secret")
    if secret and len(secret) < 16:
        raise typer.BadParameter(
            "use at least 16 characters (e.g. `openssl rand -hex 32`)", param_hint="--secret"
        )
    app, secret_id = signing_secret(stack)
    client = app.aws_client("secretsmanager")
    try:
        current = client.get_secret_value(SecretId=secret_id).get("SecretString")
        value = rotated(
            section_text(current, WEBHOOK_SIGNING),
            secret,
            woocommerce=woocommerce,
            drop_previous=drop_previous,
        )
        write_section(client, secret_id, WEBHOOK_SIGNING, value)
    except (ClientError, BotoCoreError, ConfigSecretCorrupt) as exc:
        typer.secho(f"error: cannot update {secret_id}: {type(exc).__name__}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    kept = ", ".join(sorted(value)) or "nothing"
    typer.echo(f"{secret_id} updated ({kept}); the function picks it up within 5 minutes.")
    if "previous" in value:
        typer.echo(
            "The previous secret is still accepted; once the shop signs with the new one, "
            "run --drop-previous."
        )


def register(app: typer.Typer) -> None:
    """Attach `webhooks` to the main CLI (one line in cli/main.py)."""
    app.add_typer(webhooks_app, name="webhooks")
