"""`allegro-sync prices ...` and `allegro-sync reprice ...`: the seller's view of repricing.

- `prices rules set|list|remove`: the pricing rules that turn a shop price into an Allegro price (markup,
  rounding to an ending, bounds), per account and Allegro category; setting one publishes the products that
  waited for a price.
- `prices why OFFER|SKU`: every price change the repricer made, old -> new, strategy, bound, reasons.
- `prices configure FILE.json`: store repricing settings (a list of objects, see docs/repricing.md); the whole
  file is checked first, so one bad entry changes nothing. `prices settings` lists them.
- `reprice --dry-run [--account A]`: the plan of one round as a table (without --dry-run: apply it).
- `reprice simulate HISTORY.csv --cost C --price P`: replay a history of competitor prices (CSV `date, sku,
  competitor, price`) through the same domain, offline, and show the price path and margin per day.

Where the deployment lives: cli/deployment.py, as the `repricer` function sees it (its `TABLE_MAPPINGS`,
`TABLE_CONTROL`, `TABLE_CATALOG`, `TABLE_CHANGES`, `SECRET_*`; else the stack's outputs; else, with
`AWS_ENDPOINT_URL` set, the local runtime).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import TypeAdapter, ValidationError
from rich.console import Console

from allegro_sync.bootstrap import Application
from allegro_sync.cli import deployment, output
from allegro_sync.contracts.catalog import Change
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from allegro_sync.domain.repricing import (
    Action,
    CompetitorPrice,
    LinearFee,
    OfferInput,
    RepriceDecision,
    RepricingSettings,
    decide,
)

FUNCTION = "repricer"
prices_app = typer.Typer(
    help="Repricing: why a price changed, and the seller's settings.", no_args_is_help=True
)
reprice_app = typer.Typer(help="Run or simulate a repricing round.", invoke_without_command=True)
StackOption = Annotated[str | None, typer.Option(help="CloudFormation stack name (env ALLEGRO_SYNC_STACK).")]
SETTINGS_LIST: TypeAdapter[list[RepricingSettings]] = TypeAdapter(list[RepricingSettings])


rules_app = typer.Typer(
    help="Pricing rules: shop price -> Allegro price (markup, rounding, bounds) per account and category.",
    no_args_is_help=True,
)
prices_app.add_typer(rules_app, name="rules")
RuleAccountOption = Annotated[
    str | None, typer.Option(help="Only this seller account (default: every account).")
]
RuleCategoryOption = Annotated[
    str | None, typer.Option(help="Only this Allegro category id and its subcategories (default: every one).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(prices_app, name="prices")
    app.add_typer(reprice_app, name="reprice")


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def _application(stack: str | None, *, allegro: bool = False) -> Application:
    """The deployment as the repricer sees it; its secrets are needed only by commands that call Allegro."""
    needed = None if allegro else deployment.function_variables(FUNCTION, secrets=False)
    return deployment.application(stack, function=FUNCTION, needed=needed)


# --- prices -----------------------------------------------------------------------------------------------


@prices_app.command("why")
def why(
    key: Annotated[str, typer.Argument(help="An Allegro offer id or a SKU.")],
    stack: StackOption = None,
    as_json: output.JsonOption = False,
) -> None:
    """Every price change the repricer made for this offer or SKU, newest first, with its reasons."""
    history = _application(stack).repricer().why(key)
    if as_json:
        output.print_json(
            [
                {
                    "at": c.at,
                    "account": c.account,
                    "offer_id": c.offer_id,
                    "what": _what(c),
                    "rule": c.rule,
                    "why": c.reason,
                    "details": c.changes.get("repricing", {}).get("new"),
                }
                for c in history
            ]
        )
        return
    if not history:
        _fail(f"no repricing changes recorded for {key!r}")
    console = Console(width=180)
    table = output.table(title=f"Price changes for {key}")
    for column in ("when", "account", "offer", "change", "rule", "bound", "why"):
        table.add_column(column, overflow="fold")
    for change in history:
        detail = change.changes.get("repricing", {}).get("new") or {}
        table.add_row(
            change.at,
            change.account,
            change.offer_id,
            _what(change),
            change.rule,
            str(detail.get("bound") or "-"),
            change.reason,
        )
    console.print(table)


def _what(change: Change) -> str:
    if change.action == "price_wait":
        return "held, waiting for sales history"
    campaign = change.changes.get("campaign")  # issue 14: an Allegro campaign took the price over, or let go
    if campaign:
        return f"campaign: {campaign.get('new') or 'ended'}"
    return change.summary or "-"


@prices_app.command("configure")
def configure(
    file: Annotated[Path, typer.Argument(help="JSON: a list of repricing settings objects.", exists=True)],
    stack: StackOption = None,
) -> None:
    """Store repricing settings; every entry is validated before anything is written."""
    try:
        entries = SETTINGS_LIST.validate_json(file.read_bytes())
    except ValidationError as error:
        _fail(f"{file}: {error}")
    scopes = [e.scope for e in entries]
    duplicates = sorted({s for s in scopes if scopes.count(s) > 1})
    if duplicates:
        _fail(f"{file}: more than one entry for scope(s) {', '.join(duplicates)}")
    store = _application(stack).repricing_store()
    for entry in entries:
        store.put_settings(entry)
    typer.echo(f"stored {len(entries)} repricing setting(s): {', '.join(scopes)}")


@prices_app.command("settings")
def list_settings(stack: StackOption = None, as_json: output.JsonOption = False) -> None:
    """The stored repricing settings (scope account#category#sku, * = any)."""
    entries = _application(stack).repricing_store().settings()
    if as_json:
        output.print_json(
            [{"scope": e.scope, **e.model_dump(mode="json", exclude_defaults=True)} for e in entries]
        )
        return
    for entry in entries:
        typer.echo(f"{entry.scope}: {entry.model_dump_json(exclude_defaults=True)}")


# --- prices rules ----------------------------------------------------------------------------------------


def _scope(account: str | None, category: str | None) -> str:
    return f"account {account or '* (every account)'}, category {category or '* (every category)'}"


def _rules_application(stack: str | None) -> Application:
    """The catalog worker's view: it reads the rules, and its Publisher publishes what waited for one."""
    return deployment.application(stack, function="catalog_worker", rpm_budget=None)


@rules_app.command("set")
def set_rule(
    *,
    account: RuleAccountOption = None,
    category: RuleCategoryOption = None,
    name: Annotated[str | None, typer.Option(help="A name shown in every price explanation.")] = None,
    markup_percent: Annotated[
        str, typer.Option(help="Percent added to the shop price (-10 lowers it).")
    ] = "0",
    markup_amount: Annotated[
        str, typer.Option(help="Amount added after the percentage, in the currency.")
    ] = "0",
    ending: Annotated[
        list[str] | None, typer.Option(help="Allowed cents, e.g. 0.99 (repeatable; none = no rounding).")
    ] = None,
    rounding: Annotated[str, typer.Option(help="Which allowed ending to take: up, down or nearest.")] = "up",
    min_price: Annotated[str | None, typer.Option(help="Never below this price.")] = None,
    max_price: Annotated[str | None, typer.Option(help="Never above this price.")] = None,
    min_margin_percent: Annotated[
        str | None, typer.Option(help="Never below cost price plus this margin (needs the product's cost).")
    ] = None,
    currency: Annotated[str, typer.Option(help="PLN, CZK, EUR or HUF.")] = "PLN",
    publish: Annotated[bool, typer.Option(help="Publish the products that waited for a price now.")] = True,
    stack: StackOption = None,
) -> None:
    """Create or replace the pricing rule of one scope; products that waited for a price publish at once."""
    fields = {
        "name": name or (f"{account or 'all'}/{category or 'all'}"),
        "markup_percent": markup_percent,
        "markup_amount": markup_amount,
        "endings": tuple(ending or ()),
        "rounding": rounding,
        "min_price": min_price,
        "max_price": max_price,
        "min_margin_percent": min_margin_percent,
        "currency": currency,
    }
    try:
        rule = PricingRule.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as error:
        problems = "; ".join(_option_error(e["loc"], e["msg"]) for e in error.errors())
        _fail(f"the rule is not valid, nothing stored: {problems}")
    app = _rules_application(stack)
    store = app.mappings()
    existing = store.pricing_rules()
    replaced = any(r.account_id == account and r.category_id == category for r in existing)
    store.put_pricing_rule(ScopedRule(account_id=account, category_id=category, rule=rule))
    verb = "Replaced the" if replaced else "Stored"
    typer.echo(f"{verb} pricing rule {rule.name!r} for {_scope(account, category)}: {describe_rule(rule)}.")
    narrower = [
        r
        for r in existing
        if (account is None and r.account_id is not None and r.category_id in (None, category))
        or (category is None and r.category_id is not None and r.account_id in (None, account))
    ]
    for other in narrower:
        typer.echo(
            f"note: the rule {other.rule.name!r} ({_scope(other.account_id, other.category_id)}) is more "
            "specific and still wins there."
        )
    if publish:
        from allegro_sync.cli.republish import publish_waiting, waiting_for_a_price

        accounts = [p.name for p in app.connected_accounts() if account in (None, p.name)]
        publish_waiting(
            app, accounts, Console(width=160), title="Pricing rule", needs_retry=waiting_for_a_price
        )


def _option_error(loc: tuple[int | str, ...], message: str) -> str:
    """A rule's validation error under the option the seller typed (`endings` is `--ending`)."""
    if not loc:
        return message
    option = {"endings": "ending"}.get(str(loc[0]), str(loc[0])).replace("_", "-")
    return f"--{option}: {message}"


def describe_rule(rule: PricingRule) -> str:
    """A rule in one line a seller reads: "+10% +0 PLN, ending .99 (up), min 10, max -"."""
    endings = "/".join(f".{str(e)[2:]}" for e in rule.endings) or "none"
    return (
        f"{rule.markup_percent:+}% {rule.markup_amount:+} {rule.currency}, "
        f"ending {endings} ({rule.rounding}), "
        f"min {rule.min_price or '-'}, max {rule.max_price or '-'}"
        + (f", margin over cost >= {rule.min_margin_percent}%" if rule.min_margin_percent is not None else "")
    )


@rules_app.command("list")
def list_rules(stack: StackOption = None, as_json: output.JsonOption = False) -> None:
    """Every pricing rule: scope, markup, rounding, bounds (the most specific rule wins for an offer)."""
    rules = _rules_application(stack).mappings().pricing_rules()
    if as_json:
        output.print_json(
            [
                {"account": r.account_id, "category": r.category_id, **r.rule.model_dump(mode="json")}
                for r in sorted(rules, key=lambda r: (r.account_id or "", r.category_id or ""))
            ]
        )
        return
    if not rules:
        typer.echo(
            "No pricing rules: every product waits for a price. Add one: allegro-sync prices rules set "
            "--markup-percent 0"
        )
        return
    table = output.table(
        "account", "category", "name", "markup", "ending", "min", "max", "min margin",
        title="Pricing rules (most specific wins: account+category, category, account, default)",
    )  # fmt: skip
    for scoped in sorted(rules, key=lambda r: (r.account_id or "", r.category_id or "")):
        rule = scoped.rule
        table.add_row(
            scoped.account_id or "*",
            scoped.category_id or "*",
            rule.name,
            f"{rule.markup_percent:+}% {rule.markup_amount:+} {rule.currency}",
            ("/".join(f".{str(e)[2:]}" for e in rule.endings) or "-") + f" ({rule.rounding})",
            str(rule.min_price or "-"),
            str(rule.max_price or "-"),
            f"{rule.min_margin_percent}%" if rule.min_margin_percent is not None else "-",
        )
    Console(width=160).print(table)


@rules_app.command("remove")
def remove_rule(
    account: RuleAccountOption = None, category: RuleCategoryOption = None, stack: StackOption = None
) -> None:
    """Remove the rule of exactly this scope; says which accounts no rule covers any more."""
    store = _rules_application(stack).mappings()
    rules = store.pricing_rules()
    if not any(r.account_id == account and r.category_id == category for r in rules):
        _fail(f"no pricing rule for {_scope(account, category)}; see `allegro-sync prices rules list`")
    store.delete_pricing_rule(account, category)
    typer.echo(
        f"Removed the pricing rule for {_scope(account, category)}. Offers already listed keep their price."
    )
    left = [r for r in rules if not (r.account_id == account and r.category_id == category)]
    if not any(r.category_id is None and r.account_id in (None, account) for r in left):
        who = f"account {account}" if account else "accounts without their own rule"
        typer.secho(
            f"warning: no default rule covers {who} any more: new products there wait for a price "
            "until you add one (allegro-sync prices rules set).",
            fg=typer.colors.YELLOW,
        )


# --- reprice ----------------------------------------------------------------------------------------------


def render(decisions: list[RepriceDecision], console: Console, title: str) -> None:
    table = output.table(title=title)
    for column in ("account", "offer", "SKU", "strategy", "action", "now", "new", "floor", "ceiling", "why"):
        table.add_column(column, overflow="fold")
    for d in decisions:
        new = str(d.new_price) if d.new_price is not None else (d.rule_type or "-")
        table.add_row(
            d.account,
            d.offer_id,
            d.sku,
            d.strategy.value,
            d.action.value,
            str(d.old_price),
            new,
            str(d.floor or "-"),
            str(d.ceiling or "-"),
            "; ".join(d.steps),
        )
    console.print(table)


@reprice_app.callback()
def reprice(
    ctx: typer.Context,
    *,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan, change nothing.")] = False,
    account: Annotated[str | None, typer.Option(help="Only this connected account.")] = None,
    stack: StackOption = None,
) -> None:
    """One repricing round for every connected account (or one); --dry-run prints the plan only."""
    if ctx.invoked_subcommand is not None:
        return
    app = _application(stack, allegro=True)
    repricer = app.repricer()
    clients = {a: c for a, c in app.connected_clients().items() if account in (None, a)}
    if not clients:
        _fail("no connected account" + (f" named {account!r}" if account else ""))
    console = Console(width=200)
    for name, client in clients.items():
        report = repricer.run_account(name, client, apply=not dry_run)
        title = f"{name}: " + (
            "plan (dry run: nothing changed)" if dry_run else f"{report.applied} change(s) applied"
        )
        render(report.decisions, console, title)
        if report.breaker_tripped:
            console.print(f"[red]{report.breaker_reason}[/red]")
        if report.error:
            console.print(f"[yellow]{report.error}[/yellow]")
        for skipped in report.feed_skipped:
            console.print(f"feed {skipped}")


@reprice_app.command("simulate")
def simulate(
    history: Annotated[Path, typer.Argument(help="CSV: date, sku, competitor, price.", exists=True)],
    *,
    cost: Annotated[str, typer.Option(help="Cost price of the product.")],
    price: Annotated[str, typer.Option(help="Our price on the first day.")],
    list_price: Annotated[
        str | None, typer.Option(help="Ceiling when no seller maximum (default: price).")
    ] = None,
    settings_file: Annotated[
        Path | None, typer.Option("--settings", help="JSON object of repricing settings (strategy feed).")
    ] = None,
    fee_rate: Annotated[str, typer.Option(help="Allegro's commission rate for the category.")] = "0.10",
    fee_fixed: Annotated[str, typer.Option(help="Allegro's fixed fee per sale.")] = "0.00",
    chart: Annotated[Path | None, typer.Option(help="Also draw the price path to this PNG file.")] = None,
) -> None:
    """Replay competitor prices day by day through the repricing domain; prints price and margin per day."""
    try:
        money = {
            k: Decimal(v)
            for k, v in {"cost": cost, "price": price, "fee_rate": fee_rate, "fee_fixed": fee_fixed}.items()
        }
        ceiling = Decimal(list_price) if list_price else money["price"]
    except InvalidOperation:
        _fail("cost, price, list price and fees must be numbers")
    try:
        raw = json.loads(settings_file.read_text()) if settings_file else {}
        settings = RepricingSettings.model_validate({"strategy": "feed", **raw})
    except (ValueError, ValidationError) as error:
        _fail(f"settings: {error}")
    days, skipped = _read_history(history)
    if not days:
        _fail(f"{history}: no usable rows ({len(skipped)} skipped)")
    fee = LinearFee(fixed=money["fee_fixed"], rate=money["fee_rate"])
    current: dict[str, Decimal] = defaultdict(lambda: money["price"])
    changed: dict[str, datetime] = {}
    table = output.table(
        title=f"Replay of {history.name} ({settings.feed_mode}, cool-down {settings.cooldown_minutes} min)"
    )
    for column in ("day", "SKU", "lowest rival", "price", "margin", "action", "why"):
        table.add_column(column, overflow="fold")
    series: dict[str, list[tuple[date, Decimal, Decimal | None, Decimal | None]]] = defaultdict(list)
    for day in sorted(days):
        when = datetime.combine(day, time(12), tzinfo=UTC)
        for sku, rivals in sorted(days[day].items()):
            offer = OfferInput(
                account="simulation",
                offer_id=sku,
                sku=sku,
                category_id=None,
                price=current[sku],
                cost=money["cost"],
                list_price=ceiling,
                last_changed_at=changed.get(sku),
                competitors=tuple(rivals),
            )
            d = decide(offer, settings, fee.at, when)
            if d.action is Action.SET_PRICE and d.new_price is not None:
                current[sku], changed[sku] = d.new_price, when
            shown = current[sku]
            margin = shown - money["cost"] - fee.at(shown)
            lowest = min((r.price for r in rivals), default=None)
            series[sku].append((day, shown, lowest, d.floor))
            table.add_row(
                str(day),
                sku,
                str(lowest or "-"),
                str(shown),
                f"{margin:.2f}",
                d.action.value,
                "; ".join(d.steps[1:]),
            )
    Console(width=200).print(table)
    for line in skipped:
        typer.echo(f"skipped {line}")
    if chart is not None:
        _draw(series, chart)
        typer.echo(f"chart written to {chart}")


def _draw(
    series: dict[str, list[tuple[date, Decimal, Decimal | None, Decimal | None]]], target: Path
) -> None:
    """Our price, the lowest rival and the floor per SKU over the days (matplotlib, no display needed)."""
    import matplotlib as mpl

    mpl.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(10, 5))
    for sku, points in sorted(series.items()):
        days = [p[0].isoformat() for p in points]
        axes.plot(days, [float(p[1]) for p in points], marker="o", label=f"{sku}: our price")
        axes.plot(
            days,
            [float(p[2]) if p[2] is not None else float("nan") for p in points],
            "--",
            label=f"{sku}: lowest rival",
        )
        axes.plot(
            days,
            [float(p[3]) if p[3] is not None else float("nan") for p in points],
            ":",
            label=f"{sku}: floor",
        )
    axes.set_ylabel("PLN")
    axes.legend()
    figure.autofmt_xdate()
    figure.savefig(target, dpi=100)
    plt.close(figure)


def _read_history(path: Path) -> tuple[dict[date, dict[str, list[CompetitorPrice]]], list[str]]:
    days: dict[date, dict[str, list[CompetitorPrice]]] = defaultdict(lambda: defaultdict(list))
    skipped: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            try:
                day = datetime.fromisoformat(str(row.get("date", "")).strip()).date()
                value = Decimal(str(row.get("price", "")).strip())
                sku, rival = str(row.get("sku") or "").strip(), str(row.get("competitor") or "").strip()
            except (ValueError, InvalidOperation):
                skipped.append(f"row {number}: date or price unreadable")
                continue
            if not sku or not rival or not value.is_finite() or value <= 0:
                skipped.append(f"row {number}: needs sku, competitor and a positive price")
                continue
            days[day][sku].append(CompetitorPrice(sku, rival, value))
    return days, skipped
