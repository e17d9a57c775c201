"""`allegro-sync catalog import`, `mappings suggest|set|list|approve`, `products status`: the catalogue.

- `catalog import FILE`: a CSV or WooCommerce export (columns in `domain/catalog_file.py`) becomes one
  ProductUpsert per row on `shop-events`, the webhooks' path; resumable (a rerun of the same file skips the
  rows already queued); with `--wait` (default against the local runtime) it waits for the catalog worker and
  sums up published / waiting / failed with the reasons.
- `mappings suggest`: Allegro's matching categories for every shop category no mapping covers, stored PENDING.
- `mappings set PATH CATEGORY_ID [--param ATTR=PARAM_ID[,SHOP:ALLEGRO...]] [--const PARAM_ID=VALUE]`: the
  seller's own (approved) mapping; `approve PATH` approves a suggestion; `list` shows them all.
- `products status SKU`: the product on every account (offer, or why not), and its latest changes.

Where the deployment lives: `cli/deployment.py` (env vars, stack outputs, or the local runtime); each
command works through the deployment's `bootstrap.Application`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.bootstrap import Application
from allegro_sync.cli import deployment, output
from allegro_sync.cli.deployment import StackOption
from allegro_sync.cli.output import fail as _fail
from allegro_sync.cli.republish import publish_waiting, waiting
from allegro_sync.contracts.catalog import (
    ANY_ACCOUNT,
    Change,
    LinkStatus,
    ProductStatus,
    StoredMapping,
    category_label,
)
from allegro_sync.domain.catalog_file import CatalogFileError, CatalogRow, Format
from allegro_sync.services.catalog import with_shop_level
from allegro_sync.services.catalog_import import (
    ImportResult,
    ImportSummary,
    check_catalog,
    import_catalog,
    wait_for_outcome,
)
from allegro_sync.services.mapping_suggestions import (
    MappingInputError,
    set_mapping,
    shop_path,
    suggest_and_store,
    unmapped_categories,
)
from allegro_sync.topology import queue_env

catalog_app = typer.Typer(help="Onboard the shop's catalogue.", no_args_is_help=True)
mappings_app = typer.Typer(help="Shop category -> Allegro category mappings.", no_args_is_help=True)
products_app = typer.Typer(help="Shop products on Allegro.", no_args_is_help=True)

# Tests swap these (e.g. `sleep` drains the in-process runtime); an operator waits for real.
sleep: Callable[[float], None] = time.sleep
now: Callable[[], float] = time.time
console = Console(width=160)

AccountOption = Annotated[
    str | None, typer.Option(help="Only this seller account (default: every account, '*').")
]


def register(app: typer.Typer) -> None:
    """Attach `catalog`, `mappings` and `products` to the main CLI (one line in cli/main.py)."""
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(mappings_app, name="mappings")
    app.add_typer(products_app, name="products")


def _application(stack: str | None) -> Application:
    """The deployment's application, with this module's clock (tests swap it) and the CLI's own small
    Allegro budget: an operator's few reads never wait on the 60/min fallback, and the shared "blocked
    until" record in the control table is still honoured."""
    return deployment.application(stack, now=now, sleep=sleep)


def _at() -> str:
    return datetime.fromtimestamp(now(), UTC).isoformat()


def _accounts(app: Application) -> list[str]:
    return [p.name for p in app.connected_accounts()]


def _allegro(app: Application, account: str | None) -> tuple[str, AllegroClient]:
    """A client for `account` or the first connected one (catalogue reads are the same for every seller)."""
    names = _accounts(app)
    if account is not None and account != ANY_ACCOUNT and account not in names:
        _fail(f"account {account!r} is not connected (connected: {', '.join(names) or 'none'})")
    if not names:
        _fail("no connected Allegro account: run allegro-sync accounts connect NAME first")
    chosen = account if account is not None and account != ANY_ACCOUNT else names[0]
    return chosen, app.allegro(chosen)


