"""`allegro-sync accounts ...`: connect seller accounts and see their state — never a token.

Where the deployment lives, in order:
1. the Lambda-style env vars (`TABLE_CONTROL`, `SECRET_ACCOUNTS`, `SECRET_APP_CREDENTIALS`, optional
   `SECRET_ACCOUNTS_KMS_KEY_ID`, `ALLEGRO_SYNC_API_URL`);
2. the outputs of the CloudFormation stack `--stack` (env `ALLEGRO_SYNC_STACK`, default `AllegroSync`):
   keys are those env var names without underscores (`TABLECONTROL`, `SECRETACCOUNTS`, `APIURL`, ...);
3. with `AWS_ENDPOINT_URL` set and no stack there: the local runtime's names (`allegro-sync local up`).
Allegro hosts: `ALLEGRO_API_URL`/`ALLEGRO_UPLOAD_URL`/`ALLEGRO_OAUTH_URL` (the emulator), else `--sandbox`
or production.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, NoReturn

import boto3
import typer
from botocore.exceptions import BotoCoreError, ClientError

from allegro_sync.adapters.secrets import KMS_KEY_ENV
from allegro_sync.adapters.token_store import AccountsSettings, Custody
from allegro_sync.services.accounts import (
    AccountProfile,
    DevicePrompt,
    InvalidAccountName,
    OAuthError,
)
from allegro_sync.services.tokens import AccountNotFound, TokenStoreCorrupt
from allegro_sync.topology import secret_env, table_env

accounts_app = typer.Typer(help="Connect Allegro seller accounts and inspect them (tokens are never shown).")

STACK_ENV = "ALLEGRO_SYNC_STACK"
API_URL_ENV = "ALLEGRO_SYNC_API_URL"
DEFAULT_STACK = "AllegroSync"
LOCAL_API_URL = "http://127.0.0.1:8080"

# Tests swap these for the emulator's clock; an operator waits for real.
sleep: Callable[[float], None] = time.sleep
now: Callable[[], float] = time.time

StackOption = Annotated[
    str | None, typer.Option(help=f"CloudFormation stack name (env {STACK_ENV}, default {DEFAULT_STACK}).")
]


def _output_key(env_var: str) -> str:
    """Same rule as infra/naming.py `output_key`: the env var name without underscores."""
    return env_var.replace("_", "")


def find_deployment(stack: str | None = None) -> tuple[AccountsSettings, str | None]:
    """Account custody settings and the HTTP API URL (if known), from env, a stack, or the local runtime."""
    names = (table_env("control"), secret_env("accounts"), secret_env("app-credentials"))
    if all(os.environ.get(n) for n in names):
        return AccountsSettings.from_env(), os.environ.get(API_URL_ENV)
    stack_name = stack or os.environ.get(STACK_ENV) or DEFAULT_STACK
    try:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    except (ClientError, BotoCoreError, IndexError, KeyError) as exc:
        if os.environ.get("AWS_ENDPOINT_URL"):
            return _local_runtime()
        raise LookupError(
            f"cannot find the deployment: stack {stack_name!r} is not readable ({type(exc).__name__}); "
            f"deploy it, pass --stack, or set {', '.join(names)}"
        ) from None
    missing = [_output_key(n) for n in names if _output_key(n) not in outputs]
    if missing:
        raise LookupError(f"stack {stack_name!r} lacks outputs {', '.join(missing)}")
    settings = AccountsSettings(
        control_table=outputs[_output_key(names[0])],
        accounts_secret_prefix=outputs[_output_key(names[1])],
        app_credentials_secret=outputs[_output_key(names[2])],
        kms_key_id=outputs.get(_output_key(KMS_KEY_ENV)) or _stack_key(outputs[_output_key(names[2])]),
    )
    return settings, os.environ.get(API_URL_ENV) or outputs.get("APIURL")


def _stack_key(app_credentials_secret: str) -> str | None:
    """The stack's KMS key, read off the secret the stack encrypted with it (account secrets use it too)."""
    try:
        described = boto3.client("secretsmanager").describe_secret(SecretId=app_credentials_secret)
    except (ClientError, BotoCoreError):
        return None
    key = described.get("KmsKeyId")
    return str(key) if key else None


def _local_runtime() -> tuple[AccountsSettings, str | None]:
    from allegro_sync.local.provision import secret_name, table_name

    settings = AccountsSettings(
        control_table=table_name("control"),
        accounts_secret_prefix=secret_name("accounts", is_prefix=True),
        app_credentials_secret=secret_name("app-credentials", is_prefix=False),
    )
    return settings, os.environ.get(API_URL_ENV) or LOCAL_API_URL


def _custody(stack: str | None) -> tuple[Custody, str | None]:
    try:
        settings, api_url = find_deployment(stack)
    except LookupError as exc:
        _fail(str(exc))
    return Custody.build(settings, now=now, sleep=sleep), api_url


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def _when(epoch: float | None) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _environment(sandbox: bool) -> str:
    return "sandbox" if sandbox else "production"


