"""Orders in through the local runtime (moto, the real order_poller / order_worker handlers) and the emulator.

1. Throughput: `burst` orders bought and paid at once on the emulator, then one poller run and a drain of
   the `orders` queue through the real order_worker (each order = 3 events + 1 checkout-form read + ledger
   + record + 2 messages). Orders imported per minute; `drain` polls the queue on this thread, so one
   batch runs at a time: the figure is for one worker instance, in one process.
2. Latency: a buyer buys `latency_orders` orders at a steady pace while the poller's in-run loop polls every
   `interval` seconds (the deployed default is 5 s) and the worker drains in parallel. Measured from the
   purchase on Allegro (the emulator's `buy`) to the `OrderChanged` message reaching `shop-outbox`
   (its SQS SentTimestamp). p50/p99 printed with the interval stated: the interval bounds the wait.
The poller loop runs as `OrderPoller` in a thread, built from the order_poller function's application, with
this benchmark's run length and interval (the deployed handler's are its environment's, and a run here
outlasts its 70 s timeout); the worker runs as the real handler, drained beside it. Every function's rate
guard has no budget, so the figures are the code's, not the deployed request budget's. The consumers of
`shop-outbox` / `stock-changes` are replaced by this module's recorder, so only the order path is timed.

Run: .venv/bin/python -m bench.orders_import [burst] [latency_orders] [interval_seconds] [spacing_seconds]
(defaults 80 40 5 2: a burst of 80, then 40 orders one every 2 s, polled every 5 s; keeps `make bench` short)
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from allegro_sync.emulator import Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.services.orders import OrderPoller, PollSettings
from allegro_sync.topology import TOPOLOGY, queue_env
from bench._results import record
from bench._seller import connect_accounts, headphones_offer, seller_client
from bench._unpaced import UnpacedApplications

ACCOUNT, LOGIN, SKU = "shop1", "seller-bench", "SKU-BENCH"
_lock = threading.Lock()
RECEIVED: list[tuple[str, dict[str, Any], int]] = []  # (queue, body, SentTimestamp ms)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Stand-in consumer of shop-outbox / stock-changes: keep the body and when SQS accepted it."""
    with _lock:
        for record in event.get("Records", []):
            queue = str(record.get("eventSourceARN", "")).rsplit(":", 1)[-1]
            sent = int(record.get("attributes", {}).get("SentTimestamp", "0"))
            RECEIVED.append((queue, json.loads(record["body"]), sent))
    return {"batchItemFailures": []}


