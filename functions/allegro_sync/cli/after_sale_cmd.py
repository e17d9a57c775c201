"""Issue 15, item 3: customer returns and payment refunds from the CLI.

- `orders refund ORDER [--line LINE[:QTY|=AMOUNT] ...] [--key KEY] [--reason R]`: one payment refund, exactly
  once. Without `--line`, the whole rest of the order (delivery included). The same command run again is the
  same refund (its key is derived from what it asks for; `--key` gives a new one on purpose): it prints the
  first refund and sends nothing. More than was paid, or an unknown line: a clear error, nothing sent.
- `returns list [--account A]`: the customer returns Allegro lists (newest last), with their status.
- `returns reject RETURN --code CODE [--reason TEXT]`: refuse the refund of a return, with a reason.

They run with the `fulfillment_worker`'s access (its Allegro tokens and the `orders` table).
"""

from __future__ import annotations

import hashlib
from typing import Annotated, get_args

import typer
from rich.console import Console

from allegro_sync.cli import deployment, output
from allegro_sync.cli.orders_cmd import orders_app
from allegro_sync.contracts.after_sale import (
    RefundLine,
    RefundReason,
    RefundRefused,
    RefundRequest,
    RejectionCode,
    ReturnRejection,
    ReturnRejectionRequest,
)
from allegro_sync.contracts.allegro_errors import AllegroApiError

FUNCTION = "fulfillment_worker"
returns_app = typer.Typer(help="Customer returns: list them, reject one.", no_args_is_help=True)
StackOption = Annotated[str | None, typer.Option(help="CloudFormation stack name (env ALLEGRO_SYNC_STACK).")]


def register(app: typer.Typer) -> None:
    app.add_typer(returns_app, name="returns")


def parse_line(raw: str) -> RefundLine:
    """`LINE` (every item), `LINE:QTY` (whole items) or `LINE=AMOUNT` (part of the line's price)."""
    if "=" in raw:
        line, amount = raw.split("=", 1)
        return RefundLine(line.strip(), amount=amount.strip())
    line, _, quantity = raw.partition(":")
    if quantity and not quantity.strip().isdigit():
        raise typer.BadParameter(f"{raw!r}: the quantity after ':' is a whole number")
    return RefundLine(line.strip(), quantity=int(quantity) if quantity else None)


@orders_app.command("refund")
def refund(
    order: Annotated[str, typer.Argument(help="The Allegro checkout form id.")],
    line: Annotated[
        list[str] | None, typer.Option(help="LINE, LINE:QTY or LINE=AMOUNT; repeat for several lines.")
    ] = None,
    key: Annotated[str | None, typer.Option(help="A new key for a second, deliberate refund.")] = None,
    reason: Annotated[str, typer.Option(help=f"One of {', '.join(get_args(RefundReason))}.")] = "REFUND",
    stack: StackOption = None,
) -> None:
    """Refund the buyer once: the whole order, or the lines given (checked against what was paid)."""
    if reason not in get_args(RefundReason):
        output.fail(f"--reason must be one of {', '.join(get_args(RefundReason))}")
    lines = tuple(parse_line(raw) for raw in line or ())
    app = deployment.application(stack, function=FUNCTION, needed=deployment.function_variables(FUNCTION))
    record = app.order_repository().get(order)
    if record is None:
        output.fail(f"no order {order!r} was imported")
    asked = "|".join(f"{x.line_item_id}:{x.quantity}:{x.amount}" for x in lines) or "whole"
    request = RefundRequest(
        account=record.account,
        checkout_form_id=order,
        key=key or "cli-" + hashlib.sha256(f"{asked}|{reason}".encode()).hexdigest()[:16],
        lines=lines,
        reason=reason,  # type: ignore[arg-type]  # checked against RefundReason above
    )
    try:
        result = app.refunds(record.account).refund(request)
    except RefundRefused as refused:
        output.fail(f"{refused}; nothing was sent")
    what = "already refunded earlier, nothing sent now" if result.already else "refund sent"
    typer.echo(f"{what}: {result.total} {result.currency} (Allegro refund {result.refund_id})")


@returns_app.command("list")
def list_returns(
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None, stack: StackOption = None
) -> None:
    """Every customer return Allegro lists, oldest first, with its status and items."""
    app = deployment.application(stack, function=FUNCTION, needed=deployment.function_variables(FUNCTION))
    table = output.table("account", "return", "order", "status", "items", title="Customer returns")
    for name, client in sorted(app.connected_clients().items()):
        if account is not None and name != account:
            continue
        for found in client.customer_returns():
            items = ", ".join(f"{i.offer_id} x{i.quantity}" for i in found.items)
            table.add_row(name, found.id, found.order_id, found.status, items)
    Console(width=180).print(table)


@returns_app.command("reject")
def reject(
    customer_return: Annotated[str, typer.Argument(metavar="RETURN", help="The customer return id.")],
    code: Annotated[str, typer.Option(help=f"One of {', '.join(get_args(RejectionCode))}.")],
    reason: Annotated[str | None, typer.Option(help="Why, for the buyer (1-250 characters).")] = None,
    stack: StackOption = None,
) -> None:
    """Refuse the refund of a return, with a reason the buyer sees."""
    if code not in get_args(RejectionCode):
        output.fail(f"--code must be one of {', '.join(get_args(RejectionCode))}")
    if reason is not None and not 1 <= len(reason.strip()) <= 250:
        output.fail("--reason must be 1 to 250 characters")
    body = ReturnRejectionRequest(rejection=ReturnRejection(code=code, reason=reason))  # type: ignore[arg-type]
    app = deployment.application(stack, function=FUNCTION, needed=deployment.function_variables(FUNCTION))
    for name, client in sorted(app.connected_clients().items()):
        if not client.customer_returns(ids=[customer_return]):
            continue
        try:
            rejected = client.reject_customer_return(customer_return, body)
        except AllegroApiError as refused:
            output.fail(f"Allegro refused the rejection: {refused}")
        typer.echo(f"return {customer_return} on {name}: {rejected.status}")
        return
    output.fail(f"no connected account has a customer return {customer_return!r}")
