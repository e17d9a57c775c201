"""`allegro-sync markets set|list|remove`: which foreign marketplaces (allegro.cz, .sk, .hu) offers go to,
and at which price (issue 16, item 1; docs/marketplaces.md).

`markets set allegro-cz --rate 5.6 [--markup-percent 3] [--min-price 50] [--max-price 9000] [--account A]
[--category ID | --sku SKU]` stores a rule in the `mappings` table; `--allegro-rate` leaves the price to
Allegro's own exchange-rate conversion instead; `--off` keeps a narrower scope off a marketplace a wider one
turns on. The offers the rule covers are published again at once, so their marketplace prices follow.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer
from pydantic import ValidationError

from allegro_sync.cli import catalog_cmd, deployment, output
from allegro_sync.cli.deployment import StackOption
from allegro_sync.cli.producers_cmd import AccountOption
from allegro_sync.cli.republish import publish_waiting
from allegro_sync.contracts.catalog import OfferLink
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.domain.market_pricing import CURRENCY_OF, MarketRule, ScopedMarketRule

markets_app = typer.Typer(
    help="Foreign marketplaces: allegro.cz, .sk and .hu from the same offers.", no_args_is_help=True
)
CategoryOption = Annotated[
    str | None, typer.Option(help="Only this Allegro category id and its subcategories.")
]
SkuOption = Annotated[str | None, typer.Option(help="Only this product (SKU).")]


def register(app: typer.Typer) -> None:
    app.add_typer(markets_app, name="markets")


@markets_app.command("set")
def set_market(
    *,
    marketplace: Annotated[str, typer.Argument(help="allegro-cz, allegro-sk or allegro-hu.")],
    rate: Annotated[str | None, typer.Option(help="How much of the marketplace's currency 1 PLN is.")] = None,
    allegro_rate: Annotated[
        bool, typer.Option(help="Let Allegro convert the PLN price (its price converter, ECB rate).")
    ] = False,
    off: Annotated[bool, typer.Option(help="Do not sell this scope on the marketplace.")] = False,
    markup_percent: Annotated[str, typer.Option(help="Percent added after the conversion.")] = "0",
    ending: Annotated[
        list[str] | None,
        typer.Option(help="Allowed cents after conversion, e.g. 0.99 (CZK/HUF: whole units)."),
    ] = None,
    rounding: Annotated[str, typer.Option(help="Which allowed ending to take: up, down or nearest.")] = "up",
    min_price: Annotated[
        str | None, typer.Option(help="Never below this, in the marketplace's currency.")
    ] = None,
    max_price: Annotated[
        str | None, typer.Option(help="Never above this, in the marketplace's currency.")
    ] = None,
    account: AccountOption = None,
    category: CategoryOption = None,
    sku: SkuOption = None,
    publish: Annotated[bool, typer.Option(help="Publish the covered products again now.")] = True,
    stack: StackOption = None,
) -> None:
    """Sell a scope (every offer, an account, a category or a SKU) on MARKETPLACE at a converted price."""
    if marketplace not in CURRENCY_OF:
        output.fail(f"unknown marketplace {marketplace!r}: use one of {', '.join(CURRENCY_OF)}")
    if category and sku:
        output.fail("give --category or --sku, not both")
    try:
        pricing = {
            "name": f"{marketplace} {account or 'all'}/{sku or category or 'all'}",
            "markup_percent": markup_percent,
            "endings": tuple(ending or ()),
            "rounding": rounding,
            "min_price": min_price,
            "max_price": max_price,
            "currency": CURRENCY_OF[marketplace],
        }
        rule = MarketRule.model_validate(
            {
                "marketplace": marketplace,
                "enabled": not off,
                "exchange": "allegro" if allegro_rate else "own",
                "rate": Decimal(rate) if rate is not None else None,
                "pricing": {k: v for k, v in pricing.items() if v is not None},
            }
        )
    except (ValidationError, ArithmeticError) as error:
        output.fail(f"the marketplace rule is not valid, nothing stored: {error}")
    scoped = ScopedMarketRule(account_id=account, category_id=category, sku=sku, rule=rule)
    app = deployment.application(stack)
    app.market_rules().put_market_rule(scoped)
    _print([scoped], title="Stored")
    if publish:
        worker = deployment.application(
            stack, function="catalog_worker", rpm_budget=None, now=catalog_cmd.now, sleep=catalog_cmd.sleep
        )
        accounts = [p.name for p in worker.connected_accounts() if account in (None, p.name)]

        def covered(product: ProductUpsert, link: OfferLink | None) -> bool:
            return sku in (None, product.sku)

        publish_waiting(worker, accounts, catalog_cmd.console, title=f"{marketplace}", needs_retry=covered)


@markets_app.command("list")
def list_markets(stack: StackOption = None, as_json: output.JsonOption = False) -> None:
    """Every marketplace rule (per marketplace the most specific wins: SKU, category, account, default)."""
    rules = sorted(deployment.application(stack).market_rules().market_rules(), key=lambda r: r.key)
    if as_json:
        output.print_json([r.model_dump(mode="json") for r in rules])
        return
    if not rules:
        typer.echo("No marketplace rules: offers sell on allegro.pl only. Add one: allegro-sync markets set")
        return
    _print(rules, title="Foreign marketplaces")


@markets_app.command("remove")
def remove_market(
    marketplace: Annotated[str, typer.Argument(help="allegro-cz, allegro-sk or allegro-hu.")],
    account: AccountOption = None,
    category: CategoryOption = None,
    sku: SkuOption = None,
    stack: StackOption = None,
) -> None:
    """Forget the rule of exactly this scope (offers keep their marketplace prices until the next change)."""
    key = (account or "*", category or "*", sku or "*", marketplace)
    if not deployment.application(stack).market_rules().delete_market_rule(key):
        output.fail(f"no {marketplace} rule for that scope; see `allegro-sync markets list`")
    typer.echo(f"Removed the {marketplace} rule for account {key[0]}, category {key[1]}, SKU {key[2]}.")


def _print(rules: list[ScopedMarketRule], *, title: str) -> None:
    output.print_table(
        title,
        ("marketplace", "account", "category", "sku", "price", "markup", "ending", "min", "max"),
        [
            (
                r.rule.marketplace,
                r.account_id or "*",
                r.category_id or "*",
                r.sku or "*",
                "off"
                if not r.rule.enabled
                else "Allegro's rate"
                if r.rule.exchange == "allegro"
                else f"1 PLN = {r.rule.rate} {r.rule.pricing.currency}",
                f"{r.rule.pricing.markup_percent:+}%",
                "/".join(f".{str(e)[2:]}" for e in r.rule.pricing.endings) or "-",
                str(r.rule.pricing.min_price or "-"),
                str(r.rule.pricing.max_price or "-"),
            )
            for r in rules
        ],
    )
