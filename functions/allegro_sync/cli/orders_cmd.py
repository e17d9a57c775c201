"""`allegro-sync orders index-lines`: the one-off step after upgrading to combined-payment handling.

Orders imported by older versions have no line owner items (docs/orders.md); this writes them from the
recorded orders, so a purchase bought before the upgrade and paid together with others after it is still
recognised as the same sale. Safe to repeat; never overwrites an owner. Where the deployment lives:
cli/deployment.py, as the `order_worker` function sees it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from allegro_sync.cli.deployment import application

FUNCTION = "order_worker"
StackOption = Annotated[str | None, typer.Option(help="CloudFormation stack name (env ALLEGRO_SYNC_STACK).")]


def index_lines(*, stack: StackOption = None) -> None:
    """Record which order carries each purchase, for orders imported before combined payments were handled."""
    written = application(stack, function=FUNCTION).order_repository().index_recorded_lines()
    typer.echo(f"{written} line owner(s) written")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Orders imported from Allegro.", no_args_is_help=True)
    group.command("index-lines")(index_lines)
    app.add_typer(group, name="orders")