# --- catalog import --------------------------------------------------------------------------------------


@catalog_app.command("import")
def import_file(
    *,
    file: Annotated[Path, typer.Argument(help="CSV or WooCommerce product export (JSON).", exists=True)],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or woocommerce (default: by extension/content).")
    ] = None,
    wait: Annotated[
        bool | None,
        typer.Option(help="Wait for the worker and sum up the outcome (default: yes on the local runtime)."),
    ] = None,
    timeout: Annotated[int, typer.Option(min=1, help="Seconds --wait waits at most.")] = 600,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Only check FILE: list its bad rows and what Allegro will shorten; no AWS, no Allegro.",
        ),
    ] = False,
    stack: StackOption = None,
) -> None:
    """Queue every product of FILE for publishing; resumable; bad rows are listed and not queued.

    With --dry-run nothing is queued and no deployment is needed: fix the rows it lists, then import.
    Exits 1 when FILE has bad rows (with --dry-run) or cannot be read.

    CSV header: sku, ean, name, description_html, image_urls (| separated), price, cost_price, stock,
    category_path (> separated), attributes (key=value; separated). Required: sku, name, price,
    category_path; prices may use a decimal comma ("129,99"). JSON: WooCommerce's REST product array.
    """
    if fmt not in (None, "csv", "woocommerce"):
        _fail(f"--format {fmt!r}: use csv or woocommerce")
    chosen: Format | None = "csv" if fmt == "csv" else "woocommerce" if fmt == "woocommerce" else None
    data = file.read_bytes()
    if dry_run:
        _dry_run(file, data, chosen)
        return
    app = _application(stack)
    if "shop-events" not in app.settings.queues:
        _fail(f"the shop-events queue is unknown: set {queue_env('shop-events')} or start the local runtime")
    queue = app.shop_event_queue()
    progress_store = app.import_progress()
    done = {"queued": 0, "skipped": 0}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(f"Importing {file.name}", total=None, detail="")

        def on_row(row: CatalogRow, queued: bool) -> None:
            done["queued" if queued else "skipped"] += 1
            detail = f"{done['queued']} queued" + (
                f", {done['skipped']} already queued" if done["skipped"] else ""
            )
            bar.update(task, advance=1, detail=detail)

        try:
            result = import_catalog(
                data,
                name=file.name,
                queue=queue,
                progress=progress_store,
                now=datetime.fromtimestamp(now(), UTC),
                fmt=chosen,
                on_row=on_row,
                on_start=lambda total: bar.update(task, total=total),
            )
        except CatalogFileError as error:
            _fail(f"{file}: {error}")
        except KeyboardInterrupt:
            bar.stop()
            _fail(f"interrupted after {done['queued']} queued row(s); run the same command to resume", 130)
        except (ClientError, BotoCoreError, RuntimeError) as error:
            bar.stop()
            _fail(
                f"stopped after {done['queued']} queued row(s): {type(error).__name__}: {error}; "
                "run the same command to resume"
            )
    _render_import(result)
    if wait is None:
        wait = bool(app.settings.aws_endpoint_url)
    if not wait:
        console.print(
            "Products publish in the background: see `allegro-sync products status SKU`, or use --wait."
        )
        return
    accounts = _accounts(app)
    if not accounts:
        console.print(
            "[yellow]No connected Allegro account: products wait in the catalogue until one is.[/yellow]"
        )
        return
    summary = wait_for_outcome(
        result.products, accounts, app.catalog(), timeout=timeout, now=now, sleep=sleep
    )
    _render_summary(summary, accounts)
    if summary.unsettled:
        raise typer.Exit(2)


def _dry_run(file: Path, data: bytes, fmt: Format | None) -> None:
    try:
        result = check_catalog(data, name=file.name, now=datetime.fromtimestamp(now(), UTC), fmt=fmt)
    except CatalogFileError as error:
        _fail(f"{file}: {error}")
    _render_rows(result, queued="not queued: dry run")
    console.print(
        f"Dry run of {file.name}: {len(result.queued)} product(s) ready to import, "
        f"{len(result.problems)} bad row(s), {len(result.warnings)} shortening(s); nothing was queued."
    )
    if result.problems:
        raise typer.Exit(1)


