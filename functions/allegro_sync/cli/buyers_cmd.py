"""`allegro-sync buyers forget`: erase one buyer's personal data from the deployment (services/privacy.py).

Thin: finds the deployment (cli/deployment.py) and prints what was erased, by checkout form id only.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from allegro_sync.cli.deployment import StackOption, application
from allegro_sync.services.privacy import STORED

buyers_app = typer.Typer(help="Buyers' personal data (docs/privacy.md).", no_args_is_help=True)
console = Console(width=160)


def register(app: typer.Typer) -> None:
    app.add_typer(buyers_app, name="buyers")


@buyers_app.command()
def forget(
    buyer: Annotated[str, typer.Argument(help="The buyer's e-mail, Allegro login, buyer id or phone.")],
    pending: Annotated[
        bool,
        typer.Option(help="Also erase orders still on their way to the shop (the shop will not get them)."),
    ] = False,
    stack: StackOption = None,
) -> None:
    """Erase BUYER's stored data and queued orders (dead letters; with --pending, undelivered ones too)."""
    try:
        report = application(stack).buyer_data().forget(buyer, pending=pending)
    except ValueError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    table = Table("queue", "checkout form", title=f"Erased ({report.examined} messages looked at)")
    for erased in report.erased:
        table.add_row(erased.queue, erased.checkout_form_id)
    console.print(table)
    if any(e.queue != STORED and not e.queue.endswith("(DLQ)") for e in report.erased):
        console.print("These orders will not reach the shop: handle them in Allegro's sales panel.")
    for queue in report.skipped_pending:
        console.print(
            f"{queue}: orders on their way to the shop were left alone (--pending erases them too); "
            "those of the buyer reach it without the buyer's name and address."
        )
    console.print("Nothing else keeps buyers' names, addresses, e-mails or phones (docs/privacy.md).")
