"""`allegro-sync catalog import` end to end: a generated CSV catalogue -> `shop-events` -> catalog_worker ->
the Allegro emulator, through the local runtime (moto + SQS poller) and the real CLI command (CliRunner).

Prints: rows queued per second (parse + SQS + progress records), offers published per minute including
the worker (import until every product settled), Allegro calls and AWS calls per offer, and the rerun's
cost (a resumed import that finds everything already queued). The worker runs in this one process, so the
measured rate is a floor for one Lambda instance; moto over HTTP on 127.0.0.1 is part of every figure.

AWS calls per offer: every boto3 call of the CLI (SQS sends, progress records) and of the catalog_worker
(DynamoDB, Secrets Manager, SQS, the shared Allegro pool's draws), divided by the offers published. The
event source's own receives and deletes (Lambda's poller, billed as SQS requests) are printed apart.

As deployed (modelled): the least of three ceilings, each from this run's per-offer figures:
- Allegro: the pool's free share for bulk work (adapters/allegro/shared_budget.py) / Allegro calls per offer;
- the seller: its product-offer writes per minute the pool allows / one write (POST) per new offer;
- Lambda: catalog_worker's reserved concurrency x offers one instance publishes a minute, at the assumed
  latencies below (Allegro from eu-central-1, DynamoDB in-region) instead of this machine's.

Run: .venv/bin/python -m bench.catalog_import [products]   (default 60)
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from typer.testing import CliRunner

from allegro_sync.adapters.allegro.shared_budget import (
    POOL_CAP,
    RESERVE_PER_SLOT,
    SELLER_WRITE_SLOT_CAP,
    SLOTS_PER_MINUTE,
)
from allegro_sync.cli import catalog_cmd
from allegro_sync.cli.main import app
from allegro_sync.topology import TOPOLOGY
from bench._aws import AwsCalls
from bench._results import record
from bench._seller import catalogue_world

HEADER = "sku,ean,name,description_html,image_urls,price,cost_price,stock,category_path,attributes"

# Before issue 21 (bench/REPORT.md of 2026-11-28): a fixed 500 rpm x 5 instances share of Allegro's limit.
OLD = {"modelled": 830, "measured": 197, "aws_calls_per_offer": 15.6, "allegro_calls_per_offer": 3.02}
# Assumed latencies in AWS (eu-central-1): an Allegro call (a create is the slowest), a DynamoDB/SQS call.
ALLEGRO_CALL_SECONDS = 0.25
AWS_CALL_SECONDS = 0.008
WRITES_PER_NEW_OFFER = 1  # POST /sale/product-offers
# Lambda's event source polls the queue itself: SQS requests, but none of the function's calls.
EVENT_SOURCE_OPERATIONS = ("ReceiveMessage", "DeleteMessageBatch", "GetQueueAttributes")
# The CLI finding the deployment: once per import whatever its size, not per offer.
PER_RUN_OPERATIONS = ("GetQueueUrl", "DescribeStacks")


def as_deployed(allegro_per_offer: float, aws_per_offer: float) -> dict[str, float]:
    """Offers per minute each ceiling allows in AWS, and the least of them."""
    free_share = (POOL_CAP - RESERVE_PER_SLOT) * SLOTS_PER_MINUTE
    worker = TOPOLOGY.function("catalog_worker")
    per_offer = allegro_per_offer * ALLEGRO_CALL_SECONDS + aws_per_offer * AWS_CALL_SECONDS
    ceilings = {
        "allegro_free_share": free_share / allegro_per_offer,
        "seller_writes": SELLER_WRITE_SLOT_CAP * SLOTS_PER_MINUTE / WRITES_PER_NEW_OFFER,
        "lambda": (worker.reserved_concurrency or 1) * 60 / per_offer,
    }
    rounded: dict[str, float] = {name: round(value) for name, value in ceilings.items()}
    return rounded | {"modelled": round(min(ceilings.values()))}


def catalogue(products: int) -> str:
    """Products with the emulator's Sony EAN (linked to its catalogue product), Polish text, "129,99"."""
    rows = [
        f"BENCH-{i:04d},4548736132610,Słuchawki bezprzewodowe Sony WH-1000XM5 czarne {i},"
        f'"<p>Najlepsza <strong>redukcja szumów</strong>, egzemplarz {i}.</p>",'
        f'https://shop.example.pl/img/{i}.jpg,"{1000 + i},99","800,00",5,Elektronika > Słuchawki,'
        '"Stan=Nowy; Marka=Sony"'
        for i in range(products)
    ]
    return "\n".join([HEADER, *rows]) + "\n"


