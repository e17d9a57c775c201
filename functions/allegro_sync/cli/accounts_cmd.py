"""`allegro-sync accounts ...`: connect seller accounts and see their state — never a token.

Where the deployment lives: cli/deployment.py, as the `oauth` function sees it (`TABLE_CONTROL`,
`SECRET_ACCOUNTS`, `SECRET_APP_CREDENTIALS`, optional `SECRET_ACCOUNTS_KMS_KEY_ID`, `ALLEGRO_SYNC_API_URL`;
else the stack `--stack`'s outputs, else the local runtime). Allegro hosts: `ALLEGRO_API_URL`/
`ALLEGRO_UPLOAD_URL`/`ALLEGRO_OAUTH_URL` (the emulator), else `--sandbox` or production.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, NoReturn

import typer
from botocore.exceptions import BotoCoreError, ClientError

from allegro_sync.cli import deployment, first_rule
from allegro_sync.contracts.accounts import (
    AccountNotFound,
    AccountProfile,
    OAuthError,
    OAuthUnavailable,
    TokenStoreCorrupt,
)
from allegro_sync.custody import Custody
from allegro_sync.local import session as local_session
from allegro_sync.services.accounts import ConnectOptions, DevicePrompt, InvalidAccountName, LinkRejected
from allegro_sync.settings import API_URL_ENV, STACK_ENV

accounts_app = typer.Typer(help="Connect Allegro seller accounts and inspect them (tokens are never shown).")

# The function whose view of the deployment account custody uses (it connects accounts in a browser).
FUNCTION = "oauth"

# Tests swap these for the emulator's clock; an operator waits for real.
sleep: Callable[[float], None] = time.sleep
now: Callable[[], float] = time.time

StackOption = Annotated[
    str | None,
    typer.Option(help=f"CloudFormation stack name (env {STACK_ENV}, default {deployment.DEFAULT_STACK})."),
]


def _custody(stack: str | None) -> tuple[Custody, str | None]:
    """Account custody of the deployment (clock and sleep swappable) and its HTTP API URL, if known."""
    app = deployment.application(stack, function=FUNCTION, now=now, sleep=sleep)
    try:
        return app.custody(), app.settings.api_url
    except LookupError as exc:
        _fail(str(exc))


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
    check: Annotated[
        bool, typer.Option(help="Ask Allegro for an app token with them before storing.")
    ] = True,
    stack: StackOption = None,
) -> None:
    """Store the Allegro application's client id and secret (and mint the start-link signing key).

    They are checked first with a client-credentials token call, so a wrong secret is refused now and
    not at every account's next refresh."""
    built, api_url = _custody(stack)
    if check:
        try:
            built.oauth.check_app(_environment(sandbox), client_id, client_secret)
        except OAuthUnavailable as exc:
            _fail(
                f"could not reach Allegro to check the credentials ({exc.description}); nothing stored "
                "(--no-check stores them without checking)"
            )
        except OAuthError as exc:
            _fail(
                f"Allegro refused these credentials ({exc.error}): check the Client ID and Client Secret "
                "of your app at apps.developer.allegro.pl (a sandbox app is separate: store it with "
                "--sandbox); nothing stored"
            )
        typer.echo("Allegro accepted the credentials (client-credentials token).")
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
    *,
    sandbox: Annotated[bool, typer.Option(help="Connect an Allegro sandbox account.")] = False,
    browser: Annotated[
        bool, typer.Option(help="Print a signed, single-use link to log in through the API instead.")
    ] = False,
    link_minutes: Annotated[int, typer.Option(min=1, max=60, help="How long the --browser link works.")] = 15,
    replace: Annotated[
        bool, typer.Option(help="Allow NAME to change to another Allegro login (its offers stop syncing).")
    ] = False,
    allow_same_login: Annotated[
        bool, typer.Option(help="Allow a login already connected under another name (duplicate offers).")
    ] = False,
    stack: StackOption = None,
) -> None:
    """Connect a seller account: the device flow (default) or a browser link (--browser).

    A name keeps its Allegro login and a login keeps one name, unless --replace / --allow-same-login say
    otherwise. An account no pricing rule covers gets a 1:1 rule, so its products can publish."""
    built, api_url = _custody(stack)
    environment = _environment(sandbox)
    accounts = built.accounts()
    options = ConnectOptions(replace=replace, allow_same_login=allow_same_login)
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
                options=options,
            )
            typer.echo(f"Open this link within {link_minutes} min (it works once) and log in to Allegro:")
            typer.echo(link)
            first_rule.offer(stack, name, publish=False)
            return
        profile = accounts.connect_with_device_flow(
            name, environment=environment, on_prompt=show_prompt, options=options
        )
    except (InvalidAccountName, ValueError, LinkRejected) as exc:
        _fail(str(exc))
    except OAuthError as exc:
        _fail(exc.description or str(exc))
    except (LookupError, TokenStoreCorrupt) as exc:
        _fail(str(exc))
    who = f" ({profile.login})" if profile.login else ""
    typer.secho(f"Connected {profile.name}: seller {profile.seller_id}{who}.", fg=typer.colors.GREEN)
    first_rule.offer(stack, name, publish=True)


def show_prompt(prompt: DevicePrompt) -> None:
    minutes = max(1, prompt.expires_in // 60)
    typer.echo(f"To connect {prompt.account!r}, open {prompt.verification_uri_complete}")
    typer.echo(f"and confirm the code {prompt.user_code} (valid {minutes} min). Waiting for Allegro...")
    if local_session.read() is not None:
        typer.echo(
            "Local emulator: confirm it from another terminal with "
            f"`allegro-sync local confirm {prompt.user_code} --login LOGIN` "
            "(LOGIN: a seller from `local seller add`)."
        )


def _row(p: AccountProfile) -> str:
    return (
        f"{p.name:<16} {p.shown_status:<13} {p.environment:<10} {p.login or p.seller_id:<20} "
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
