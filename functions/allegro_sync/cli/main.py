"""`allegro-sync`: the home of every operator command.

Each command group lives in its own module and is registered here, so adding a group is one line.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from allegro_sync import __version__
from allegro_sync.cli import (
    accounts_cmd,
    after_sale_cmd,
    buyers_cmd,
    catalog_cmd,
    demo_cmd,
    dlq_cmd,
    emulator_cmd,
    labels_cmd,
    listings_cmd,
    local_cmd,
    markets_cmd,
    messages_cmd,
    orders_cmd,
    prices_cmd,
    producers_cmd,
    reconcile_cmd,
    shop_cmd,
    status_cmd,
    webhooks_cmd,
)
from allegro_sync.cli.errors import ErrorsToMessages
from allegro_sync.local import session
from allegro_sync.settings import exported

app = typer.Typer(
    name="allegro-sync",
    help="Connect an online shop with Allegro: operate, inspect and run the system locally.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    cls=ErrorsToMessages,  # known errors (no region, local stack down, ...) become one line, exit 1
)


# Commands that run their own local world (or none) never follow a running `local up`.
_OWN_WORLD = {"local", "demo", "emulator", "invoke", "version"}


@app.callback()
def _options(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show the functions' JSON log lines.")
    ] = False,
) -> None:
    """Connect an online shop with Allegro: operate, inspect and run the system locally.

    While `allegro-sync local up` runs, every other command uses it by itself (set
    ALLEGRO_SYNC_LOCAL_SESSION=off to reach a deployment in AWS instead)."""
    if ctx.invoked_subcommand not in _OWN_WORLD:
        found = session.active()
        if found is not None:
            ctx.with_resource(exported(found.environment()))
    # The functions' Powertools loggers print JSON lines to the terminal; between a command's tables they
    # are noise, so they are off for the command's duration (`local` runs the functions: their logs stay).
    if verbose or ctx.invoked_subcommand == "local":
        return
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    ctx.call_on_close(lambda: logging.disable(previous))


local_cmd.register(app)
emulator_cmd.register(app)
accounts_cmd.register(app)
webhooks_cmd.register(app)
shop_cmd.register(app)
app.command("demo")(demo_cmd.demo)
app.command("reconcile")(reconcile_cmd.reconcile)
prices_cmd.register(app)
catalog_cmd.register(app)
producers_cmd.register(app)
listings_cmd.register(app)
dlq_cmd.register(app)
buyers_cmd.register(app)
app.command("status")(status_cmd.status)
orders_cmd.register(app)
markets_cmd.register(app)  # issue 16, item 1: foreign marketplaces
after_sale_cmd.register(app)  # issue 15, item 3: `orders refund`, `returns list|reject`
labels_cmd.register()  # issue 15: `orders ship|label|pickup|cancel-label|label-rule`
messages_cmd.register(app)  # issue 15, item 4: `messages list|show|reply`


@app.command()
def version() -> None:
    """Print the allegro-sync version."""
    typer.echo(__version__)


if __name__ == "__main__":  # `python -m allegro_sync.cli.main`, as the installed `allegro-sync` script
    app()
