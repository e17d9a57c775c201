"""The shop reconciliation over a 10,000-product WooCommerce shop of which 100 changed since the last run.

    .venv/bin/python -m bench.shop_reconcile [products] [changed]     (default 10000 100)

The shop is `tests/fixtures/woo_shop.WooCatalog` on a real 127.0.0.1 socket (wc/v3's `modified_after`
listing, 100 per page, `X-WP-TotalPages`), AWS is moto in-process (`mock_aws`), and the use case is wired
from the same adapters the `shop_reconciler` Lambda gets. The cursor starts where the previous run left it
(the newest change in the catalogue); runs measured: one after 100 products changed, and an idle one
(nothing changed). The first run of a deployment (no cursor: the whole catalogue once) is left out: it is
a catalogue import, measured by bench/catalog_import. Per run: shop calls,
AWS calls by operation, seconds (ours, moto's and the local shop's), and what it costs a month at the
default schedule (every 15 minutes) with AWS's list prices (`bench/cost.py`) and stated latencies for a
real WooCommerce page and a real AWS call.
"""

from __future__ import annotations

import io
import os
import sys
import time
from contextlib import redirect_stdout
from datetime import timedelta
from typing import Any

import boto3
import httpx
from moto import mock_aws

from allegro_sync.adapters.dynamodb.shop_cursor import DynamoShopCursor
from allegro_sync.adapters.queues import ShopEventQueue, SqsFifoPublisher
from allegro_sync.adapters.shop.deliveries import DynamoDeliveryMarkers, DynamoProductIndex
from allegro_sync.adapters.shop.woocommerce_changes import WooCommerceChanges
from allegro_sync.local.provision import create_table
from allegro_sync.services.shop_reconcile import ShopReconciler, ShopReconcileReport
from allegro_sync.services.webhooks import WebhookIntake
from allegro_sync.topology import TOPOLOGY
from bench._aws import AwsCalls
from bench._results import record
from bench.cost import MINUTES_PER_MONTH, Prices
from tests.fixtures.woo_shop import WooCatalog
from tests.unit.shop_out.fake_shops import ShopServer

REGION = "eu-central-1"
WOO_PAGE_SECONDS = 1.0  # a real WooCommerce listing page of 100 products (PHP + MySQL on shared hosting)
AWS_CALL_SECONDS = 0.008  # a DynamoDB/SQS call inside the region
MEMORY_GB = TOPOLOGY.function("shop_reconciler").memory_mb / 1024
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
READS = frozenset({"GetItem", "Query"})
SQS_SENDS = frozenset({"SendMessage", "SendMessageBatch"})


def monthly_usd(figures: dict[str, Any], prices: Prices, runs: float) -> float:
    calls: dict[str, int] = figures["aws_calls_by_operation"]
    writes = sum(n for op, n in calls.items() if op in WRITES)
    reads = sum(n for op, n in calls.items() if op in READS)
    sends = sum(n for op, n in calls.items() if op in SQS_SENDS)
    lambda_seconds = float(figures["seconds_in_aws_estimate"])
    per_run = (
        prices.lambda_request
        + lambda_seconds * MEMORY_GB * prices.lambda_gb_second
        + writes * prices.dynamodb_write_unit
        + reads * prices.dynamodb_read_unit
        + sends * prices.sqs_fifo_request
    )
    return round(float(per_run * runs), 4)


class ShopTimer:
    """Time spent waiting for the (local, Python) shop, replaced by a real WooCommerce's in the estimate."""

    def __init__(self, http: httpx.Client) -> None:
        self.seconds = 0.0
        original = http.get

        def timed(*args: Any, **kwargs: Any) -> httpx.Response:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        setattr(http, "get", timed)  # noqa: B010 - wrapping one client instance


