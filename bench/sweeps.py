"""The three sweeps at 1,000 / 10,000 / 100,000 SKUs: calls per run, modelled duration against the timeout,
peak memory, and the figures before issue 21.

    .venv/bin/python -m bench.sweeps [sweeps...] [sizes...]   (default: all three; their MEASURED sizes)

Each sweep runs the real use case with the adapters its Lambda gets, on moto in-process (`mock_aws`), against
a synthetic seller with N offers (one per SKU) answered in memory as Allegro's JSON would be parsed:
- reconciler: one account, every offer in the ledger, 0.1 % of them drifted (a hand-edited stock), so the
  strongly consistent re-read and the repair path run too (repairs are counted, not sent);
- repricer: a round's reads with an account-wide rule, so every offer is repriced (the worst case: an offer
  without a rule costs no catalogue read): settings, states, the account's active offers page by page, their
  catalogue facts and ledger stock, fee previews; planned as a dry run, so its commands (bounded by
  MAX_COMMANDS_PER_ROUND, 300 rpm) are added to the model, not run. A run pages with the time budget and
  saved cursor of `services/repricing/sweep.py`, so "runs" is how many runs one cycle takes;
- order gap scan: a 15-minute window of checkout forms, one per 100 SKUs (1,000 orders a day at 10,000).

Modelled duration = our own CPU time here (wall minus moto's time) + each AWS call at a real DynamoDB
latency + each Allegro call at a real Allegro latency (the constants below; a 1000-offer listing page is
large and slow). Peak memory is tracemalloc's peak during the run above what was allocated before it (moto's
tables are allocated before), plus the Lambda runtime's own baseline; the topology's memory for each
function is chosen from these figures.
"""

from __future__ import annotations

import io
import math
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from moto import mock_aws

from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository, ledger_item
from allegro_sync.adapters.dynamodb.orders import DynamoOrderCursors, DynamoOrderRepository
from allegro_sync.adapters.dynamodb.repricing import CatalogFacts, DynamoRepricingStore
from allegro_sync.adapters.dynamodb.sweep_cursor import DynamoSweepCursor
from allegro_sync.contracts.allegro import CheckoutForm, FeePreview, Me, OfferListing, OffersPage
from allegro_sync.contracts.catalog import LinkStatus, OfferLink, StoredProduct
from allegro_sync.contracts.messages import OrderNotice, ProductUpsert
from allegro_sync.domain.ledger import OfferLink as LedgerLink
from allegro_sync.domain.ledger import ShopLevel, SkuLedger
from allegro_sync.domain.orders import OrderRecord
from allegro_sync.domain.repricing import RepricingSettings, Strategy
from allegro_sync.local.provision import create_table
from allegro_sync.services.orders.polling import GapScanner
from allegro_sync.services.propagation import PropagationReport
from allegro_sync.services.propagation_plan import Push
from allegro_sync.services.reconcile import Reconciler
from allegro_sync.services.repricing import MAX_COMMANDS_PER_ROUND, Repricer
from allegro_sync.services.stock import StockLedger
from allegro_sync.topology import TOPOLOGY
from bench._aws import AwsCalls
from bench._results import load_all, record
from tests.fixtures.changes import FakeChangeLog

REGION = "eu-central-1"
SIZES = (1_000, 10_000, 100_000)
# Real latencies the model puts in place of moto's and the in-memory Allegro's (assumptions, stated):
AWS_CALL_SECONDS = {"BatchGetItem": 0.025, "Query": 0.015}  # 100 keys / up to 1 MB a page
AWS_OTHER_CALL_SECONDS = 0.010  # GetItem, PutItem, ... inside the region (bench/cost.Assumptions)
ALLEGRO_PAGE_SECONDS = 1.0  # GET /sale/offers?limit=1000: ~1 MB of JSON
ALLEGRO_CALL_SECONDS = 0.150  # any other Allegro request
ALLEGRO_COMMAND_CALLS = 3  # a price or bulk command: PUT/POST + ~2 task polls (services/repricing)
REPRICER_RPM = TOPOLOGY.function("repricer").allegro_rpm
LAMBDA_BASELINE_MB = 90  # the Python runtime, boto3, pydantic, Powertools and our package once imported
DRIFT_EVERY = 1_000  # one offer in a thousand drifted (reconciler)
FORMS_PER_SKU = 0.01  # checkout forms updated in a 15-minute gap-scan window per SKU
# Before issue 21 (bench/REPORT.md of 2026-11-28 and the recount):
BEFORE = {
    "reconciler": "~385 s at 10,000 SKUs (a strongly consistent GetItem per offer), timeout 300 s",
    "repricer": "~2,700 s at 100,000 SKUs (3 strongly consistent GetItems per offer), timeout 600 s",
    "order_gap_scan": "a strongly consistent GetItem per checkout form",
}
BEFORE_CALLS_PER_SKU = {"reconciler": 1.0, "repricer": 3.0, "order_gap_scan": FORMS_PER_SKU}


