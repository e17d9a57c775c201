"""`allegro-sync orders show ORDER`: one Allegro order as the system knows it, and what became of the shop's
fulfillment updates (statuses set, tracking numbers Allegro took or refused).

Reads the `orders` table as the `fulfillment_worker` sees it (cli/deployment.py finds the deployment).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from allegro_sync.cli import deployment

FUNCTION = "fulfillment_worker"
orders_app = typer.Typer(help="Allegro orders: what the system imported and sent back.", no_args_is_help=True)
StackOption = Annotated[str | None, typer.Option(help="CloudFormation stack name (env ALLEGRO_SYNC_STACK).")]


def register(app: typer.Typer) -> None:
    app.add_typer(orders_app, name="orders")


@orders_app.command("show")
def show(
    order: Annotated[str, typer.Argument(help="The Allegro checkout form id.")], stack: StackOption = None
) -> None:
    """The order's status, lines, what needs the seller, and its fulfillment history (oldest first)."""
    app = deployment.application(
        stack, function=FUNCTION, needed=deployment.function_variables(FUNCTION, secrets=False)
    )
    record = app.order_repository().get(order)
    if record is None:
        typer.secho(f"error: no order {order!r} was imported", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    journal = app.fulfillment_journal()
    refused = journal.refused(order)
    console = Console(width=180)
    console.print(f"order {order} on {record.account}: Allegro status {record.status}")
    for line in record.lines:
        console.print(
            f"  line {line.line_item_id}: {line.sku or '(no SKU)'} x{line.quantity} ({line.offer_id})"
        )
    for reason in (*record.attention, *refused):
        console.print(f"  [red]needs attention:[/red] {reason}")
    table = Table(title="Fulfillment history")
    for column in ("when", "status set", "kept (Allegro's own)", "tracking added", "tracking refused"):
        table.add_column(column, overflow="fold")
    for entry in journal.history(order):
        table.add_row(
            entry.at,
            entry.status_set or "-",
            entry.status_kept or "-",
            ", ".join(entry.added) or "-",
            "\n".join(entry.refused) or "-",
            style="red" if entry.refused else "",
        )
    console.print(table)
    if refused:
        raise typer.Exit(3)  # scripts can alert on "this order needs the seller"