def main(products: int) -> None:
    with catalogue_world() as (emulator, runtime), tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "sklep.csv"
        file.write_text(catalogue(products), encoding="utf-8")
        catalog_cmd.sleep = lambda seconds: runtime.drain(timeout=600)
        runner = CliRunner()

        def run(*args: str) -> tuple[str, float]:
            with mock.patch.dict(os.environ):
                started = time.perf_counter()
                result = runner.invoke(app, list(args), catch_exceptions=False)
                elapsed = time.perf_counter() - started
            if result.exit_code != 0:
                raise SystemExit(f"import failed ({result.exit_code}):\n{result.output}")
            return result.output, elapsed

        aws = AwsCalls()
        _, queue_seconds = run("catalog", "import", str(file), "--no-wait")
        before = emulator.app.request_count
        started = time.perf_counter()
        runtime.drain(timeout=600)
        drain_seconds = time.perf_counter() - started
        calls = emulator.app.request_count - before
        by_operation = dict(aws.by_operation)
        output, rerun_seconds = run("catalog", "import", str(file), "--wait", "--timeout", "60")
        summary = re.search(r"Summary: (\d+) published, (\d+) waiting, (\d+) failed", output)
        published = int(summary.group(1)) if summary else 0

        counts = summary.groups() if summary else ("?", "?", "?")
        total = queue_seconds + drain_seconds
        offers = max(published, 1)
        event_source = sum(by_operation.get(op, 0) for op in EVENT_SOURCE_OPERATIONS)
        per_run = sum(by_operation.get(op, 0) for op in PER_RUN_OPERATIONS)
        aws_per_offer = round((sum(by_operation.values()) - event_source - per_run) / offers, 2)
        allegro_per_offer = round(calls / offers, 2)
        deployed = as_deployed(allegro_per_offer, aws_per_offer)
        measured = round(published / total * 60, 1)
        print(f"products: {products}; published {counts[0]}, waiting {counts[1]}, failed {counts[2]}")
        print(f"queueing (CLI start + parse + SQS + progress): {products / queue_seconds:.1f} rows/s")
        print(f"  ({queue_seconds:.2f} s)")
        print(f"import until published: {measured:.0f} offers/min (was {OLD['measured']}), measured here")
        print(f"  ({total:.1f} s, of which the worker {drain_seconds:.1f} s)")
        print(
            f"as deployed: {deployed['modelled']:,} offers/min (was {OLD['modelled']}), modelled: {deployed}"
        )
        print(f"Allegro calls per offer: {allegro_per_offer:.2f} (was {OLD['allegro_calls_per_offer']})")
        print(f"AWS calls per offer: {aws_per_offer:.2f} (was {OLD['aws_calls_per_offer']}), by operation:")
        print(f"  {sorted(by_operation.items(), key=lambda kv: -kv[1])}")
        print(f"  not counted: the event source's own polling, {event_source / offers:.2f} per offer;")
        print(f"  the CLI finding the deployment, {per_run} calls per import")
        print(f"rerun of the same file (all skipped, statuses read): {rerun_seconds:.2f} s")
        record(
            "catalog_import",
            {
                "products": products,
                "published": published,
                "rows_queued_per_s": round(products / queue_seconds, 1),
                "offers_per_min": measured,
                "offers_per_min_as_deployed": deployed["modelled"],
                "ceilings_as_deployed": deployed,
                "import_seconds": round(total, 1),
                "allegro_calls_per_offer": allegro_per_offer,
                "aws_calls_per_offer": aws_per_offer,
                "aws_calls_by_operation": by_operation,
                "event_source_calls_per_offer": round(event_source / offers, 2),
                "cli_discovery_calls_per_import": per_run,
                "old": OLD,
                "rerun_seconds": round(rerun_seconds, 2),
            },
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
