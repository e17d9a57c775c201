"""`allegro-sync orders ...`: Allegro orders as the system knows them.

- `orders show ORDER`: one order, and what became of the shop's fulfillment updates (statuses set, tracking
  numbers Allegro took or refused); reads the `orders` table as the `fulfillment_worker` sees it.
- `orders index-lines`: the one-off step after upgrading to combined-payment handling. Orders imported by
  older versions have no line owner items (docs/orders.md); this writes them from the recorded orders, so a
  purchase bought before the upgrade and paid together with others after it is still recognised as the same
  sale. Safe to repeat; never overwrites an owner.

cli/deployment.py finds the deployment.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from allegro_sync.cli import deployment, output
from allegro_sync.cli.deployment import StackOption

orders_app = typer.Typer(help="Allegro orders: what the system imported and sent back.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(orders_app, name="orders")


@orders_app.command("show")
def show(
    order: Annotated[str, typer.Argument(help="The Allegro checkout form id.")], stack: StackOption = None
) -> None:
    """The order's status, lines, what needs the seller, and its fulfillment history (oldest first)."""
    function = "fulfillment_worker"
    app = deployment.application(
        stack, function=function, needed=deployment.function_variables(function, secrets=False)
    )
    record = app.order_repository().get(order)
    if record is None:
        output.fail(f"no order {order!r} was imported")
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
    table = output.table(
        "when", "status set", "kept (Allegro's own)", "tracking added", "tracking refused",
        title="Fulfillment history",
    )  # fmt: skip
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


@orders_app.command("index-lines")
def index_lines(*, stack: StackOption = None) -> None:
    """Record which order carries each purchase, for orders imported before combined payments were handled."""
    written = deployment.application(stack, function="order_worker").order_repository().index_recorded_lines()
    typer.echo(f"{written} line owner(s) written")