def _render_import(result: ImportResult) -> None:
    console.print(
        f"{len(result.queued)} product(s) queued, {len(result.skipped)} already queued by an earlier run, "
        f"{len(result.problems)} bad row(s) not queued."
    )
    _render_rows(result, queued="not queued")


def _render_rows(result: ImportResult, *, queued: str) -> None:
    """The bad rows (row, SKU, field, why) and what Allegro's limits will shorten, per row."""
    if result.problems:
        output.print_table(
            f"Bad rows ({queued})",
            ("row", "SKU", "field", "problem"),
            [(str(p.row), p.sku or "-", p.field, p.problem) for p in result.problems],
        )
    if result.warnings:
        output.print_table(
            "Warnings: shortened to fit Allegro",
            ("row", "SKU", "field", "what is cut"),
            [(str(p.row), p.sku or "-", p.field, p.problem) for p in result.warnings],
        )


def _render_summary(summary: ImportSummary, accounts: list[str]) -> None:
    counts = output.table(title=f"Outcome on {', '.join(accounts)}")
    for column in ("published", "waiting", "failed", "not finished"):
        counts.add_column(column, justify="right")
    counts.add_row(
        str(summary.count(LinkStatus.PUBLISHED)),
        str(summary.count(LinkStatus.WAITING)),
        str(summary.count(LinkStatus.FAILED)),
        str(len(summary.unsettled)),
    )
    console.print(counts)
    published, waiting = summary.count(LinkStatus.PUBLISHED), summary.count(LinkStatus.WAITING)
    console.print(
        f"Summary: {published} published, {waiting} waiting, "
        f"{summary.count(LinkStatus.FAILED)} failed, {len(summary.unsettled)} not finished."
    )
    problems = [o for o in summary.settled if o.status is not LinkStatus.PUBLISHED]
    if problems:
        table = output.table(title="Not published, and why")
        for column in ("SKU", "account", "status", "reason"):
            table.add_column(column, overflow="fold")
        for outcome in sorted(problems, key=lambda o: (o.status.value, o.sku)):
            table.add_row(outcome.sku, outcome.account, outcome.status.value, "\n".join(outcome.reasons))
        console.print(table)
    shortened = [
        (o.sku, o.account, r)
        for o in summary.settled
        if o.status is LinkStatus.PUBLISHED
        for r in o.reasons
        if r.startswith("shortened: ")
    ]
    if shortened:
        output.print_table(
            "Published with warnings: shortened to fit Allegro", ("SKU", "account", "what is cut"), shortened
        )
    if summary.unsettled:
        console.print(
            f"[yellow]{len(summary.unsettled)} product(s) not finished before the timeout:[/yellow] "
            + ", ".join(summary.unsettled[:20])
            + (" ..." if len(summary.unsettled) > 20 else "")
        )


# --- mappings -------------------------------------------------------------------------------------------


@mappings_app.command("suggest")
def suggest(account: AccountOption = None, stack: StackOption = None) -> None:
    """Ask Allegro for a category for every shop category without a mapping; store them PENDING."""
    app = _application(stack)
    from allegro_sync.adapters.dynamodb.catalog_import import catalog_products

    scope = account or ANY_ACCOUNT
    products = catalog_products(app.table("catalog"))
    store = app.mappings()
    unmapped = unmapped_categories(products, store.all_category_mappings(), scope)
    if not unmapped:
        console.print("Every shop category in the catalogue has a mapping; nothing to suggest.")
        return
    _, allegro = _allegro(app, account)
    suggested = suggest_and_store(products, store, allegro, account=scope, at=_at())
    table = output.table(title=f"Suggested (PENDING) for {len(unmapped)} unmapped shop categories")
    for column in ("shop category", "products", "Allegro category", "note"):
        table.add_column(column, overflow="fold")
    by_label = {m.label: m for m in suggested}
    for label, count in sorted(unmapped.items()):
        found = by_label.get(label)
        table.add_row(
            label,
            str(count),
            f"{found.mapping.allegro_category_id} {found.category_name}" if found else "[red]no match[/red]",
            found.note if found else "Allegro found no category: map it with `mappings set`",
        )
    console.print(table)
    console.print("Review them, then `allegro-sync mappings approve 'SHOP > PATH'` (or `mappings set`).")


