"""`allegro-sync reconcile [--dry-run] [--account A]`: Allegro vs the stock ledger, as a table.
`allegro-sync reconcile --shop [--dry-run]`: what changed in the shop since the last shop reconciliation.

`--dry-run` only reads (GET /sale/offers and the ledger) and shows the drift; without it the same repairs
as the scheduled `reconciler` are made and recorded in the change log with their reason. With `--shop` it
reads the shop's change listing and shows each change against what the catalogue already applied; without
`--dry-run` it runs the scheduled `shop_reconciler` now (changes queued, cursor saved).

Where the deployment lives: cli/deployment.py, as the `reconciler` function sees it (its variables
`TABLE_LEDGER`, `TABLE_CATALOG`, `TABLE_CHANGES`, `TABLE_CONTROL`, `SECRET_ACCOUNTS`,
`SECRET_APP_CREDENTIALS`; else the stack's outputs; else, with `AWS_ENDPOINT_URL` set, the local runtime's
names). Allegro hosts come from
`ALLEGRO_API_URL`/`ALLEGRO_UPLOAD_URL`/`ALLEGRO_OAUTH_URL` (the emulator) or `ALLEGRO_ENVIRONMENT`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from allegro_sync.cli import output
from allegro_sync.cli.deployment import StackOption, application
from allegro_sync.services.reconcile import ReconcileReport
from allegro_sync.services.shop_reconcile import ShopReconcileReport

FUNCTION = "reconciler"
SHOP_FUNCTION = "shop_reconciler"


def render(report: ReconcileReport, console: Console) -> None:
    title = "Drift (dry run: nothing changed)" if report.dry_run else "Drift repaired"
    table = output.table(title=title)
    for column in ("account", "SKU", "offer", "drift", "Allegro", "ledger", "repair"):
        table.add_column(column)
    for d in report.drifts:
        shown = f"{d.allegro_status or '-'} {'' if d.allegro_stock is None else d.allegro_stock}".strip()
        table.add_row(d.account, d.sku, d.offer_id, d.kind.value, shown, d.ledger, d.repair)
    console.print(table)
    console.print(
        f"{report.offers_seen} offers on {len(report.accounts)} account(s); {len(report.drifts)} drift(s)"
        + ("" if report.dry_run else f", {len(report.repaired)} repaired")
    )
    for what, why in report.failed.items():
        console.print(f"[red]failed[/red] {what}: {why}")


def render_shop(report: ShopReconcileReport, console: Console) -> None:
    title = f"Shop changes since {report.since or 'the beginning'} ({report.kind})"
    table = output.table(
        "SKU", "change", "verdict", title=title + (" - dry run: nothing queued" if report.dry_run else "")
    )
    for change in report.changes:
        table.add_row(change.sku, change.what, change.verdict)
    console.print(table)
    if report.dry_run:
        console.print(
            f"{report.shop_calls} shop call(s); the cursor would move to {report.cursor or 'nowhere'}"
        )
    else:
        moved = f"cursor now {report.cursor}" if report.cursor_saved else "cursor unchanged"
        console.print(
            f"{report.shop_calls} shop call(s); {report.queued} queued, {report.duplicates} already queued "
            f"before, {report.ignored} ignored; {moved}"
        )
    for note in report.notes:
        console.print(f"[yellow]note[/yellow] {note}", markup=True)


def reconcile_shop(*, dry_run: bool, stack: str | None) -> None:
    app = application(stack, function=SHOP_FUNCTION)
    try:
        report = app.shop_reconciler().run(dry_run=dry_run)
    except (LookupError, RuntimeError) as error:  # not configured / the shop did not answer
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    render_shop(report, Console(width=160))


def reconcile(
    *,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the drift, change nothing.")] = False,
    account: Annotated[str | None, typer.Option(help="Only this connected account.")] = None,
    shop: Annotated[
        bool, typer.Option("--shop", help="The shop's changes since the last run (lost webhooks) instead.")
    ] = False,
    stack: StackOption = None,
) -> None:
    """Compare every Allegro offer with the stock ledger; repair the drift unless --dry-run.

    With --shop: read what changed in the shop since the last shop reconciliation and queue it like a
    webhook (unless --dry-run, which only shows it)."""
    if shop:
        reconcile_shop(dry_run=dry_run, stack=stack)
        return
    app = application(stack, function=FUNCTION)
    try:
        report = app.reconciler().run(account=account, dry_run=dry_run)
    except LookupError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    render(report, Console(width=160))
    if report.failed:
        raise typer.Exit(1)
