"""`allegro-sync webhooks sign FILE`: sign a test delivery the way a shop must, print curl-ready headers.

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

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.local.events import HttpRequest, http_api_v2_event

SECRET_ENV = "ALLEGRO_SYNC_WEBHOOK_SECRET"  # noqa: S105 - the variable's name
DEFAULT_URL = "http://127.0.0.1:8080"

webhooks_app = typer.Typer(help="Shop webhooks: sign test deliveries.", no_args_is_help=True)


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
    return [
        *headers,
        (signing.DELIVERY_HEADER, delivery_id),
        (signing.TIMESTAMP_HEADER, str(timestamp)),
        (signing.SIGNATURE_HEADER, signing.sign(secret, timestamp, delivery_id, body)),
    ]


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


def register(app: typer.Typer) -> None:
    """Attach `webhooks` to the main CLI (one line in cli/main.py)."""
    app.add_typer(webhooks_app, name="webhooks")