@mappings_app.command("set")
def set_command(
    *,
    path: Annotated[str, typer.Argument(help="Shop category path, e.g. 'Dom > Kuchnia > Czajniki'.")],
    category_id: Annotated[str, typer.Argument(help="Allegro leaf category id.")],
    param: Annotated[
        list[str] | None,
        typer.Option(help="ATTR=PARAM_ID[,SHOP_VALUE:ALLEGRO_VALUE...] (repeatable)."),
    ] = None,
    const: Annotated[
        list[str] | None, typer.Option(help="PARAM_ID=VALUE for every product (repeatable).")
    ] = None,
    account: AccountOption = None,
    check: Annotated[bool, typer.Option(help="Check the category and parameter ids with Allegro.")] = True,
    stack: StackOption = None,
) -> None:
    """Map a shop category to an Allegro category (APPROVED: products publish with it)."""
    app = _application(stack)
    name = ""
    try:
        shop_path(path)
        if check:
            name = _check_category(app, category_id, param or [], const or [], account)
        stored = set_mapping(
            app.mappings(),
            path,
            category_id,
            params=param or [],
            constants=const or [],
            account=account or ANY_ACCOUNT,
            category_name=name,
            at=_at(),
        )
    except MappingInputError as error:
        _fail(str(error))
    _print_mappings([stored], title="Stored")


def _check_category(
    app: Application, category_id: str, params: list[str], consts: list[str], account: str | None
) -> str:
    """The category's name; MappingInputError when Allegro does not know it or one of the parameter ids."""
    from allegro_sync.contracts.allegro_errors import AllegroNotFound
    from allegro_sync.services.mapping_suggestions import parse_constant, parse_parameter

    parameters = [parse_parameter(s) for s in params] + [parse_constant(s) for s in consts]
    _, allegro = _allegro(app, account)
    try:
        category = allegro.get_category(category_id)
        known = {str(p.id): p.name for p in allegro.get_category_parameters(category_id)}
    except AllegroNotFound:
        raise MappingInputError(f"Allegro has no category {category_id!r}") from None
    if not getattr(category, "leaf", True):
        raise MappingInputError(f"Allegro category {category_id} ({category.name}) is not a leaf category")
    unknown = sorted({p.parameter_id for p in parameters} - set(known))
    if unknown:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(known.items()))
        raise MappingInputError(
            f"category {category_id} has no parameter(s) {', '.join(unknown)}; it has: {listed}"
        )
    return str(category.name)


@mappings_app.command("approve")
def approve(
    path: Annotated[str, typer.Argument(help="Shop category path of a PENDING mapping.")],
    account: AccountOption = None,
    publish: Annotated[
        bool, typer.Option(help="Publish the waiting products of this shop category now.")
    ] = True,
    stack: StackOption = None,
) -> None:
    """Approve a suggested mapping; its shop category's waiting products are published right away."""
    app = _worker_application(stack)
    from allegro_sync.adapters.dynamodb.mappings import MappingNotFound

    try:
        stored = app.mappings().set_approved(shop_path(path), True, account=account or ANY_ACCOUNT, at=_at())
    except (MappingNotFound, MappingInputError) as error:
        _fail(f"{error}; see `allegro-sync mappings list`")
    _print_mappings([stored], title="Approved")
    if publish:
        _publish_waiting(app, stored)


