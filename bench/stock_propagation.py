"""Stock propagation figures through the local runtime (moto, the real stock_propagator) and the emulator.

1. Latency: a shop level lands in the ledger, its `stock-changes` message is queued and the queue drained
   through the real handler; measured from before the ledger write until Allegro (the emulator) shows the
   new number, for `changes` single changes across the SKUs. p50/p99 printed.
2. Burst: 1,000 changes over 200 SKUs (5 per SKU, quantities from a small range as real restocks and
   sales are) queued at once and drained: Allegro calls per stock change, and how they split into
   PATCHes and quantity commands. Every offer is checked to show the newest level at the end.
Calls are counted on the handlers' shared HTTP client (OAuth token calls excluded: none happen warm).

Run: .venv/bin/python -m bench.stock_propagation [skus] [burst_changes] [latency_changes]
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from allegro_sync.adapters import token_store
from allegro_sync.adapters.allegro import factory
from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.token_store import AccountsSettings, Custody, connect_with_device_flow
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.services.stock import StockLedger
from allegro_sync.topology import table_env

ACCOUNT, LOGIN = "shop1", "seller-bench"
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


class Tokens:
    def __init__(self, emulator: Emulator) -> None:
        self._token = str(emulator.issue_tokens(LOGIN)["access_token"])

    def access_token(self) -> str:
        return self._token

    def token_rejected(self, rejected_token: str) -> str:
        return self._token


def create_offers(emulator: Emulator, skus: list[str]) -> dict[str, str]:
    url = emulator.base_url
    offers: dict[str, str] = {}
    with AllegroClient(AllegroEnvironment(url, url, url), Tokens(emulator), account=ACCOUNT) as client:
        for sku in skus:
            body: dict[str, Any] = {
                "name": "Słuchawki Sony WH-1000XM5 czarne",
                "productSet": [{"product": {"id": "4548736132610", "idType": "GTIN"}}],
                "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
                "sellingMode": {"format": "BUY_NOW", "price": {"amount": "1299.00", "currency": "PLN"}},
                "stock": {"available": 50, "unit": "UNIT"},
                "images": [],
                "external": {"id": sku},
                "publication": {"status": "ACTIVE"},
            }
            offers[sku] = client.create_product_offer(body).id
    return offers


class Bench:
    """The running system: runtime, emulator, one connected account with one offer per SKU."""

    def __init__(self, runtime: LocalRuntime, emulator: Emulator, skus: list[str]) -> None:
        self.runtime = runtime
        self.emulator = emulator
        env = runtime.environment("stock_propagator")
        settings = AccountsSettings.from_env(env)
        Custody.build(settings).app_credentials.write(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        emulator.create_seller(LOGIN)
        token_store.reset()
        connect_with_device_flow(
            ACCOUNT,
            on_prompt=lambda p: emulator.approve_device(p.user_code, LOGIN),
            settings=settings,
            sleep=emulator.advance,
        )
        self.skus = skus
        self.offers = create_offers(emulator, skus)
        self.ledger = StockLedger(DynamoLedgerRepository(env[table_env("ledger")]))
        self._minute = 0
        for sku in skus:  # link, first level, first push (reads each offer back once)
            self.ledger.link_offer(sku, self.offers[sku], ACCOUNT)
            self.send(sku, self.level(sku, 40))
        runtime.drain(timeout=300)

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

    def shows(self, sku: str) -> int:
        return int(self.emulator.marketplace.offer(self.offers[sku])["stock"]["available"])


def measure_latency(bench: Bench, changes: int) -> None:
    latencies = []
    for n in range(changes):
        sku = bench.skus[n % len(bench.skus)]
        quantity = 30 - n % 20
        started = time.perf_counter()
        bench.send(sku, bench.level(sku, quantity))
        bench.runtime.drain(timeout=30)
        latencies.append(time.perf_counter() - started)
        assert bench.shows(sku) == quantity
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    print(f"latency, one change -> Allegro shows it ({changes} changes, drained one by one):")
    print(f"  p50 {statistics.median(latencies) * 1000:.0f} ms   p99 {p99 * 1000:.0f} ms")


def measure_burst(bench: Bench, calls: Calls, burst: int, rng: random.Random) -> None:
    newest: dict[str, int] = {}
    queued = []
    for n in range(burst):
        sku = bench.skus[rng.randrange(len(bench.skus))] if n >= len(bench.skus) else bench.skus[n]
        quantity = rng.randint(1, 8)
        queued.append((sku, bench.level(sku, quantity)))
        newest[sku] = quantity
    calls.counts.clear()
    started = time.perf_counter()
    for sku, revision in queued:
        bench.send(sku, revision)
    sent = time.perf_counter()
    bench.runtime.drain(timeout=600)
    drained = time.perf_counter()
    wrong = [sku for sku, quantity in newest.items() if bench.shows(sku) != quantity]
    print(f"burst: {burst} changes over {len(newest)} SKUs (1 offer each), quantities 1..8")
    print(f"  queued in {sent - started:.1f} s (moto SQS), drained in {drained - sent:.1f} s")
    print(f"  Allegro calls: {calls.total()} = {calls.total() / burst:.3f} per stock change")
    for kind, count in sorted(calls.counts.items()):
        print(f"    {count:5d}  {kind}")
    print(f"  offers not showing the newest level: {len(wrong)}")


def main() -> None:
    sku_count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    burst = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    latency_changes = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    calls = Calls()
    factory._shared = (
        RateGuard(InMemoryBlockedUntilStore()),
        httpx.Client(timeout=10.0, event_hooks={"request": [calls.hook]}),
    )
    with Emulator(port=0, validate=False) as emulator:
        runtime = LocalRuntime(allegro_urls=AllegroUrls.single(emulator.base_url)).start()
        try:
            bench = Bench(runtime, emulator, [f"SKU-{n:04d}" for n in range(sku_count)])
            measure_latency(bench, latency_changes)
            measure_burst(bench, calls, burst, random.Random(7))
        finally:
            runtime.stop()
            token_store.reset()


if __name__ == "__main__":
    main()
