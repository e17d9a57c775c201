"""`allegro-sync`: the home of every operator command.

Each command group lives in its own module and is registered here, so adding a group is one line.
"""

from __future__ import annotations

import typer

from allegro_sync import __version__
from allegro_sync.cli import (
    accounts_cmd,
    buyers_cmd,
    catalog_cmd,
    demo_cmd,
    dlq_cmd,
    emulator_cmd,
    listings_cmd,
    local_cmd,
    prices_cmd,
    reconcile_cmd,
    status_cmd,
    webhooks_cmd,
)

app = typer.Typer(
    name="allegro-sync",
    help="Connect an online shop with Allegro: operate, inspect and run the system locally.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
local_cmd.register(app)
emulator_cmd.register(app)
accounts_cmd.register(app)
webhooks_cmd.register(app)
app.command("demo")(demo_cmd.demo)
app.command("reconcile")(reconcile_cmd.reconcile)
prices_cmd.register(app)
catalog_cmd.register(app)
listings_cmd.register(app)
dlq_cmd.register(app)
buyers_cmd.register(app)
app.command("status")(status_cmd.status)


@app.command()
def version() -> None:
    """Print the allegro-sync version."""
    typer.echo(__version__)
