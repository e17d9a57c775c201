"""Shop event -> published Allegro offer, through the local runtime (moto + SQS poller + catalog_worker) and
the Allegro emulator: latency per product, throughput of a burst, and Allegro calls per offer.

Latency is measured from the moment the event is queued on `shop-events` (what the webhook intake does),
or from the signed POST to the local HTTP gateway (`/webhooks/shop`), until the worker has finished with it
(`drain`), i.e. the offer exists on the emulator. It includes moto's SQS and DynamoDB over HTTP on
127.0.0.1, so it is an upper bound for the code's own cost.

Run: .venv/bin/python -m bench.catalog_publish [products]   (default 20)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from allegro_sync.adapters.shop import signing
from allegro_sync.contracts.messages import SHOP_EVENT_ADAPTER, PriceSet, ProductUpsert, ShopEvent
from allegro_sync.local import LocalRuntime
from bench._results import record
from bench._seller import catalogue_world

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DESCRIPTION = (
    "<div><h3>Cisza, której szukasz</h3><p>Najlepsza w klasie <strong>redukcja szumów</strong>.</p>"
    '<img src="https://shop.example.pl/img/side.jpg"><ul><li>30 godzin pracy</li><li>USB-C</li></ul></div>'
)


def product(index: int) -> ProductUpsert:
    return ProductUpsert(
        delivery_id=f"bench-{index}",
        occurred_at=T0 + timedelta(seconds=index),
        sku=f"BENCH-{index:04d}",
        name=f"Słuchawki bezprzewodowe Sony WH-1000XM5 czarne {index}",
        ean="4548736132610",
        description_html=DESCRIPTION,
        image_urls=[f"https://shop.example.pl/img/{index}.jpg"],  # type: ignore[list-item]
        price=Decimal("1299.00"),
        stock=5,
        category_path=["Elektronika", "Słuchawki"],
        attributes={"Stan": "Nowy", "Marka": "Sony"},
    )


def send(runtime: LocalRuntime, event: ShopEvent) -> None:
    runtime.send(
        "shop-events",
        SHOP_EVENT_ADAPTER.dump_json(event).decode(),
        group_id=event.sku,
        deduplication_id=f"{event.delivery_id}-{event.type}",
    )


def main(products: int) -> None:
    with catalogue_world() as (emulator, runtime):
        # One at a time: queue -> worker -> offer, the latency a seller sees for a single product.
        latencies: list[float] = []
        before = emulator.app.request_count
        for index in range(products):
            started = time.perf_counter()
            send(runtime, product(index))
            runtime.drain(timeout=60)
            latencies.append((time.perf_counter() - started) * 1000)
        create_calls = (emulator.app.request_count - before) / products

        # A burst: many products queued at once (a catalogue import), then drained.
        burst = [product(10_000 + i) for i in range(products)]
        started = time.perf_counter()
        for event in burst:
            send(runtime, event)
        runtime.drain(timeout=300)
        burst_seconds = time.perf_counter() - started

        # A price change on every published offer.
        before = emulator.app.request_count
        for index in range(products):
            send(
                runtime,
                PriceSet(
                    delivery_id=f"price-{index}",
                    occurred_at=T0 + timedelta(hours=1),
                    sku=f"BENCH-{index:04d}",
                    price=Decimal("999.00"),
                ),
            )
        runtime.drain(timeout=120)
        price_calls = (emulator.app.request_count - before) / products

        # Through the shop's signed webhook over HTTP: gateway -> shop_webhook -> queue -> worker.
        secret = "bench-signing-secret"
        runtime.put_secret("webhook-signing", {"secret": secret})
        api = runtime.start_gateway()
        webhook_latencies: list[float] = []
        with httpx.Client() as http:
            for index in range(products):
                body = json.dumps(
                    {
                        "type": "product.upsert",
                        "sku": f"HOOK-{index:04d}",
                        "name": f"Słuchawki bezprzewodowe Sony WH-1000XM5 czarne {index}",
                        "ean": "4548736132610",
                        "price": "1299.00",
                        "stock": 3,
                        "category_path": ["Elektronika", "Słuchawki"],
                        "attributes": {"Stan": "Nowy"},
                    }
                ).encode()
                delivery, stamp = f"hook-{index}", int(time.time())
                started = time.perf_counter()
                answer = http.post(
                    f"{api}/webhooks/shop",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        signing.DELIVERY_HEADER: delivery,
                        signing.TIMESTAMP_HEADER: str(stamp),
                        signing.SIGNATURE_HEADER: signing.sign(secret, stamp, delivery, body),
                    },
                )
                answer.raise_for_status()
                runtime.drain(timeout=60)
                webhook_latencies.append((time.perf_counter() - started) * 1000)

        offers = emulator.marketplace.state.offers
        active = sum(1 for o in offers.values() if o.status == "ACTIVE")
        print(f"products published: {active} active offers of {3 * products} sent")
        queue_p90 = statistics.quantiles(latencies, n=10, method="inclusive")[-1]
        print(
            f"queue -> offer latency, one product at a time: median {statistics.median(latencies):.0f} ms, "
            f"p90 {queue_p90:.0f} ms, max {max(latencies):.0f} ms"
        )
        hook_p90 = statistics.quantiles(webhook_latencies, n=10, method="inclusive")[-1]
        print(
            f"webhook -> offer latency (signed POST via the local gateway): median "
            f"{statistics.median(webhook_latencies):.0f} ms, p90 {hook_p90:.0f} ms"
        )
        print(f"burst of {products}: {burst_seconds:.1f} s, {products / burst_seconds:.1f} offers/s")
        print(f"Allegro calls per new offer: {create_calls:.2f} (the first includes the category parameters)")
        print(f"Allegro calls per price change: {price_calls:.2f}")
        record(
            "catalog_publish",
            {
                "products": products,
                "active_offers": active,
                "queue_to_offer_p50_ms": round(statistics.median(latencies)),
                "queue_to_offer_p90_ms": round(queue_p90),
                "queue_to_offer_max_ms": round(max(latencies)),
                "webhook_to_offer_p50_ms": round(statistics.median(webhook_latencies)),
                "webhook_to_offer_p90_ms": round(hook_p90),
                "burst_offers_per_s": round(products / burst_seconds, 2),
                "allegro_calls_per_new_offer": round(create_calls, 2),
                "allegro_calls_per_price_change": round(price_calls, 2),
            },
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