def _publish_waiting(app: Application, stored: StoredMapping) -> None:
    """The approval removed the reason the shop category's products wait: publish them now."""
    from allegro_sync.services.mapping_suggestions import covered

    accounts = _accounts(app) if stored.account == ANY_ACCOUNT else [stored.account]
    publish_waiting(
        app,
        accounts,
        console,
        title=stored.label,
        needs_retry=lambda product, link: (
            covered(product.category_path, [stored], stored.account) and waiting(product, link)
        ),
    )


def _worker_application(stack: str | None) -> Application:
    """The deployment as the catalog worker sees it, with its static settings (its Allegro budget): for
    commands that publish through the worker's own Publisher."""
    return deployment.application(stack, function="catalog_worker", rpm_budget=None, now=now, sleep=sleep)


@mappings_app.command("list")
def list_mappings(
    account: AccountOption = None,
    pending: Annotated[bool, typer.Option("--pending", help="Only the ones waiting for approval.")] = False,
    stack: StackOption = None,
    as_json: output.JsonOption = False,
) -> None:
    """Every mapping: shop category -> Allegro category, status, parameter mappings."""
    found: list[StoredMapping] = _application(stack).mappings().all_category_mappings()
    if account:
        found = [m for m in found if m.account in (account, ANY_ACCOUNT)]
    if pending:
        found = [m for m in found if not m.mapping.approved]
    if as_json:
        output.print_json(
            [
                {
                    "shop_category": m.label,
                    "account": m.account,
                    "status": "APPROVED" if m.mapping.approved else "PENDING",
                    "allegro_category_id": m.mapping.allegro_category_id,
                    "allegro_category": m.category_name,
                    "parameters": [p.model_dump(exclude_defaults=True) for p in m.mapping.parameters],
                    "note": m.note,
                }
                for m in found
            ]
        )
        return
    if not found:
        console.print(
            "No mappings"
            + (" waiting for approval." if pending else ": run `allegro-sync mappings suggest`.")
        )
        return
    _print_mappings(found, title="Category mappings")


def _print_mappings(found: list[StoredMapping], *, title: str) -> None:
    table = output.table(title=title)
    for column in ("shop category", "account", "status", "Allegro category", "parameters", "note"):
        table.add_column(column, overflow="fold")
    for m in found:
        params = "\n".join(
            f"{p.shop_attribute}->{p.parameter_id}"
            + (f" ({', '.join(f'{k}:{v}' for k, v in p.value_map.items())})" if p.value_map else "")
            if p.shop_attribute
            else f"{p.parameter_id}={p.constant}"
            for p in m.mapping.parameters
        )
        status = "[green]APPROVED[/green]" if m.mapping.approved else "[yellow]PENDING[/yellow]"
        table.add_row(
            m.label,
            m.account,
            status,
            f"{m.mapping.allegro_category_id} {m.category_name}".strip(),
            params,
            m.note,
        )
    console.print(table)


# --- products ---------------------------------------------------------------------------------------------