@accounts_app.command("set-app")
def set_app(
    client_id: Annotated[str, typer.Argument(help="Client ID of your Allegro application.")],
    client_secret: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="Client secret (asked for when omitted).")
    ],
    sandbox: Annotated[bool, typer.Option(help="These are the credentials of your sandbox app.")] = False,
    stack: StackOption = None,
) -> None:
    """Store the Allegro application's client id and secret (and mint the start-link signing key)."""
    built, api_url = _custody(stack)
    try:
        built.app_credentials.write(client_id, client_secret, sandbox=sandbox)
    except (ClientError, BotoCoreError) as exc:
        _fail(f"could not store the app credentials: {exc}")
    typer.echo(f"Stored the {_environment(sandbox)} app credentials (client id {client_id}).")
    if api_url:
        typer.echo(f"Register this redirect URI in the Allegro app: {api_url.rstrip('/')}/oauth/callback")


@accounts_app.command("connect")
def connect(
    name: Annotated[str, typer.Argument(help="Short name for the account, e.g. shop1.")],
    sandbox: Annotated[bool, typer.Option(help="Connect an Allegro sandbox account.")] = False,
    browser: Annotated[
        bool, typer.Option(help="Print a signed, single-use link to log in through the API instead.")
    ] = False,
    link_minutes: Annotated[int, typer.Option(min=1, max=60, help="How long the --browser link works.")] = 15,
    stack: StackOption = None,
) -> None:
    """Connect a seller account: the device flow (default) or a browser link (--browser)."""
    built, api_url = _custody(stack)
    environment = _environment(sandbox)
    accounts = built.accounts()
    try:
        if browser:
            if not api_url:
                _fail(f"the API URL is unknown: set {API_URL_ENV} or deploy the stack (output APIURL)")
            key = built.app_credentials.read().link_signing_key
            if not key:
                _fail("the app credentials have no link key: run allegro-sync accounts set-app again")
            link = accounts.create_start_link(
                name,
                environment=environment,
                api_url=str(api_url),
                signing_key=key.encode(),
                ttl_seconds=link_minutes * 60,
            )
            typer.echo(f"Open this link within {link_minutes} min (it works once) and log in to Allegro:")
            typer.echo(link)
            return
        profile = accounts.connect_with_device_flow(name, environment=environment, on_prompt=_show_prompt)
    except (InvalidAccountName, ValueError) as exc:
        _fail(str(exc))
    except OAuthError as exc:
        _fail(exc.description or str(exc))
    except (LookupError, TokenStoreCorrupt) as exc:
        _fail(str(exc))
    who = f" ({profile.login})" if profile.login else ""
    typer.secho(f"Connected {profile.name}: seller {profile.seller_id}{who}.", fg=typer.colors.GREEN)


def _show_prompt(prompt: DevicePrompt) -> None:
    minutes = max(1, prompt.expires_in // 60)
    typer.echo(f"To connect {prompt.account!r}, open {prompt.verification_uri_complete}")
    typer.echo(f"and confirm the code {prompt.user_code} (valid {minutes} min). Waiting for Allegro...")


def _row(p: AccountProfile) -> str:
    return (
        f"{p.name:<16} {p.status.value:<13} {p.environment:<10} {p.login or p.seller_id:<20} "
        f"{_when(p.token_expires_at):<21} {_when(p.last_refresh_at):<21} {p.what_to_do()}"
    )


@accounts_app.command("list")
def list_accounts(stack: StackOption = None) -> None:
    """Every connected account: status, token expiry, last refresh, and what to do if it is disconnected."""
    built, _ = _custody(stack)
    profiles = built.accounts().list_accounts()
    if not profiles:
        typer.echo("No accounts yet. Connect one with: allegro-sync accounts connect NAME")
        return
    typer.echo(
        f"{'NAME':<16} {'STATUS':<13} {'ENV':<10} {'LOGIN':<20} {'TOKEN EXPIRES':<21} "
        f"{'LAST REFRESH':<21} ACTION"
    )
    for profile in profiles:
        typer.echo(_row(profile))


@accounts_app.command("show")
def show(name: str, stack: StackOption = None) -> None:
    """One account in detail (scopes included, tokens never)."""
    built, _ = _custody(stack)
    try:
        p = built.accounts().show(name)
    except (AccountNotFound, InvalidAccountName) as exc:
        _fail(str(exc))
    lines = {
        "name": p.name,
        "status": p.status.value,
        "environment": p.environment,
        "seller id": p.seller_id,
        "login": p.login or "-",
        "connected": _when(p.connected_at),
        "token expires": _when(p.token_expires_at),
        "last refresh": _when(p.last_refresh_at),
        "scopes": " ".join(p.scopes) or "-",
    }
    if p.disconnected_at:
        lines["disconnected"] = f"{_when(p.disconnected_at)} ({p.disconnect_reason})"
    lines["action"] = p.what_to_do()
    for key, value in lines.items():
        typer.echo(f"{key + ':':<15}{value}")


@accounts_app.command("disconnect")
def disconnect(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    stack: StackOption = None,
) -> None:
    """Stop using an account: its tokens are wiped and every call for it stops."""
    built, _ = _custody(stack)
    if not yes:
        typer.confirm(f"Disconnect {name}? Syncing with this Allegro account stops.", abort=True)
    try:
        profile = built.accounts().disconnect(name)
    except (AccountNotFound, InvalidAccountName) as exc:
        _fail(str(exc))
    typer.echo(
        f"{profile.name} is {profile.status.value}. Reconnect with: allegro-sync accounts connect {name}"
    )


def register(app: typer.Typer) -> None:
    """Attach `accounts` to the main CLI (one line in cli/main.py)."""
    app.add_typer(accounts_app, name="accounts")