def measure(
    name: str, reconciler: ShopReconciler, shop: WooCatalog, aws: AwsCalls, waited: ShopTimer
) -> dict[str, Any]:
    aws.reset()
    waited.seconds = 0.0
    shop.listings = 0
    with redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        report: ShopReconcileReport = reconciler.run()
        took = time.perf_counter() - started
    calls = dict(sorted(aws.by_operation.items()))
    figures = {
        "shop_calls": report.shop_calls,
        "products_read": len(report.changes),
        "queued": report.queued,
        "duplicates": report.duplicates,
        "aws_calls": sum(calls.values()),
        "aws_calls_by_operation": calls,
        "seconds": round(took, 3),
        "seconds_in_moto": round(aws.seconds, 3),
        "seconds_in_local_shop": round(waited.seconds, 3),
        # What one run would take in AWS: our own code, plus stated latencies for the shop and for AWS.
        "seconds_in_aws_estimate": round(
            max(0.0, took - aws.seconds - waited.seconds)
            + report.shop_calls * WOO_PAGE_SECONDS
            + sum(calls.values()) * AWS_CALL_SECONDS,
            2,
        ),
    }
    print(
        f"{name:<18} shop calls {figures['shop_calls']:>4}  read {figures['products_read']:>6}  "
        f"queued {figures['queued']:>6}  AWS calls {figures['aws_calls']:>6}  {took:6.2f} s here "
        f"(~{figures['seconds_in_aws_estimate']:.1f} s in AWS)"
    )
    return figures


def main(argv: list[str]) -> None:
    products = int(argv[0]) if argv else 10_000
    changed = int(argv[1]) if len(argv) > 1 else 100
    os.environ.update(
        {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    )
    # The catalogue grew over a month: the 5-minute overlap re-reads a product or two, as in a real shop.
    shop = WooCatalog("ck_bench", "cs_bench", step=timedelta(seconds=30 * 86_400 // products))  # 30 days
    for i in range(products):
        shop.put_product(f"SKU-{i:05d}", stock=10)
    with mock_aws(), ShopServer(shop) as server, httpx.Client(timeout=30) as http:
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        for table in ("idempotency", "control"):
            create_table(boto3.client("dynamodb", region_name=REGION), table)
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="shop-events.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        idempotency = dynamodb.Table("idempotency")
        intake = WebhookIntake(
            DynamoDeliveryMarkers(idempotency),
            ShopEventQueue(SqsFifoPublisher(url, sqs)),
            DynamoProductIndex(idempotency),
        )
        feed = WooCommerceChanges(server.url, ("ck_bench", "cs_bench"), http)
        reconciler = ShopReconciler(feed, intake, DynamoShopCursor(dynamodb.Table("control")))
        newest = max(p["date_modified_gmt"] for p in shop.products.values())
        DynamoShopCursor(dynamodb.Table("control")).save("woocommerce", newest, expected=None)
        aws, waited = AwsCalls(), ShopTimer(http)
        shop.clock += timedelta(minutes=15)
        shop.step = timedelta(seconds=1)
        for product in list(shop.products)[:: max(1, products // changed)][:changed]:
            shop.edit(product, stock_quantity=3)
        incremental = measure(f"{changed} changed", reconciler, shop, aws, waited)
        shop.clock += timedelta(minutes=15)
        idle = measure("nothing changed", reconciler, shop, aws, waited)
    prices = Prices()
    [schedule] = [t for t, f in TOPOLOGY.schedules() if f.name == "shop_reconciler"]
    runs = MINUTES_PER_MONTH / schedule.rate_minutes
    monthly = {
        "runs_per_month": round(runs),
        "usd_idle": monthly_usd(idle, prices, runs),
        f"usd_{changed}_changed_every_run": monthly_usd(incremental, prices, runs),
        "assumptions": f"{WOO_PAGE_SECONDS} s per WooCommerce page, "
        f"{AWS_CALL_SECONDS * 1000:.0f} ms per AWS call, {MEMORY_GB * 1024:.0f} MB Lambda, "
        f"list prices of {prices.region} as of {prices.as_of}",
    }
    print(
        f"monthly at every 15 min ({monthly['runs_per_month']} runs): USD {monthly['usd_idle']:.2f} idle, "
        f"USD {monthly[f'usd_{changed}_changed_every_run']:.2f} with {changed} changes in every run"
    )
    record(
        "shop_reconcile",
        {
            "products": products,
            "changed": changed,
            "incremental": incremental,
            "idle": idle,
            "monthly": monthly,
        },
    )


if __name__ == "__main__":
    main(sys.argv[1:])
