"""`allegro-sync listings ...`: titles and descriptions that sell, learned from the seller's own results.

- `listings keywords CATEGORY [--add W ...] [--remove W ...]`: the keyword table (lift of visits and sales
  per title word / parameter value), and the seller's own keyword list for the category.
- `listings review [--category C]`: proposals, biggest expected gain first, with reasons and description
  problems; stored so that `apply` pushes exactly what was shown.
- `listings apply OFFER_ID ...`: PATCH the reviewed title/description, recorded in the change log.
- `listings experiment start --share 0.5 --category C` / `listings experiment report [ID]`: A/B on titles.

Where the deployment lives: as every operator command (cli/deployment.py: env, stack outputs, local runtime).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.bootstrap import Application
from allegro_sync.cli import deployment, output
from allegro_sync.cli.deployment import StackOption
from allegro_sync.cli.output import fail as _fail
from allegro_sync.contracts.listings import Proposal
from allegro_sync.services.listings import ExperimentReport, ListingOptimizer

listings_app = typer.Typer(help="Listing optimization: keywords, title and description proposals, A/B tests.")
experiment_app = typer.Typer(help="A/B experiments on titles.", no_args_is_help=True)
listings_app.add_typer(experiment_app, name="experiment")

AccountOption = Annotated[str | None, typer.Option(help="Seller account (default: the first connected).")]


def register(app: typer.Typer) -> None:
    app.add_typer(listings_app, name="listings", no_args_is_help=True)


def _optimizer(app: Application) -> ListingOptimizer:
    return app.listing_optimizer()


def _application(stack: str | None) -> Application:
    """The deployment's application with the CLI's own small Allegro budget (a review reads every offer
    once; far below Allegro's limit for the Client ID)."""
    return deployment.application(stack)


def _client(app: Application, account: str | None) -> tuple[str, AllegroClient]:
    """A client for `account` (or the first connected one)."""
    names = [p.name for p in app.connected_accounts()]
    if not names:
        _fail("no connected Allegro account: run allegro-sync accounts connect NAME first")
    if account is not None and account not in names:
        _fail(f"account {account!r} is not connected (connected: {', '.join(names)})")
    chosen = account or names[0]
    return chosen, app.allegro(chosen)


@listings_app.command("keywords")
def keywords(
    category: Annotated[str, typer.Argument(help="Allegro category id.")],
    *,
    add: Annotated[list[str] | None, typer.Option("--add", help="Add a word to the seller's list.")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="Remove a word from the list.")] = None,
    min_support: Annotated[int, typer.Option(help="Offers a term must appear in to be scored.")] = 3,
    account: AccountOption = None,
    stack: StackOption = None,
    as_json: output.JsonOption = False,
) -> None:
    """Which title words and parameter values go with more visits and sales in CATEGORY."""
    if min_support < 1:
        _fail("--min-support must be at least 1")
    app = _application(stack)
    optimizer = _optimizer(app)
    if add or remove:
        words = [w for w in optimizer.store.keywords(category) if w not in (remove or [])]
        words += [w.strip() for w in add or [] if w.strip() and w.strip() not in words]
        optimizer.store.set_keywords(category, words)
        typer.echo(f"seller keywords for {category}: {', '.join(words) or '(none)'}")
    _, client = _client(app, account)
    with client:
        facts = optimizer.facts(client)
    scores = optimizer.keyword_scores(facts, min_support=min_support).get(category, [])
    offers = sum(1 for f in facts if f.sample.category_id == category)
    if as_json:
        terms = [asdict(s) | {"shown": s.shown, "expected_gain": s.expected_gain} for s in scores]
        output.print_json({"category": category, "offers": offers, "terms": terms})
        return
    table = output.table(title=f"Category {category}: {offers} offer(s), terms in >= {min_support} offers")
    for column in (
        "term",
        "kind",
        "offers",
        "visits with/without",
        "sold with/without",
        "lift v",
        "lift s",
        "gain",
    ):
        table.add_column(column, justify="left" if column in ("term", "kind") else "right")
    for s in scores:
        table.add_row(
            s.shown + (" *" if s.seller_listed else ""),
            s.kind,
            f"{s.support}/{s.support + s.others}",
            f"{s.visits_with:.0f} / {s.visits_without:.0f}",
            f"{s.sold_with:.1f} / {s.sold_without:.1f}",
            f"{s.visit_lift:.2f}",
            f"{s.sales_lift:.2f}",
            f"{s.expected_gain:+.0%}",
        )
    console = Console(width=160)
    console.print(table)
    console.print("* on the seller's keyword list. Method: docs/listing-optimization.md")


def render_proposals(proposals: list[Proposal], console: Console, title: str) -> None:
    table = output.table(title=title, show_lines=True)
    for column in ("offer", "current title", "proposed title", "gain", "why", "description"):
        table.add_column(column, overflow="fold")
    for p in proposals:
        table.add_row(
            p.offer_id,
            p.current_title,
            p.proposed_title if p.title_changed else "(keep)",
            f"{p.expected_gain:+.0%}",
            "\n".join(p.reasons) or "-",
            ("\n".join(p.issues) + "\n=> rewritten") if p.description else "ok",
        )
    console.print(table)