# ---- a synthetic seller ------------------------------------------------------------------------------


def _listing(n: int, stock: int) -> dict[str, Any]:
    return {
        "id": str(7_000_000_000 + n),
        "name": f"Produkt testowy numer {n} z dość długą nazwą oferty",
        "external": {"id": f"SKU-{n:06}"},
        "category": {"id": str(100 + n % 50)},
        "sellingMode": {"format": "BUY_NOW", "price": {"amount": "129.99", "currency": "PLN"}},
        "stock": {"available": stock, "sold": n % 7},
        "stats": {"watchersCount": 1, "visitsCount": n % 100},
        "publication": {"status": "ACTIVE", "startedAt": "2026-10-01T10:00:00Z"},
    }


class SyntheticSeller:
    """One account's offers as Allegro's listing pages (parsed per page, as the real client does)."""

    def __init__(self, skus: int) -> None:
        self.skus = skus
        self.listing_pages = 0
        self.other_calls = 0

    def stock(self, n: int) -> int:
        return 5 if n % DRIFT_EVERY == 1 else 10  # the ledger says 10 everywhere

    def list_offers(self, *, offset: int = 0, limit: int = 1000, **_: Any) -> OffersPage:
        self.listing_pages += 1
        numbers = range(offset, min(offset + limit, self.skus))
        body = {"offers": [_listing(n, self.stock(n)) for n in numbers], "count": len(numbers)}
        return OffersPage.model_validate(body | {"totalCount": self.skus})

    def iter_offers(
        self, *, external_ids: Sequence[str] = (), statuses: Sequence[str] = (), page_size: int = 1000
    ) -> Iterator[OfferListing]:
        if external_ids:
            self.other_calls += math.ceil(len(external_ids) / 100)
            yield from (OfferListing.model_validate(_listing(int(e[4:]), 10)) for e in external_ids)
            return
        offset = 0
        while offset < self.skus:
            yield from self.list_offers(offset=offset).offers
            offset += 1000

    def get_product_offer(self, offer_id: str) -> Any:
        raise AssertionError("no offer of the synthetic seller is ENDED")

    def me(self) -> Me:
        self.other_calls += 1
        return Me.model_validate({"id": "9000", "login": "bench-seller"})

    def campaign_badges(self) -> list[Any]:
        self.other_calls += 1
        return []

    def offer_fee_preview(self, body: Any) -> FeePreview:
        self.other_calls += 1
        fee = Decimal(body["offer"]["sellingMode"]["price"]["amount"]) * Decimal("0.1")
        return FeePreview.model_validate({"commissions": [{"fee": {"amount": str(fee), "currency": "PLN"}}]})


class Accounts:
    def __init__(self, seller: SyntheticSeller) -> None:
        self.seller = seller

    def client(self, account: str) -> SyntheticSeller:
        return self.seller


class CountedRepairs:
    """The reconciler's repairs, counted: one PATCH each (the propagator is measured by its own bench)."""

    def __init__(self) -> None:
        self.pushes = 0

    def apply(self, pushes: Sequence[Push], report: PropagationReport | None = None) -> PropagationReport:
        self.pushes += len(pushes)
        done = report or PropagationReport()
        done.pushed.extend(pushes)
        return done


