"""`allegro-sync local ...` and `allegro-sync invoke`: the system and single handlers on this machine.

`local up` runs everything and writes a session file (local/session.py) that every other command reads by
itself; `local seller add`, `local confirm`, `local buy` and `local shop` play the seller on allegro.pl,
a buyer and the shop against that running session.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer

from allegro_sync.local import session

if TYPE_CHECKING:  # the runtime and the emulator load only for the commands that run them
    from allegro_sync.emulator.admin import EmulatorAdmin
    from allegro_sync.local.runtime import AllegroUrls, LocalRuntime, RuntimeUrls
from allegro_sync.cli.output import fail as _fail
from allegro_sync.topology import TOPOLOGY, QueueTrigger

seller_app = typer.Typer(help="Sellers on the local Allegro emulator.", no_args_is_help=True)
local_app = typer.Typer(
    help="Run the system locally: moto for AWS, handlers in-process, queues, schedules and HTTP.",
    no_args_is_help=True,
)

AllegroUrlOption = Annotated[
    str | None,
    typer.Option(help="Base URL of the Allegro emulator (API, upload and OAuth on one host)."),
]


def _urls(allegro_url: str | None) -> AllegroUrls | None:
    from allegro_sync.local.runtime import AllegroUrls

    return AllegroUrls.single(allegro_url) if allegro_url else None


# Stable defaults, so a session's URLs are the same every time (5000, moto's usual port, is AirPlay on macOS).
GATEWAY_PORT = 8080
AWS_PORT = 8085
EMULATOR_PORT = 8090
SHOP_PORT = 8095


def _busy(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:`port` (0 = any free port: never busy)."""
    if port == 0:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@local_app.command("up")
def up(
    *,
    port: Annotated[
        int, typer.Option(help="Port of the HTTP API gateway on 127.0.0.1 (0 = any free port).")
    ] = (GATEWAY_PORT),
    aws_port: Annotated[
        int, typer.Option(help="Port of the moto server (AWS; 0 = any free port).")
    ] = AWS_PORT,
    time_scale: Annotated[
        float, typer.Option(min=0.001, help="Schedule speed-up: 60 makes a minute pass in a second.")
    ] = 1.0,
    allegro_url: AllegroUrlOption = None,
    emulator: Annotated[
        bool, typer.Option(help="Start the Allegro emulator in-process (unless --allegro-url is given).")
    ] = True,
    emulator_port: Annotated[
        int, typer.Option(help="Port of the emulator (0 = any free port).")
    ] = EMULATOR_PORT,
    shop_port: Annotated[
        int, typer.Option(help="Port of the local shop that receives orders (0 = any free port).")
    ] = SHOP_PORT,
) -> None:
    """Run moto, the Allegro emulator, a local shop, the HTTP API, queues and schedules until Ctrl-C.

    Other terminals' commands find it by themselves (a session file). Everything lives in memory: the
    accounts, products, offers and orders of a session are gone when it stops."""
    wanted = {
        "HTTP gateway (--port)": port,
        "AWS/moto (--aws-port)": aws_port,
        "local shop (--shop-port)": shop_port,
    }
    if allegro_url is None and emulator:
        wanted["Allegro emulator (--emulator-port)"] = emulator_port
    for what, number in wanted.items():
        if _busy(number):
            _fail(f"port {number} on 127.0.0.1 is in use ({what}): stop what uses it, or pass another port")
    running = session.read()
    if running is not None:
        _fail(f"`allegro-sync local up` already runs (process {running.pid}); stop it first (Ctrl-C there)")
    from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
    from allegro_sync.local.demo_shop import DemoShop, DemoShopServer
    from allegro_sync.local.runtime import LocalRuntime

    with contextlib.ExitStack() as stack:
        if allegro_url is None and emulator:
            allegro_url = stack.enter_context(Emulator(port=emulator_port, strict=False)).base_url
        local_shop = DemoShop(secret=secrets.token_urlsafe(24))
        shop = stack.enter_context(DemoShopServer(local_shop, port=shop_port))
        rt = stack.enter_context(
            LocalRuntime(TOPOLOGY, allegro_urls=_urls(allegro_url), time_scale=time_scale, aws_port=aws_port)
        )
        urls = rt.run(http_port=port)
        _describe(rt, urls, allegro_url, time_scale)
        found = session.LocalSession(
            pid=os.getpid(),
            aws_endpoint_url=urls.aws,
            region=rt.region,
            api_url=urls.http,
            allegro_url=allegro_url or "",
            shop_url=f"{shop.url}/orders",
            shop_signing_secret=local_shop.secret,
            client_id=DEFAULT_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET,
        )
        written = session.write(found)
        stack.callback(session.remove, found.pid)
        _next_steps(found, written)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # `kill` cleans up like Ctrl-C
        wait_until_stopped(stop)
        typer.echo("stopping: this session's accounts, products, offers and orders are gone")


