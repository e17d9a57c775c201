"""Publish the catalogue products a seller's change just unblocked, with the catalog worker's Publisher.

A WAITING product is not retried on its own: it waits for the next shop event. So every command that removes
a reason to wait (a mapping approved, a pricing rule set, an account connected) re-drives the products it
covers here, and the seller sees at once which of them published and why the others still wait.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console

from allegro_sync.bootstrap import Application
from allegro_sync.cli import output
from allegro_sync.contracts.catalog import LinkStatus, OfferLink
from allegro_sync.contracts.messages import ProductUpsert

# Whether a product's link on an account (None: never processed there) should be published again.
NeedsRetry = Callable[[ProductUpsert, OfferLink | None], bool]


def waiting(_: ProductUpsert, link: OfferLink | None) -> bool:
    """Not on Allegro yet on this account: never processed there, or WAITING for any reason."""
    return link is None or link.status is LinkStatus.WAITING


def waiting_for_a_price(_: ProductUpsert, link: OfferLink | None) -> bool:
    """Never processed on the account, or WAITING because no pricing rule gave it a price."""
    return link is None or (
        link.status is LinkStatus.WAITING and any("pricing rule" in reason for reason in link.reasons)
    )


def publish_waiting(
    app: Application,
    accounts: Sequence[str],
    console: Console,
    *,
    title: str,
    needs_retry: NeedsRetry = waiting,
) -> int:
    """Republish every catalogue product `needs_retry` picks on `accounts`; prints the outcome and answers
    how many were tried. `app`: the catalog worker's view (its tables and its Allegro budget)."""
    from allegro_sync.adapters.dynamodb.catalog_import import catalog_products
    from allegro_sync.services.publishing import RetryLater

    catalog = app.catalog()
    todo = []
    for product in catalog_products(app.table("catalog")) if accounts else []:
        links = {link.account: link for link in catalog.status(product.sku).links}
        if any(needs_retry(product, links.get(a)) for a in accounts):
            todo.append(product.sku)
    if not todo:
        console.print(f"{title}: no waiting products to publish.")
        return 0
    publisher = app.publisher()
    table = output.table(
        "SKU",
        "account",
        "status",
        "offer / why",
        title=f"{title}: {len(todo)} waiting product(s) published again",
    )
    for sku in todo:
        try:
            publisher.republish(sku, accounts=list(accounts))
        except RetryLater as error:
            table.add_row(
                sku, ", ".join(error.failures), "RETRY", "Allegro unavailable: run the command again"
            )
            continue
        for link in catalog.status(sku).links:
            if link.account in accounts:
                why = link.offer_id if link.status is LinkStatus.PUBLISHED else "\n".join(link.reasons)
                table.add_row(sku, link.account, link.status.value, why or "-")
    console.print(table)
    return len(todo)