class Forms:
    def __init__(self, count: int) -> None:
        self.count = count
        self.pages = 0

    def iter_checkout_forms(self, **_: Any) -> Iterator[CheckoutForm]:
        for n in range(self.count):
            if n % 100 == 0:
                self.pages += 1
            yield CheckoutForm.model_validate(
                {"id": f"form-{n}", "status": "READY_FOR_PROCESSING", "revision": "r2",
                 "updatedAt": "2026-12-01T10:05:00.000Z"}
            )  # fmt: skip


class Queue:
    def publish(self, notices: Sequence[OrderNotice]) -> None:
        pass


# ---- seeding -------------------------------------------------------------------------------------------


class Writer:
    """A table's batch writer that takes (and drops) a single put's condition: seeding only. Its answer is
    that of a put into an empty table (no old item), which the catalogue reads to tell a new SKU."""

    def __init__(self, batch: Any) -> None:
        self._batch = batch

    def put_item(self, *, Item: dict[str, Any], **_: Any) -> dict[str, Any]:
        self._batch.put_item(Item=Item)
        return {}


def seed_ledger(table: Any, skus: int) -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with table.batch_writer() as batch:
        for n in range(skus):
            sku, offer = f"SKU-{n:06}", str(7_000_000_000 + n)
            ledger = SkuLedger(
                sku, 2, ShopLevel(10, at, None), None, None, {}, {offer: LedgerLink(offer, "shop1")}
            )
            batch.put_item(Item=ledger_item(ledger))


def seed_catalog(table: Any, skus: int) -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with table.batch_writer() as batch:
        catalog = DynamoCatalog(Writer(batch))
        for n in range(skus):
            sku = f"SKU-{n:06}"
            upsert = ProductUpsert(
                delivery_id=f"d{n}", occurred_at=at, sku=sku, name=f"Produkt {n}", price=Decimal("129.99"),
                cost_price=Decimal("80.00"), category_path=["Dom", "Kuchnia"], ean="5901234123457",
            )  # fmt: skip
            catalog.accept(StoredProduct(sku, at.isoformat(), upsert=upsert, price=Decimal("129.99")))
            catalog.save_link(
                OfferLink(sku, "shop1", LinkStatus.PUBLISHED, str(7_000_000_000 + n), price="129.99")
            )


def seed_orders(repository: DynamoOrderRepository, forms: int) -> None:
    for n in range(0, forms, 2):  # half already imported and current
        repository.save(OrderRecord(f"form-{n}", "shop1", "READY_FOR_PROCESSING", "r2", None, version=0), 0)


# ---- one measured run ------------------------------------------------------------------------------------


@dataclass
class Run:
    sweep: str
    skus: int
    wall: float
    moto: float
    aws: dict[str, int]
    listing_pages: int
    allegro_other: int
    peak_mb: float
    extra_seconds: float = 0.0  # what the model adds that the run did not do (the repricer's commands)
    measured: bool = True  # False: extrapolated from two measured sizes

    @property
    def aws_seconds(self) -> float:
        return sum(n * AWS_CALL_SECONDS.get(op, AWS_OTHER_CALL_SECONDS) for op, n in self.aws.items())

    @property
    def modelled(self) -> float:
        own = max(0.0, self.wall - self.moto)
        allegro = self.listing_pages * ALLEGRO_PAGE_SECONDS + self.allegro_other * ALLEGRO_CALL_SECONDS
        return own + self.aws_seconds + allegro + self.extra_seconds

    @property
    def memory_mb(self) -> float:
        return LAMBDA_BASELINE_MB + self.peak_mb

    def figures(self) -> dict[str, Any]:
        timeout = TOPOLOGY.function(self.sweep).timeout_seconds
        return {
            "skus": self.skus,
            "measured": self.measured,
            "aws_calls": sum(self.aws.values()),
            "aws_calls_by_operation": dict(sorted(self.aws.items())),
            "allegro_calls": self.listing_pages + self.allegro_other,
            "seconds_here": round(self.wall, 2),
            "seconds_in_moto": round(self.moto, 2),
            "modelled_seconds": round(self.modelled, 1),
            "modelled_seconds_reads": round(self.modelled - self.extra_seconds, 1),
            "timeout_seconds": timeout,
            "runs_per_cycle": max(1, math.ceil(self.modelled / (timeout - 30))),
            "peak_mb": round(self.peak_mb, 1),
            "memory_estimate_mb": round(self.memory_mb),
            "memory_mb": TOPOLOGY.function(self.sweep).memory_mb,
            "aws_calls_before": round(BEFORE_CALLS_PER_SKU[self.sweep] * self.skus),
        }