def outbox_sent_ms(runtime: LocalRuntime) -> dict[str, int]:
    """First OrderChanged per checkout form -> SentTimestamp, from the recorder or the queue itself."""
    sent: dict[str, int] = {}
    with _lock:
        for queue, body, at in RECEIVED:
            if "shop-outbox" in queue and body.get("kind") == "order.changed":
                sent.setdefault(body["checkout_form_id"], at)
    sqs = runtime.client("sqs")
    url = runtime.environment("order_worker")[queue_env("shop-outbox")]
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, AttributeNames=["SentTimestamp"]
        ).get("Messages", [])
        if not got:
            return sent
        for message in got:
            body = json.loads(message["Body"])
            at = int(message["Attributes"]["SentTimestamp"])
            sent[body["checkout_form_id"]] = min(at, sent.get(body["checkout_form_id"], at))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(burst: int, latency_orders: int, interval: float, spacing: float) -> None:
    stand_ins = {
        consumer.name: __name__
        for q in ("shop-outbox", "stock-changes")
        if (consumer := TOPOLOGY.queue_consumer(q)) is not None
    }
    with (
        contextlib.redirect_stdout(sys.stderr),  # handler logs and metrics; figures go to the real stdout
        Emulator(port=0, validate=False) as emulator,
        LocalRuntime(
            TOPOLOGY,
            allegro_urls=AllegroUrls.single(emulator.base_url),
            env={"ORDER_POLL_RUN_SECONDS": "0", "POWERTOOLS_LOG_LEVEL": "WARNING", "LOG_LEVEL": "WARNING"},
            handler_modules=stand_ins,
            make_application=UnpacedApplications(),
        ) as runtime,
    ):
        connect_accounts(emulator, runtime, {ACCOUNT: LOGIN})
        with seller_client(emulator, LOGIN, ACCOUNT) as client:
            offer = client.create_product_offer(headphones_offer(SKU, 100_000)).id
        ledger = runtime.application("order_worker").stock_ledger()
        ledger.apply_shop_level(SKU, 1_000_000, datetime.now(UTC))
        ledger.link_offer(SKU, offer, ACCOUNT)
        runtime.fire("order_poller")  # first run: the cursor starts at latestEvent

        # 1. Throughput
        for _ in range(burst):
            emulator.marketplace.pay(emulator.marketplace.buy(offer, 1))
        started = time.perf_counter()
        report = runtime.fire("order_poller")
        runtime.drain(timeout=600)
        elapsed = time.perf_counter() - started
        imported = len(outbox_sent_ms(runtime))
        level_left = ledger.view(SKU).available
        _say(f"throughput: {burst} orders ({report['enqueued']} events) bought at once")
        _say(f"  imported {imported} orders in {elapsed:.1f} s = {imported / elapsed * 60:.0f} orders/minute")
        _say(f"  ledger: {1_000_000 - (level_left or 0)} items taken (expected {burst})")

        # 2. Latency with the in-run polling loop
        # The order poller's own application: its unpaced client, its cursors, its queue; this run's loop.
        app = runtime.application("order_poller")
        run_for = latency_orders * spacing + 2 * interval + 1
        poller = OrderPoller(
            app.order_cursors(),
            app.order_queue(),
            settings=PollSettings(run_seconds=run_for, interval_seconds=interval, lease_seconds=run_for + 60),
        )
        client = app.allegro(ACCOUNT)
        bought_ms: dict[str, float] = {}

        def buyer() -> None:
            for _ in range(latency_orders):
                at = time.time() * 1000
                form_id = emulator.marketplace.buy(offer, 1)
                bought_ms[form_id] = at
                time.sleep(spacing)

        threads = [
            threading.Thread(target=lambda: poller.run({ACCOUNT: client})),
            threading.Thread(target=buyer),
        ]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            runtime.drain(timeout=600)
            time.sleep(0.05)
        runtime.drain(timeout=600)
        sent = outbox_sent_ms(runtime)
        latencies = [(sent[f] - at) / 1000 for f, at in bought_ms.items() if f in sent]
        missing = len(bought_ms) - len(latencies)
        _say(
            f"latency purchase -> shop-outbox, poll interval {interval:g} s, {len(latencies)} orders "
            f"(one every {spacing} s){f', {missing} MISSING' if missing else ''}:"
        )
        _say(
            f"  p50 {statistics.median(latencies):.2f} s   p99 {percentile(latencies, 0.99):.2f} s   "
            f"max {max(latencies):.2f} s"
        )
        record(
            "orders_import",
            {
                "burst_orders": burst,
                "imported": imported,
                "orders_per_min": round(imported / elapsed * 60),
                "poll_interval_s": interval,
                "latency_orders": len(latencies),
                "missing": missing,
                "purchase_to_outbox_p50_s": round(statistics.median(latencies), 2),
                "purchase_to_outbox_p99_s": round(percentile(latencies, 0.99), 2),
                "purchase_to_outbox_max_s": round(max(latencies), 2),
            },
        )


def _say(*parts: object) -> None:
    print(*parts, file=sys.__stdout__, flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        int(args[0]) if args else 80,
        int(args[1]) if len(args) > 1 else 40,
        float(args[2]) if len(args) > 2 else 5.0,
        float(args[3]) if len(args) > 3 else 2.0,
    )