@products_app.command("status")
def status(
    sku: Annotated[str, typer.Argument(help="The shop SKU.")],
    changes: Annotated[int, typer.Option(min=0, max=100, help="How many of the latest changes to show.")] = 5,
    stack: StackOption = None,
    as_json: output.JsonOption = False,
) -> None:
    """The product on every seller account: PUBLISHED (offer id), WAITING or FAILED with the reasons, and
    warnings for what Allegro's limits shortened (title, description)."""
    app = _application(stack)
    state = with_shop_level(app.catalog().status(sku), app.stock_ledger().shop_level(sku))
    product = state.product
    refused = app.shop_refusals().latest(sku)
    if refused is not None:
        when = datetime.fromtimestamp(refused.at, UTC).isoformat(timespec="seconds")
        console.print(f"[red]last shop data refused[/red] ({refused.source}, {when}): {refused.reason}")
    if product is None:
        if refused is not None:
            return
        _fail(f"unknown SKU {sku!r}: the shop has not sent this product (import it or check the webhook)")
    history = app.change_log().history(sku, limit=changes) if changes else []
    if as_json:
        output.print_json(_status_json(state, history))
        return
    upsert = product.upsert
    console.print(
        f"[bold]{sku}[/bold]: {upsert.name if upsert else '(only stock/price seen so far)'}"
        + (" [red][deleted in the shop][/red]" if product.deleted else "")
    )
    console.print(
        f"shop: price {product.price if product.price is not None else '?'}, "
        f"stock {product.stock if product.stock is not None else '?'}"
        + (f", category {category_label(upsert.category_path)}" if upsert else "")
        + (f", EAN {upsert.ean}" if upsert and upsert.ean else "")
    )
    table = output.table("account", "status", "offer", "price", "why / what to do", title="Per account")
    colours = {"PUBLISHED": "green", "WAITING": "yellow", "FAILED": "red", "ENDED": "dim"}
    for link in state.links:
        why = [_reason(r) for r in link.reasons]
        why += [f"candidate {c.get('id')}: {c.get('name', '')}" for c in link.candidates]
        colour = colours.get(link.status.value, "white")
        table.add_row(
            link.account,
            f"[{colour}]{link.status.value}[/{colour}]",
            link.offer_id or "-",
            link.price or "-",
            "\n".join(why) or "-",
        )
    if state.links:
        console.print(table)
    else:
        console.print(
            "No seller account has processed it yet (is an account connected? is the worker running?)"
        )
    if history:
        log = output.table(
            "when", "account", "action", "offer", "what", "why", title="Latest changes on Allegro"
        )
        for change in history:
            log.add_row(
                change.at, change.account, change.action, change.offer_id, change.summary, change.reason
            )
        console.print(log)


def _reason(reason: str) -> str:
    """A shortening is a warning (the offer is live, but not all of the shop's text made it)."""
    if reason.startswith("shortened: "):
        return f"[yellow]warning, {escape(reason)}[/yellow]"
    return escape(reason)


def _status_json(state: ProductStatus, history: list[Change]) -> dict[str, Any]:
    product = state.product
    assert product is not None
    upsert = product.upsert
    return {
        "sku": product.sku,
        "name": upsert.name if upsert else None,
        "ean": upsert.ean if upsert else None,
        "category": category_label(upsert.category_path) if upsert else None,
        "price": product.price,
        "stock": product.stock,
        "deleted": product.deleted,
        "accounts": [
            {
                "account": link.account,
                "status": link.status.value,
                "offer_id": link.offer_id,
                "price": link.price or None,
                "reasons": [r for r in link.reasons if not r.startswith("shortened: ")],
                "warnings": [r for r in link.reasons if r.startswith("shortened: ")],
                "candidates": list(link.candidates),
            }
            for link in state.links
        ],
        "changes": [
            {
                "at": c.at,
                "account": c.account,
                "action": c.action,
                "offer_id": c.offer_id,
                "what": c.summary,
                "why": c.reason,
            }
            for c in history
        ],
    }


@products_app.command("link")
def link(
    sku: Annotated[str, typer.Argument(help="The shop SKU waiting for a choice of catalogue product.")],
    product_id: Annotated[
        str, typer.Argument(help="The Allegro catalogue product id (see products status).")
    ],
    account: AccountOption = None,
    stack: StackOption = None,
) -> None:
    """Choose the Allegro catalogue product when one EAN matched several; the product publishes with it."""
    app = _worker_application(stack)
    from allegro_sync.services.publishing import RetryLater

    if account is not None and account not in _accounts(app):
        _fail(f"account {account!r} is not connected")
    try:
        app.publisher().link_product(sku, product_id, account=account)
    except (ValueError, LookupError) as error:
        _fail(str(error))
    except RetryLater as error:
        _fail(f"Allegro is unavailable ({error}); the choice is stored, run the command again later")
    status(sku=sku, changes=1, stack=stack)
