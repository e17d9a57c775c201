"""`allegro-sync orders label|ship|pickup|cancel-label|label-rule`: labels through Ship with Allegro.

- `orders label-rule ACCOUNT --sender NAME STREET POSTAL CITY EMAIL PHONE [--status] [--service]`: the
  seller's rule: which shop status buys the label, with which delivery service and parcel defaults, and the
  sender printed on it.
- `orders ship ORDER [--service ID] [--weight KG] [--again]`: buy the label now (what the rule does when the
  shop marks the order); safe to repeat: the package's label is bought once (services/labels.py).
- `orders label ORDER`: a link to the label PDF, valid 15 minutes.
- `orders pickup ORDER`: order a courier for the order's parcel; `orders cancel-label ORDER`: cancel it.
The buyer's address is sent to Allegro, never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allegro_sync.bootstrap import Application
from allegro_sync.cli import deployment, output
from allegro_sync.cli.deployment import StackOption
from allegro_sync.cli.orders_cmd import orders_app
from allegro_sync.contracts.shipping import LabelRule, PackageDefaults, Sender
from allegro_sync.services.invoices import InvoiceRefused
from allegro_sync.services.labels import LabelPending, LabelRefused

FUNCTION = "fulfillment_worker"  # the CLI does what that function does, with its resources
SENDER_FIELDS = ("name", "street", "postal_code", "city", "email", "phone")
Order = Annotated[str, typer.Argument(help="The Allegro checkout form id.")]


def register() -> None:
    """The commands join `orders` when this module is imported; nothing else to wire."""


def _app(stack: str | None) -> Application:
    return deployment.application(stack, function=FUNCTION)


def _account_and_rule(app: Application, order: str) -> tuple[str, LabelRule]:
    record = app.order_repository().get(order)
    if record is None:
        output.fail(f"no order {order!r} was imported")
    rule = app.label_rules().get(record.account)
    if rule is None:
        output.fail(f"account {record.account} has no label rule: run `allegro-sync orders label-rule`")
    return record.account, rule


@orders_app.command("label-rule")
def label_rule(
    account: Annotated[str, typer.Argument(help="The seller account (`accounts list`).")],
    *,
    sender: Annotated[
        tuple[str, str, str, str, str, str],
        typer.Option(help="Sender printed on the label: NAME STREET POSTAL_CODE CITY EMAIL PHONE."),
    ],
    status: Annotated[
        str, typer.Option(help="Shop status (or Allegro status) that buys it.")
    ] = "READY_FOR_SHIPMENT",
    service: Annotated[str | None, typer.Option(help="Delivery method id; default: the buyer's.")] = None,
    weight: Annotated[float, typer.Option(help="Default parcel weight, kg.")] = 1.0,
    stack: StackOption = None,
) -> None:
    """Set the account's label rule (replaces the previous one)."""
    try:
        rule = LabelRule(
            account=account,
            status=status,
            service=service,
            package=PackageDefaults(weight_kg=weight),
            sender=Sender.model_validate(dict(zip(SENDER_FIELDS, sender, strict=True))),
        )
    except ValueError as bad:
        output.fail(f"label rule not saved: {bad}")
    _app(stack).label_rules().put(rule)
    typer.echo(f"label rule saved for {account}: status {status} buys a label ({service or 'buyer method'})")


@orders_app.command("ship")
def ship(
    order: Order,
    service: Annotated[str | None, typer.Option(help="Delivery method id instead of the rule's.")] = None,
    weight: Annotated[float | None, typer.Option(help="Parcel weight, kg, instead of the rule's.")] = None,
    again: Annotated[bool, typer.Option(help="Buy a new label after a refused or cancelled one.")] = False,
    stack: StackOption = None,
) -> None:
    """Buy the order's label now (once: repeating prints the same label)."""
    app = _app(stack)
    account, rule = _account_and_rule(app, order)
    package = rule.package.model_copy(update={"weight_kg": weight}) if weight else None
    try:
        result = app.labels(account).ship(order, rule, service=service, package=package, again=again)
    except LabelPending:
        output.fail("Allegro is still creating the shipment: run the same command again in a minute", 2)
    except LabelRefused as refused:
        output.fail(f"{refused}; fix it and run `orders ship {order} --again`")
    typer.echo(f"label {result.record.state}: waybill {result.record.waybill} ({result.record.carrier})")
    typer.echo(result.link or "")


@orders_app.command("label")
def label(order: Order, stack: StackOption = None) -> None:
    """Print a link to the order's label PDF (valid 15 minutes)."""
    app = _app(stack)
    account, _ = _account_and_rule(app, order)
    labels = app.labels(account)
    record = labels.latest(order)
    if record is None:
        output.fail(f"order {order} has no label yet: `allegro-sync orders ship {order}`")
    link = labels.link(record)
    if link is None:
        output.fail(f"order {order}'s label is {record.state}: {record.reason or 'not stored yet'}")
    typer.echo(link)


@orders_app.command("pickup")
def pickup(order: Order, stack: StackOption = None) -> None:
    """Order a courier to collect the order's parcel (first day offered)."""
    app = _app(stack)
    account, rule = _account_and_rule(app, order)
    try:
        status = app.labels(account).pickup(order, rule)
    except (LabelRefused, LabelPending) as failed:
        output.fail(str(failed))
    typer.echo(
        f"pickup {status.status}: {status.pickup_id or '-'} (carrier {status.carrier_pickup_id or '-'})"
    )


@orders_app.command("cancel-label")
def cancel_label(order: Order, stack: StackOption = None) -> None:
    """Cancel the order's shipment (an unused label)."""
    app = _app(stack)
    account, _ = _account_and_rule(app, order)
    try:
        record = app.labels(account).cancel(order)
    except LabelRefused as failed:
        output.fail(str(failed))
    typer.echo(f"shipment {record.shipment_id} cancelled")


@orders_app.command("invoice")
def invoice(
    order: Order,
    file: Annotated[
        Path | None, typer.Argument(help="The invoice PDF; without it: the order's invoice state.")
    ] = None,
    number: Annotated[str | None, typer.Option(help="The invoice number.")] = None,
    force: Annotated[bool, typer.Option(help="Upload even if the buyer did not ask for one.")] = False,
    stack: StackOption = None,
) -> None:
    """Upload the order's invoice to Allegro (once), or show whether it is there (issue 15, item 2)."""
    app = _app(stack)
    record = app.order_repository().get(order)
    if record is None:
        output.fail(f"no order {order!r} was imported")
    invoices = app.invoices(record.account)
    if file is None:
        typer.echo(invoices.status(order))
        return
    try:
        result = invoices.upload(order, file.read_bytes(), number=number, force=force)
    except (InvoiceRefused, OSError) as bad:
        output.fail(f"invoice not uploaded: {bad}")
    typer.echo(f"invoice {result.outcome} ({result.invoice_id or 'buyer did not ask; --force to send'})")