@listings_app.command("review")
def review(
    *,
    category: Annotated[str | None, typer.Option(help="Only this Allegro category id.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many proposals.")] = 20,
    account: AccountOption = None,
    stack: StackOption = None,
    as_json: output.JsonOption = False,
) -> None:
    """Offers with the biggest expected gain: current vs proposed title, why, description problems."""
    app = _application(stack)
    optimizer = _optimizer(app)
    name, client = _client(app, account)
    with client:
        proposals = optimizer.review(name, client, category=category)
    if as_json:
        output.print_json([asdict(p) for p in proposals[:limit]])
        return
    render_proposals(proposals[:limit], Console(width=200), f"{name}: {len(proposals)} proposal(s)")
    if proposals:
        typer.echo("apply with: allegro-sync listings apply OFFER_ID [--title-only | --description-only]")


@listings_app.command("apply")
def apply(
    offer_ids: Annotated[list[str], typer.Argument(help="Offer ids from `listings review`.")],
    *,
    title_only: Annotated[bool, typer.Option("--title-only", help="Change only the title.")] = False,
    description_only: Annotated[
        bool, typer.Option("--description-only", help="Only the description.")
    ] = False,
    account: AccountOption = None,
    stack: StackOption = None,
) -> None:
    """Push reviewed proposals to Allegro (PATCH name/description); each is recorded in the change log."""
    if title_only and description_only:
        _fail("--title-only and --description-only exclude each other")
    app = _application(stack)
    optimizer = _optimizer(app)
    name, client = _client(app, account)
    failed = 0
    with client:
        for offer_id in offer_ids:
            try:
                change = optimizer.apply(
                    name, client, offer_id, title=not description_only, description=not title_only
                )
            except (LookupError, ValueError) as error:
                typer.secho(f"{offer_id}: {error}", err=True, fg=typer.colors.RED)
                failed += 1
                continue
            typer.echo(f"{offer_id}: changed {', '.join(change.changes)} ({change.rule})")
    if failed:
        raise typer.Exit(1)


@experiment_app.command("start")
def experiment_start(
    *,
    category: Annotated[str, typer.Option(help="Allegro category id.")],
    share: Annotated[float, typer.Option(help="Share of offers whose title changes (0..1).")] = 0.5,
    account: AccountOption = None,
    stack: StackOption = None,
) -> None:
    """Change the titles of a deterministic share of the category's offers; the rest is the control."""
    if not 0 < share < 1:
        _fail("--share must be between 0 and 1 (exclusive)")
    app = _application(stack)
    optimizer = _optimizer(app)
    name, client = _client(app, account)
    with client:
        try:
            experiment, changes = optimizer.start_experiment(name, client, category=category, share=share)
        except ValueError as error:
            _fail(str(error))
    typer.echo(
        f"experiment {experiment.experiment_id}: {len(changes)} title(s) changed, "
        f"{len(experiment.control)} offer(s) kept as control; report with "
        f"allegro-sync listings experiment report {experiment.experiment_id}"
    )


def render_report(report: ExperimentReport, console: Console) -> None:
    e = report.experiment
    table = output.table(
        title=f"Experiment {e.experiment_id} ({e.account}, category {e.category_id}), {report.days:.1f} days"
    )
    for column in ("group", "offers", "visits gained per offer"):
        table.add_column(column)
    table.add_row("changed titles", str(report.treatment_offers), f"{report.treatment_gain:.1f}")
    table.add_row("unchanged (control)", str(report.control_offers), f"{report.control_gain:.1f}")
    console.print(table)
    relative = f" ({report.difference / report.control_gain:+.0%})" if report.control_gain else ""
    console.print(f"difference: {report.difference:+.1f} visits per offer{relative}")


@experiment_app.command("report")
def experiment_report(
    experiment_id: Annotated[str | None, typer.Argument(help="Experiment id (default: the latest).")] = None,
    *,
    stack: StackOption = None,
    as_json: output.JsonOption = False,
) -> None:
    """Visits gained since the start: offers with changed titles vs the control group."""
    app = _application(stack)
    optimizer = _optimizer(app)
    if experiment_id is None:
        started = sorted(optimizer.store.experiments(), key=lambda e: e.started_at)
        if not started:
            _fail("no experiment has been started")
        experiment_id = started[-1].experiment_id
    found = optimizer.store.experiment(experiment_id)
    if found is None:
        _fail(f"no experiment {experiment_id!r}")
    _, client = _client(app, found.account)
    with client:
        report = optimizer.report(client, experiment_id)
    if as_json:
        output.print_json(asdict(report))
        return
    render_report(report, Console(width=160))
