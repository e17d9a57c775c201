"""A first pricing rule for a newly connected account, so its products can publish (issues 18 and 20).

Without a rule covering the account every product waits with "no pricing rule covers account". A 1:1 rule
(the shop price is the Allegro price, no rounding) is the least surprising start; the seller is told that it
was created and how to change it. An account any rule already covers is left alone.
"""

from __future__ import annotations

import typer
from rich.console import Console

from allegro_sync.bootstrap import Application
from allegro_sync.cli import deployment
from allegro_sync.cli.republish import publish_waiting, waiting
from allegro_sync.domain.pricing import PricingError, PricingPolicy, PricingRule, ScopedRule

FUNCTION = "catalog_worker"  # it reads the rules and publishes


def offer(stack: str | None, account: str, *, publish: bool) -> None:
    """Create the 1:1 rule for `account` when none covers it; with `publish`, publish what waited for it."""
    try:
        settings = deployment.find_settings(stack, function=FUNCTION)
    except deployment.DeploymentNotFound as error:
        typer.echo(f"Pricing rules not checked ({error}). Products publish only under a pricing rule:")
        typer.echo(f"  allegro-sync prices rules set --account {account} --markup-percent 0")
        return
    app = Application(settings)
    rules = app.mappings().pricing_rules()
    try:
        PricingPolicy(rules=tuple(rules)).rule_for(account, ())
    except PricingError:
        rule = PricingRule(name="1:1")
        # The default scope, not the account's: a later `prices rules set` without --account replaces it,
        # instead of being silently outranked by a rule the seller never wrote.
        app.mappings().put_pricing_rule(ScopedRule(rule=rule))
        typer.echo(
            f"No pricing rule covered {account}: created the default rule {rule.name!r} for every account "
            "(Allegro price = shop price, no rounding). Change it with e.g.\n"
            "  allegro-sync prices rules set --markup-percent 10 --ending 0.99"
            f"      (or --account {account} for this account only)"
        )
    if publish:
        publish_waiting(
            app, [account], Console(width=160), title=f"Catalogue on {account}", needs_retry=waiting
        )
