"""Stock propagation figures through the local runtime (the real stock_propagator handler) and the emulator.

1. Latency, one change -> Allegro shows it, two ways: (a) through the queue: ledger write, message on the
   runtime's moto `stock-changes` FIFO queue, the runtime's poller drains it through the handler; (b) the
   handler alone: ledger write, then the SQS event invoked in-process. p50/p99 of each.
2. Burst: 1,000 changes over 200 SKUs (5 per SKU on average, quantities 1..8 as real restocks and sales
   are) delivered as Lambda would: FIFO batches of 10 in queue order, each invoked on the handler (moto's
   SQS walks the whole queue on every call, so 1,000 queued messages measure moto, not us). Printed:
   Allegro calls per stock change and their split into PATCHes and quantity commands; every offer is
   checked to show the newest level at the end.
Calls are counted on the functions' Allegro HTTP clients (only the stock propagator runs here); their rate
guards have no budget, so the figures are the code's, not the deployed request budget's. No OAuth calls
happen while tokens are fresh.

Run: .venv/bin/python -m bench.stock_propagation [skus] [burst_changes] [latency_changes]
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from allegro_sync.emulator import Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.local.events import sqs_event, sqs_record
from bench._results import record
from bench._seller import connect_accounts, headphones_offer, seller_client
from bench._unpaced import UnpacedApplications

ACCOUNT, LOGIN = "shop1", "seller-bench"
QUEUE_ARN = "arn:aws:sqs:eu-central-1:123456789012:allegro-sync-stock-changes.fifo"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Calls:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def hook(self, request: httpx.Request) -> None:
        path = request.url.path
        kind = path.split("/")[2] if path.startswith("/sale/") else path
        if "/tasks" in path:
            kind += " tasks"
        with self._lock:
            self.counts[f"{request.method} {kind}"] += 1

    def total(self) -> int:
        return sum(self.counts.values())


def create_offers(emulator: Emulator, skus: list[str]) -> dict[str, str]:
    with seller_client(emulator, LOGIN, ACCOUNT) as client:
        return {sku: client.create_product_offer(headphones_offer(sku, 50)).id for sku in skus}


class Bench:
    """The running system: runtime, emulator, one connected account with one offer per SKU."""

    def __init__(self, runtime: LocalRuntime, emulator: Emulator, skus: list[str]) -> None:
        self.runtime = runtime
        self.emulator = emulator
        connect_accounts(emulator, runtime, {ACCOUNT: LOGIN})
        self.skus = skus
        self.offers = create_offers(emulator, skus)
        self.ledger = runtime.application("stock_propagator").stock_ledger()
        self._minute = 0
        self._sequence = 0
        first = []
        for sku in skus:  # link, first level, first push (reads each offer back once)
            self.ledger.link_offer(sku, self.offers[sku], ACCOUNT)
            first.append((sku, self.level(sku, 40)))
        for start in range(0, len(first), 10):
            self.invoke(first[start : start + 10])

    def level(self, sku: str, quantity: int) -> int:
        self._minute += 1
        return self.ledger.apply_shop_level(sku, quantity, T0 + timedelta(minutes=self._minute)).view.revision

    def send(self, sku: str, revision: int) -> None:
        self.runtime.send(
            "stock-changes",
            {"sku": sku, "revision": revision},
            group_id=sku,
            deduplication_id=f"stock:{sku}:{revision}",
        )

    def invoke(self, batch: list[tuple[str, int]]) -> dict[str, Any]:
        """One Lambda invocation with a FIFO batch, as the event source mapping would deliver it."""
        records = []
        for n, (sku, revision) in enumerate(batch):
            self._sequence += 1
            message = {
                "MessageId": str(uuid.uuid4()),
                "ReceiptHandle": f"bench-{self._sequence}",
                "Body": json.dumps({"sku": sku, "revision": revision}),
                "Attributes": {
                    "MessageGroupId": sku,
                    "MessageDeduplicationId": f"stock:{sku}:{revision}",
                    "SequenceNumber": str(self._sequence),
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(time.time() * 1000) + n),
                    "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000) + n),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",  # SQS always sends who sent the message
                },
            }
            records.append(sqs_record(message, queue_arn=QUEUE_ARN, region="eu-central-1"))
        result: dict[str, Any] = self.runtime.invoke("stock_propagator", sqs_event(records))
        return result

    def shows(self, sku: str) -> int:
        return int(self.emulator.marketplace.offer(self.offers[sku])["stock"]["available"])


def p50_p99(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def percentiles(samples: list[float]) -> str:
    p50, p99 = p50_p99(samples)
    return f"p50 {p50 * 1000:.0f} ms   p99 {p99 * 1000:.0f} ms"


def measure_latency(bench: Bench, changes: int) -> dict[str, Any]:
    queued, direct = [], []
    for n in range(changes):
        sku = bench.skus[n % len(bench.skus)]
        quantity = 30 - n % 20
        started = time.perf_counter()
        bench.send(sku, bench.level(sku, quantity))
        bench.runtime.drain(timeout=30)
        queued.append(time.perf_counter() - started)
        assert bench.shows(sku) == quantity
        started = time.perf_counter()
        bench.invoke([(sku, bench.level(sku, quantity + 1))])
        direct.append(time.perf_counter() - started)
        assert bench.shows(sku) == quantity + 1
    print(f"latency, one change -> Allegro shows it ({changes} changes each way):")
    print(f"  through the moto queue and the runtime's poller: {percentiles(queued)}")
    print(f"  ledger write + handler invocation:               {percentiles(direct)}")
    (queued_p50, queued_p99), (direct_p50, direct_p99) = p50_p99(queued), p50_p99(direct)
    return {
        "latency_changes": changes,
        "queued_p50_ms": round(queued_p50 * 1000),
        "queued_p99_ms": round(queued_p99 * 1000),
        "direct_p50_ms": round(direct_p50 * 1000),
        "direct_p99_ms": round(direct_p99 * 1000),
    }


def measure_burst(bench: Bench, calls: Calls, burst: int, rng: random.Random) -> dict[str, Any]:
    newest: dict[str, int] = {}
    queued = []
    for n in range(burst):
        sku = bench.skus[rng.randrange(len(bench.skus))] if n >= len(bench.skus) else bench.skus[n]
        quantity = rng.randint(1, 8)
        queued.append((sku, bench.level(sku, quantity)))
        newest[sku] = quantity
    calls.counts.clear()
    started = time.perf_counter()
    failed = 0
    for start in range(0, len(queued), 10):
        failed += len(bench.invoke(queued[start : start + 10])["batchItemFailures"])
    elapsed = time.perf_counter() - started
    wrong = [sku for sku, quantity in newest.items() if bench.shows(sku) != quantity]
    print(f"burst: {burst} changes over {len(newest)} SKUs (1 offer each), quantities 1..8")
    print(
        f"  {len(queued) // 10} batches of 10 handled in {elapsed:.1f} s; records reported failed: {failed}"
    )
    print(f"  Allegro calls: {calls.total()} = {calls.total() / burst:.3f} per stock change")
    for kind, count in sorted(calls.counts.items()):
        print(f"    {count:5d}  {kind}")
    print(f"  offers not showing the newest level: {len(wrong)}")
    return {
        "burst_changes": burst,
        "burst_skus": len(newest),
        "burst_seconds": round(elapsed, 1),
        "allegro_calls_per_change": round(calls.total() / burst, 3),
        "allegro_calls_by_kind": dict(sorted(calls.counts.items())),
        "records_failed": failed,
        "offers_wrong": len(wrong),
    }


def main() -> None:
    sku_count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    burst = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    latency_changes = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    calls = Calls()
    applications = UnpacedApplications(on_request=calls.hook)
    with Emulator(port=0, validate=False) as emulator:
        runtime = LocalRuntime(
            allegro_urls=AllegroUrls.single(emulator.base_url), make_application=applications
        ).start()
        try:
            bench = Bench(runtime, emulator, [f"SKU-{n:04d}" for n in range(sku_count)])
            figures = measure_latency(bench, latency_changes)
            figures |= measure_burst(bench, calls, burst, random.Random(7))
            record("stock_propagation", figures)
        finally:
            runtime.stop()
            applications.close()


if __name__ == "__main__":
    main()
