"""Stock ledger throughput: pure-domain decisions/second and apply_sale operations/second on moto.

- domain: one full decision cycle (shop level -> sale -> shop acknowledgement -> what each offer shows) on a
  SKU holding a few open sales and three linked offers;
- moto in-process: `StockLedger.apply_sale` end to end (2 consistent reads + 1 TransactWriteItems), for new
  sales and for redeliveries of sales already applied (2 reads, no write). moto is far slower than
  DynamoDB (and deep-copies the whole table on every transaction, so it slows as the table grows): this
  bounds our code's overhead plus moto's, not production latency.

Run: .venv/bin/python -m bench.ledger_throughput [decisions] [sales]   (defaults 20000 and 100)
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta

from allegro_sync.domain import ledger as dom
from allegro_sync.domain.ledger import LedgerPolicy, OfferLink, Sale, ShopLevel, SkuLedger
from bench._results import record

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Rate:
    """Operations per wall-clock second and per CPU second (the latter survives a busy shared machine)."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.figures: dict[str, int] = {}

    def of(self, operations: int) -> str:
        wall = operations / (time.perf_counter() - self.wall)
        cpu = operations / max(time.process_time() - self.cpu, 1e-9)
        self.figures = {"wall_per_s": round(wall), "cpu_per_s": round(cpu)}
        return f"{wall:,.0f}/s wall, {cpu:,.0f}/s per CPU second"


def domain_decisions_per_second(cycles: int) -> tuple[str, dict[str, int]]:
    policy = LedgerPolicy()
    ledger = SkuLedger("SKU-1")
    for offer, account, cap in (("A", "main", None), ("B", "second", 3), ("C", "third", None)):
        ledger = dom.link_offer(ledger, OfferLink(offer, account, cap))
    for n in range(4):  # open sales the shop has not acknowledged
        ledger = dom.add_sale(ledger, Sale(f"open-{n}:1", "SKU-1", 1, T0, "main"))
    rate = Rate()
    for n in range(cycles):
        t = T0 + timedelta(seconds=n)
        _, ledger = dom.apply_level(ledger, ShopLevel(1000, t, n), policy)
        ledger = dom.add_sale(ledger, Sale(f"cf-{n}:1", "SKU-1", 1, t, "main"))
        ledger = dom.acknowledge_sale(ledger, f"cf-{n}:1", t, n + 1, policy)
        dom.view(ledger, policy)
    return rate.of(4 * cycles), rate.figures


def moto_apply_sale_per_second(sales: int) -> tuple[tuple[str, dict[str, int]], tuple[str, dict[str, int]]]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }.items():
        os.environ.setdefault(key, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
    from allegro_sync.services.stock import StockLedger
    from tests.fixtures.ledger import create_ledger_table

    with mock_aws():
        stock = StockLedger(DynamoLedgerRepository(create_ledger_table("ledger-bench")))
        skus = [f"SKU-{n}" for n in range(10)]
        for sku in skus:
            stock.apply_shop_level(sku, 1_000_000, T0)
        batch = [Sale(f"cf-{n}:1", skus[n % 10], 1, T0, "main") for n in range(sales)]
        rate = Rate()
        for sale in batch:
            stock.apply_sale(sale)
        new_rate = rate.of(sales), rate.figures
        rate = Rate()
        for sale in batch:
            stock.apply_sale(sale)
        duplicate_rate = rate.of(sales), rate.figures
        expected = 1_000_000 - sales // 10
        assert stock.view("SKU-0").available == expected, "bench run applied sales wrongly"
    return new_rate, duplicate_rate


def main() -> None:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    sales = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    decisions = domain_decisions_per_second(cycles)
    print(f"domain decisions (level, sale, ack, view; 3 offers): {decisions[0]}")
    new_rate, duplicate_rate = moto_apply_sale_per_second(sales)
    print(f"apply_sale on moto in-process, new sales:  {new_rate[0]}")
    print(f"apply_sale on moto in-process, duplicates: {duplicate_rate[0]}")
    record(
        "ledger_throughput",
        {
            "domain_decisions": decisions[1],
            "apply_sale_new": new_rate[1],
            "apply_sale_duplicate": duplicate_rate[1],
        },
    )


if __name__ == "__main__":
    main()