def measured(sweep: str, skus: int, aws: AwsCalls, run: Callable[[], tuple[int, int]]) -> Run:
    """Two passes over the same seeded world: one timed (tracemalloc slows Python several times), then one
    under tracemalloc for the peak."""
    aws.reset()
    started = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        pages, other = run()
    wall, moto, calls = time.perf_counter() - started, aws.seconds, dict(aws.by_operation)
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    with redirect_stdout(io.StringIO()):
        run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Run(sweep, skus, wall, moto, calls, pages, other, (peak - before) / 2**20)


def extrapolated(a: Run, b: Run, skus: int) -> Run:
    """A straight line through two measured sizes (every figure of a sweep grows linearly with its pages
    and batches), for the sizes moto is too slow to seed and serve within a bench run."""

    def at(x: float, y: float) -> float:
        return x + (y - x) * (skus - a.skus) / (b.skus - a.skus)

    return Run(
        a.sweep,
        skus,
        at(a.wall - a.moto, b.wall - b.moto),
        0.0,
        {op: round(at(a.aws.get(op, 0), n)) for op, n in b.aws.items()},
        round(at(a.listing_pages, b.listing_pages)),
        round(at(a.allegro_other, b.allegro_other)),
        at(a.peak_mb, b.peak_mb),
        b.extra_seconds,
        measured=False,
    )


def tables(dynamodb: Any, *names: str) -> list[Any]:
    return [dynamodb.Table(create_table(dynamodb.meta.client, name)) for name in names]


def reconciler(skus: int, aws: AwsCalls) -> Run:
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    ledger_table, control = tables(dynamodb, "ledger", "control")
    seed_ledger(ledger_table, skus)
    seller, repairs = SyntheticSeller(skus), CountedRepairs()
    service = Reconciler(
        ledger=StockLedger(DynamoLedgerRepository("ledger", boto3.client("dynamodb", region_name=REGION))),
        clients=Accounts(seller),
        propagator=repairs,  # type: ignore[arg-type]  # counted, not sent
        accounts=lambda: ["shop1"],
    )
    cursor = DynamoSweepCursor(control, "reconciler")

    def run() -> tuple[int, int]:
        report = service.run(time_left=lambda: 10_000.0, cursors=cursor)
        assert not report.failed, report.failed
        assert report.offers_seen == skus
        return seller.listing_pages, seller.other_calls + repairs.pushes

    return measured("reconciler", skus, aws, run)


def repricer(skus: int, aws: AwsCalls) -> Run:
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    mappings, control, catalog_table, ledger_table = tables(
        dynamodb, "mappings", "control", "catalog", "ledger"
    )
    seed_catalog(catalog_table, skus)
    seed_ledger(ledger_table, skus)
    ledger = StockLedger(DynamoLedgerRepository("ledger", boto3.client("dynamodb", region_name=REGION)))
    facts = CatalogFacts(
        DynamoCatalog(catalog_table),
        lambda sku: ledger.view(sku).available,
        lambda many: {k: v.available for k, v in ledger.views(many).items()},
    )
    store = DynamoRepricingStore(mappings, control)
    store.put_settings(RepricingSettings(account="shop1", strategy=Strategy.DEMAND))  # every offer repriced
    service = Repricer(store, facts, FakeChangeLog())
    seller = SyntheticSeller(skus)

    def run() -> tuple[int, int]:
        # a dry run, as the scheduled sweep runs it: page by page, counts kept, not every decision
        report = service.run_account("shop1", seller, apply=False, keep_decisions=False)  # type: ignore[arg-type]
        assert report.planned == skus, report.error
        return seller.listing_pages, seller.other_calls

    result = measured("repricer", skus, aws, run)
    # The command budget a busy round may spend on top of its reads, at the function's Allegro rate.
    result.extra_seconds = MAX_COMMANDS_PER_ROUND * ALLEGRO_COMMAND_CALLS * 60 / REPRICER_RPM
    return result


