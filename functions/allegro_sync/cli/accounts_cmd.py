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
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError

from allegro_sync.cli import deployment, first_rule, output
from allegro_sync.cli.output import fail as _fail
from allegro_sync.contracts.accounts import (
    AccountNotFound,
    AccountProfile,
    OAuthError,
    OAuthUnavailable,
    TokenStoreCorrupt,
)
from allegro_sync.custody import Custody
from allegro_sync.local import session as local_session
from allegro_sync.services.accounts import (
    Accounts,
    AccountStillConnected,
    ConnectOptions,
    DevicePrompt,
    InvalidAccountName,
    LinkRejected,
)
from allegro_sync.settings import API_URL_ENV, STACK_ENV

accounts_app = typer.Typer(help="Connect Allegro seller accounts and inspect them (tokens are never shown).")

# The function whose view of the deployment account custody uses (it connects accounts in a browser).
FUNCTION = "oauth"

# Tests swap these for the emulator's clock; an operator waits for real.
sleep: Callable[[float], None] = time.sleep
now: Callable[[], float] = time.time

NameArg = Annotated[str, typer.Argument(help="The account's name, as given to `accounts connect`.")]
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


def _when(epoch: float | None) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _environment(sandbox: bool) -> str:
    return "sandbox" if sandbox else "production"


@accounts_app.command("set-app")
def set_app(  # noqa: PLR0917 - typer maps each parameter to an argument or option
    client_id: Annotated[str, typer.Argument(help="Client ID of your Allegro application.")],
    client_secret: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="Client secret (asked for when omitted).")
    ],
    app_name: Annotated[
        str, typer.Option(prompt="Registered application name", help="The name registered at Allegro.")
    ],
    app_version: Annotated[
        str, typer.Option(prompt="Application version", help="Your deployment's version, e.g. 1.0.0.")
    ],
    app_url: Annotated[
        str, typer.Option(prompt="Application info URL", help="A page that says what the app does.")
    ],
    sandbox: Annotated[bool, typer.Option(help="These are the credentials of your sandbox app.")] = False,
    check: Annotated[
        bool, typer.Option(help="Ask Allegro for an app token with them before storing.")
    ] = True,
    stack: StackOption = None,
) -> None:
    """Store the Allegro application: client id and secret (and mint the start-link signing key), and the
    registered name, version and URL that every API call sends as User-Agent (Allegro's rule, #13126).

    The credentials are checked first with a client-credentials token call, so a wrong secret is refused
    now and not at every account's next refresh."""
    if not app_url.startswith(("https://", "http://")) or not app_name.strip() or not app_version.strip():
        _fail("the application needs a name, a version and an http(s) URL (User-Agent: name/version (+URL))")
    identity = {"app_name": app_name, "app_version": app_version, "app_url": app_url}
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
        built.app_credentials.write(client_id, client_secret, sandbox=sandbox, identity=identity)
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


ACCOUNT_COLUMNS = ("name", "status", "environment", "login", "token expires", "last refresh", "to do")


def _row(p: AccountProfile) -> tuple[str, ...]:
    return (
        p.name,
        p.shown_status,
        p.environment,
        p.login or p.seller_id,
        _when(p.token_expires_at),
        _when(p.last_refresh_at),
        p.what_to_do(),
    )


def _account_json(p: AccountProfile) -> dict[str, object]:
    return {
        "name": p.name,
        "status": p.status.value,
        "shown_status": p.shown_status,  # e.g. "CONNECTED (refresh failing)"
        "environment": p.environment,
        "seller_id": p.seller_id,
        "login": p.login or None,
        "token_expires_at": _iso(p.token_expires_at),
        "last_refresh_at": _iso(p.last_refresh_at),
        "to_do": p.what_to_do(),
    }


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else None


@accounts_app.command("list")
def list_accounts(stack: StackOption = None, as_json: output.JsonOption = False) -> None:
    """Every account (connected or not): status, token expiry, last refresh, and what to do."""
    built, _ = _custody(stack)
    profiles = built.accounts().list_accounts()
    if as_json:
        output.print_json([_account_json(p) for p in profiles])
        return
    if not profiles:
        typer.echo("No accounts yet. Connect one with: allegro-sync accounts connect NAME")
        return
    output.print_table("Allegro seller accounts", ACCOUNT_COLUMNS, [_row(p) for p in profiles])


@accounts_app.command("show")
def show(name: NameArg, stack: StackOption = None) -> None:
    """One account in detail (scopes included, tokens never)."""
    built, _ = _custody(stack)
    try:
        p = built.accounts().show(name)
    except (AccountNotFound, InvalidAccountName) as exc:
        _fail(str(exc))
    lines = {
        "name": p.name,
        "status": p.status.value,
        "shown_status": p.shown_status,  # e.g. "CONNECTED (refresh failing)"
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


YesOption = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]


def _confirmed(stack: str | None, yes: bool, question: str) -> Accounts:
    built, _ = _custody(stack)
    if not yes:
        typer.confirm(question, abort=True)
    return built.accounts()


@accounts_app.command("disconnect")
def disconnect(name: NameArg, yes: YesOption = False, stack: StackOption = None) -> None:
    """Stop using an account: its tokens are wiped and every call for it stops."""
    accounts = _confirmed(stack, yes, f"Disconnect {name}? Syncing with this Allegro account stops.")
    try:
        profile = accounts.disconnect(name)
    except (AccountNotFound, InvalidAccountName) as exc:
        _fail(str(exc))
    typer.echo(
        f"{profile.name} is {profile.status.value}. Reconnect with: allegro-sync accounts connect {name}"
    )


@accounts_app.command("remove")
def remove(name: NameArg, yes: YesOption = False, stack: StackOption = None) -> None:
    """Forget a disconnected account (its profile and its secret); its offers on Allegro stay as they are."""
    accounts = _confirmed(stack, yes, f"Remove {name}? Its profile and token secret are deleted.")
    try:
        accounts.remove(name)
    except (AccountNotFound, InvalidAccountName, AccountStillConnected) as exc:
        _fail(str(exc))
    typer.echo(f"Removed {name}. Connect it again any time: allegro-sync accounts connect {name}")


def register(app: typer.Typer) -> None:
    """Attach `accounts` to the main CLI (one line in cli/main.py)."""
    app.add_typer(accounts_app, name="accounts")
