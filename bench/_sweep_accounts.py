"""Read units of a reconciler run and a repricing sweep when several accounts sell the same SKUs (issue 21).

    .venv/bin/python -m bench._sweep_accounts [skus] [accounts]      (default 1,000 SKUs on 3 accounts)

Not part of `make bench` (its name starts with "_"): it checks what a run keeps across accounts (the
reconciler's ledger views, the repricer's product facts: `CatalogFacts.one_run`) by counting the keys of every
BatchGetItem on moto, with bench.sweeps' synthetic seller and seeding. Run it on main and on a branch to
compare; the soak (3 accounts) meters the same effect for bench.cost.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import boto3
import botocore.client
from moto import mock_aws

from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.dynamodb.repricing import CatalogFacts, DynamoRepricingStore
from allegro_sync.contracts.catalog import LinkStatus, OfferLink
from allegro_sync.domain.repricing import RepricingSettings, Strategy
from allegro_sync.services.reconcile import Reconciler
from allegro_sync.services.repricing import Repricer
from allegro_sync.services.repricing.sweep import reprice_accounts
from allegro_sync.services.stock import StockLedger
from bench import sweeps
from tests.fixtures.changes import FakeChangeLog

UNITS = {"BatchGetItem": 0.5, "GetItem": 1.0, "Query": 1.0}  # eventually consistent batches (bench.cost)


def main(argv: list[str]) -> None:
    skus = int(argv[0]) if argv else 1_000
    accounts = [f"shop{n}" for n in range(1, (int(argv[1]) if len(argv) > 1 else 3) + 1)]
    counted: Counter[str] = Counter()
    real = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "BatchGetItem":
            counted[operation] += sum(len(r["Keys"]) for r in params["RequestItems"].values())
        elif operation in UNITS:
            counted[operation] += 1
        return real(self, operation, params)

    with mock_aws():
        botocore.client.BaseClient._make_api_call = counting
        try:
            per_run = _runs(skus, accounts, counted)
        finally:
            botocore.client.BaseClient._make_api_call = real
    for sweep, reads in per_run.items():
        units = sum(n * UNITS[op] for op, n in reads.items())
        print(
            f"{sweep}: {dict(reads)} per run, ~{units:,.0f} read units "
            f"({skus:,} SKUs x {len(accounts)} accounts)"
        )


def _runs(skus: int, accounts: list[str], counted: Counter[str]) -> dict[str, Counter[str]]:
    dynamodb = boto3.resource("dynamodb", region_name=sweeps.REGION)
    mappings, control, catalog_table, ledger_table = sweeps.tables(
        dynamodb, "mappings", "control", "catalog", "ledger"
    )
    sweeps.seed_catalog(catalog_table, skus)
    sweeps.seed_ledger(ledger_table, skus)
    with catalog_table.batch_writer() as batch:
        links = DynamoCatalog(sweeps.Writer(batch))
        for n in range(skus):
            for account in accounts:
                links.save_link(
                    OfferLink(
                        f"SKU-{n:06}", account, LinkStatus.PUBLISHED, str(8_000_000_000 + n), price="9.99"
                    )
                )
    ledger = StockLedger(
        DynamoLedgerRepository("ledger", boto3.client("dynamodb", region_name=sweeps.REGION))
    )
    seller = sweeps.SyntheticSeller(skus)
    reconciler = Reconciler(
        ledger=ledger,
        clients=sweeps.Accounts(seller),
        propagator=sweeps.CountedRepairs(),  # type: ignore[arg-type]  # counted, not sent
        accounts=lambda: accounts,
    )
    counted.clear()
    reconciler.run(time_left=lambda: 10_000.0)
    found = {"reconciler": Counter(counted)}
    facts = CatalogFacts(
        DynamoCatalog(catalog_table),
        lambda sku: ledger.view(sku).available,
        lambda many: {k: v.available for k, v in ledger.views(many).items()},
    )
    store = DynamoRepricingStore(mappings, control)
    for account in accounts:
        store.put_settings(RepricingSettings(account=account, strategy=Strategy.DEMAND))  # every offer
    counted.clear()
    swept = reprice_accounts(
        Repricer(store, facts, FakeChangeLog()),
        dict.fromkeys(accounts, seller),  # type: ignore[arg-type]
        apply=False,
    )
    assert not swept.errors, swept.errors
    found["repricer"] = Counter(counted)
    return found


if __name__ == "__main__":
    main(sys.argv[1:])