def gap_scan(skus: int, aws: AwsCalls) -> Run:
    client = boto3.client("dynamodb", region_name=REGION)
    create_table(client, "orders")
    create_table(client, "control")
    orders, cursors = DynamoOrderRepository("orders", client), DynamoOrderCursors("control", client)
    forms = Forms(max(1, int(skus * FORMS_PER_SKU)))
    seed_orders(orders, forms.count)
    cursors.set_gap_watermark("shop1", datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    scanner = GapScanner(cursors, orders, Queue(), overlap=timedelta(minutes=10))

    def run() -> tuple[int, int]:
        report = scanner.scan({"shop1": forms})  # type: ignore[dict-item]
        assert report["shop1"].seen == forms.count, report["shop1"].error
        return 0, forms.pages

    return measured("order_gap_scan", skus, aws, run)


# Sizes run on moto per sweep (the rest extrapolated): moto serialises each catalogue item in ~2 ms, so the
# repricer's world is kept small (but over one listing page, so pages extrapolate); `python -m bench.sweeps
# 1000 10000` measures every sweep at those sizes, `python -m bench.sweeps repricer` the repricer alone.
MEASURED = {"reconciler": (1_000, 10_000), "repricer": (1_000, 3_000), "order_gap_scan": (1_000, 10_000)}


def main(argv: list[str]) -> None:
    asked = [int(a) for a in argv if a.isdigit()]
    only = [a for a in argv if not a.isdigit()] or ["reconciler", "repricer", "order_gap_scan"]
    os.environ.update(
        {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    )
    aws = AwsCalls()
    figures: dict[str, Any] = {"before": BEFORE, "assumptions": {
        "aws_call_seconds": AWS_CALL_SECONDS | {"other": AWS_OTHER_CALL_SECONDS},
        "allegro_listing_page_seconds": ALLEGRO_PAGE_SECONDS, "allegro_call_seconds": ALLEGRO_CALL_SECONDS,
        "lambda_baseline_mb": LAMBDA_BASELINE_MB, "drifted_offers": f"1 in {DRIFT_EVERY}",
        "repricer_commands_added_seconds": MAX_COMMANDS_PER_ROUND * ALLEGRO_COMMAND_CALLS * 60 / REPRICER_RPM,
    }}  # fmt: skip
    print(f"{'sweep':<15}{'SKUs':>9}{'AWS calls':>11}{'(before)':>10}{'Allegro':>9}{'reads':>9}"
          f"{'modelled':>11}{'timeout':>9}{'runs':>6}{'peak':>9}{'memory':>13}")  # fmt: skip
    for sweep, measure in (("reconciler", reconciler), ("repricer", repricer), ("order_gap_scan", gap_scan)):
        if sweep not in only:
            continue
        sizes = asked or list(MEASURED[sweep])
        runs = []
        for skus in sizes:
            with mock_aws():
                runs.append(measure(skus, aws))
        if len(runs) >= 2:
            runs += [extrapolated(runs[-2], runs[-1], n) for n in SIZES if n > runs[-1].skus]
        figures[sweep] = {}
        for run in runs:
            f = figures[sweep][str(run.skus)] = run.figures()
            mark = " " if run.measured else "~"
            print(
                f"{sweep:<15}{mark}{run.skus:>8,}{f['aws_calls']:>11,}{f['aws_calls_before']:>10,}"
                f"{f['allegro_calls']:>9,}{f['modelled_seconds_reads']:>8.1f}s{f['modelled_seconds']:>10.1f}s"
                f"{f['timeout_seconds']:>8}s"
                f"{f['runs_per_cycle']:>6}{f['peak_mb']:>7.0f}MB{f['memory_estimate_mb']:>5}/{f['memory_mb']}MB"
            )
        print(f"{'':<15}before: {BEFORE[sweep]}")
    print(
        "~ extrapolated from the two measured sizes above it; reads: the run without the repricer's command"
    )
    print("budget; modelled: with it; memory: estimate / the topology's setting")
    if len(only) < 3:  # one sweep measured again: the others' figures stay as last recorded
        figures = load_all().get("sweeps", {}).get("figures", {}) | figures
    record("sweeps", figures)


if __name__ == "__main__":
    main(sys.argv[1:])