STOP_CHECK_SECONDS = 0.5


def wait_until_stopped(stop: threading.Event) -> None:
    """Until `stop` is set (SIGTERM) or Ctrl-C. Not a bare `stop.wait()`: the kernel may hand SIGINT to one
    of the runtime's threads, which does not wake the main thread's wait, and Python raises
    KeyboardInterrupt only in the main thread, so `local up` ignored Ctrl-C now and then (a CI run's
    journey test waited 60 s for it). Waking every half second lets the main thread see the signal."""
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.wait(STOP_CHECK_SECONDS):
            pass


def _describe(rt: LocalRuntime, urls: RuntimeUrls, allegro_url: str | None, time_scale: float) -> None:
    typer.echo(f"AWS (moto):   {urls.aws}")
    typer.echo(f"HTTP API:     {urls.http}")
    typer.echo(f"Allegro:      {allegro_url or 'sandbox hosts (no emulator)'}   (admin API: /__emulator/)")
    for trigger, function in rt.topology.routes():
        typer.echo(f"  route       {trigger.method} {urls.http}{trigger.path} -> {function.name}")
    for function in rt.topology.functions:
        for t in function.triggers:
            if isinstance(t, QueueTrigger):
                typer.echo(f"  queue       {rt.wiring.queues[t.queue].url} -> {function.name}")
    for schedule, function in rt.topology.schedules():
        typer.echo(
            f"  schedule    every {schedule.rate_minutes} min (x{time_scale} faster) -> {function.name}"
        )


def _next_steps(found: session.LocalSession, written: Path | None) -> None:
    where = f"written to {written}" if written else "not written (ALLEGRO_SYNC_LOCAL_SESSION=off)"
    typer.echo(f"Session file: {where}; other terminals' allegro-sync commands use it by themselves.")
    typer.echo(f"Emulator application: client id {found.client_id}, client secret {found.client_secret}")
    typer.echo(f"Local shop (orders arrive here): {found.shop_url}")
    typer.echo("Next steps, in another terminal:")
    for step in (
        f"allegro-sync accounts set-app {found.client_id} --client-secret {found.client_secret}",
        "allegro-sync local seller add sklep1",
        "allegro-sync accounts connect sklep1      # then: allegro-sync local confirm CODE --login sklep1",
        "allegro-sync webhooks set-secret          # the secret your shop signs its webhooks with",
        f"allegro-sync shop set-credentials generic --url {found.shop_url} --signing-secret "
        f"{found.shop_signing_secret}",
        "allegro-sync prices rules set --markup-percent 10 --ending 0.99",
        "allegro-sync catalog import demo/catalog.csv && allegro-sync mappings suggest",
        "allegro-sync mappings approve 'SHOP > CATEGORY'",
        "allegro-sync local buy OFFER_ID && allegro-sync local shop",
    ):
        typer.echo(f"  {step}")
    typer.echo("Ctrl-C to stop (everything of this session is kept in memory only and is lost then).")


def _running() -> session.LocalSession:
    found = session.read()
    if found is None:
        _fail("no local session: start one with `allegro-sync local up` (in another terminal)")
    if not found.allegro_url:
        _fail("this local session runs without the emulator (--allegro-url): nothing to do here")
    return found


def _admin() -> EmulatorAdmin:
    from allegro_sync.emulator.admin import EmulatorAdmin

    return EmulatorAdmin(_running().allegro_url)


@seller_app.command("add")
def seller_add(
    login: Annotated[
        str, typer.Argument(help="Login of the new Allegro seller on the emulator, e.g. sklep1.")
    ],
    company: Annotated[bool, typer.Option(help="A business seller (GPSR data required on offers).")] = True,
) -> None:
    """Create a seller on the local emulator, ready to connect with `accounts connect`."""
    from allegro_sync.emulator.admin import EmulatorAdminError

    try:
        seller_id = _admin().create_seller(login, company=company)
    except (EmulatorAdminError, httpx.HTTPError) as error:
        _fail(f"the emulator refused the seller {login!r}: {error}")
    typer.echo(f"Seller {login} created on the emulator (seller id {seller_id}).")
    typer.echo(
        f"Connect it: allegro-sync accounts connect NAME; it prints a code; confirm it as {login} with"
    )
    typer.echo(f"  allegro-sync local confirm CODE --login {login}")


@local_app.command("confirm")
def confirm(
    code: Annotated[str, typer.Argument(help="The code `accounts connect` printed.")],
    login: Annotated[str, typer.Option(help="The emulator seller who approves (see `local seller add`).")],
) -> None:
    """Approve a device code on the emulator as LOGIN: what the seller does on allegro.pl."""
    from allegro_sync.emulator.admin import EmulatorAdminError

    try:
        _admin().approve_device(code, login)
    except (EmulatorAdminError, httpx.HTTPError) as error:
        _fail(f"the emulator did not approve code {code!r} as {login!r}: {error}")
    typer.echo(f"Approved code {code} as {login}; `accounts connect` finishes within a few seconds.")


@local_app.command("buy")
def buy(
    offer_id: Annotated[str, typer.Argument(help="The Allegro offer id (see `products status SKU`).")],
    quantity: Annotated[int, typer.Option(min=1, help="How many the buyer takes.")] = 1,
    pay: Annotated[bool, typer.Option(help="Pay at once (READY_FOR_PROCESSING).")] = True,
) -> None:
    """A buyer purchases an offer on the emulator; the order poller picks it up like a real sale."""
    from allegro_sync.emulator.admin import EmulatorAdminError

    admin = _admin()
    try:
        form = admin.buy(offer_id, quantity)
        if pay:
            admin.pay(form)
    except (EmulatorAdminError, httpx.HTTPError) as error:
        _fail(f"the emulator refused the purchase of {offer_id!r}: {error}")
    typer.echo(f"Bought {quantity} of offer {offer_id}: checkout form {form}" + (" (paid)" if pay else ""))
    typer.echo("The order reaches the local shop within a poll (`allegro-sync local shop` shows it).")


@local_app.command("shop")
def shop(
    as_json: Annotated[bool, typer.Option("--json", help="Print what the shop received as JSON.")] = False,
) -> None:
    """What the local shop received: each order (status and lines) and the stock it keeps."""
    try:
        received = httpx.get(_running().shop_url, timeout=10).json()
    except (httpx.HTTPError, ValueError) as error:
        _fail(f"the local shop did not answer: {error}")
    if as_json:
        typer.echo(json.dumps(received, indent=2))
        return
    if not received["orders"]:
        typer.echo("The local shop has received no order yet.")
    for order in received["orders"]:
        lines = ", ".join(
            f"{line['quantity']} x {line['sku']} ({line['stock_effect']})" for line in order["lines"]
        )
        typer.echo(f"order {order['checkout_form_id']} from {order['account']}: {order['status']}: {lines}")


def invoke(
    function: Annotated[str, typer.Argument(help="Function name from the topology, e.g. health.")],
    event_file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="JSON event, e.g. events/health.json."
        ),
    ],
    allegro_url: AllegroUrlOption = None,
) -> None:
    """Run one handler in-process on a sample event (AWS calls hit a throwaway moto); print the result."""
    names = [f.name for f in TOPOLOGY.functions]
    if function not in names:
        raise typer.BadParameter(f"unknown function {function!r}; the topology has: {', '.join(names)}")
    try:
        event: Any = json.loads(event_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"{event_file} is not valid JSON: {error}") from error
    from allegro_sync.local.runtime import LocalRuntime

    # Handler logs go to stderr so stdout is only the result (pipe it to jq).
    with (
        contextlib.redirect_stdout(sys.stderr),
        LocalRuntime(TOPOLOGY, allegro_urls=_urls(allegro_url)) as rt,
    ):
        result = rt.invoke(function, event)
    typer.echo(json.dumps(result, indent=2, default=str))


def register(app: typer.Typer) -> None:
    """Attach `local` and `invoke` to the main CLI (one line in cli/main.py)."""
    local_app.add_typer(seller_app, name="seller")
    app.add_typer(local_app, name="local")
    app.command("invoke")(invoke)
