"""Webhook intake throughput: deliveries/second through the shop_webhook handler in-process against moto
(in-process `mock_aws`, so no HTTP hop to AWS: this is the handler's own cost plus moto's).

Scenarios, each on fresh delivery ids: a signed generic stock.set (queued), the same deliveries again
(duplicate: one DynamoDB conditional put, nothing queued), a wrong signature (refused before any AWS call),
and a WooCommerce product.updated (queued, plus the product index update).

"own code" is the handler's time minus the time spent inside boto3 calls: what a Lambda instance spends
besides waiting for DynamoDB/SQS (add ~5-10 ms per AWS call in a region for a real latency estimate).

Run: .venv/bin/python -m bench.webhook_intake [deliveries]   (default 150)
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

import boto3
from moto import mock_aws

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.local.events import HttpRequest, http_api_v2_event
from allegro_sync.local.provision import create_table
from allegro_sync.topology import TOPOLOGY, queue_env, secret_env, table_env
from bench._aws import AwsCalls
from bench._results import record

SECRET = "bench-secret"
REGION = "eu-central-1"


class Context:
    function_name = "shop_webhook"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:shop_webhook"
    aws_request_id = "bench"


def provision() -> None:
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_SERVICE_NAME": "allegro-sync",
            "POWERTOOLS_METRICS_NAMESPACE": "AllegroSync",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    tables = sorted(TOPOLOGY.function("shop_webhook").tables)  # its tables as topology.py grants them
    for table in tables:
        create_table(boto3.client("dynamodb"), table)
    url = boto3.client("sqs").create_queue(QueueName="shop-events.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    boto3.client("secretsmanager").create_secret(
        Name="webhook-signing", SecretString=json.dumps({"webhook-signing": {"secret": SECRET}})
    )
    os.environ.update(
        {
            **{table_env(table): table for table in tables},
            queue_env("shop-events"): url,
            secret_env("webhook-signing"): "webhook-signing",
        }
    )


def generic_event(delivery: str, *, secret: str = SECRET) -> dict[str, Any]:
    body = json.dumps({"type": "stock.set", "sku": f"SKU-{delivery[:8]}", "stock": 5}).encode()
    ts = int(time.time())
    headers = [
        ("Content-Type", "application/json"),
        (signing.DELIVERY_HEADER, delivery),
        (signing.TIMESTAMP_HEADER, str(ts)),
        (signing.SIGNATURE_HEADER, signing.sign(secret, ts, delivery, body)),
    ]
    return http_api_v2_event(HttpRequest("POST", "/webhooks/shop", headers=headers, body=body), route_key="x")


def woo_event(delivery: str, product_id: int) -> dict[str, Any]:
    body = wc.dumps(
        {
            "id": 7,
            "sku": f"W-{delivery[:8]}",
            "name": "Kubek",
            "price": "19.90",
            "manage_stock": True,
            "stock_quantity": 4,
            "categories": [{"id": 1, "name": "Kubki"}],
            "date_modified_gmt": "2026-11-27T10:00:00",
        }
    )
    headers = [
        ("Content-Type", "application/json"),
        ("X-WC-Webhook-Topic", "product.updated"),
        ("X-WC-Webhook-Delivery-ID", delivery),
        ("X-WC-Webhook-Source", "https://sklep.example.pl/"),
        ("X-WC-Webhook-Signature", wc.sign(SECRET, body)),
    ]
    return http_api_v2_event(
        HttpRequest("POST", "/webhooks/woocommerce", headers=headers, body=body), route_key="x"
    )


AWS = AwsCalls()  # boto3 time isolates the code's own


def run(
    name: str, events: list[dict[str, Any]], handler: Callable[[Any, Any], Any], expect: int
) -> dict[str, float]:
    latencies = []
    aws_before, calls_before = AWS.seconds, AWS.calls
    for event in events:
        with redirect_stdout(io.StringIO()):  # the handler's EMF metric lines stay out of the report
            t = time.perf_counter()
            answer = handler(event, Context())
            latencies.append(time.perf_counter() - t)
        if answer["statusCode"] != expect:
            raise SystemExit(f"{name}: expected {expect}, got {answer['statusCode']}: {answer['body']}")
    total = sum(latencies)
    n = len(events)
    p50 = statistics.median(latencies) * 1000
    own = (total - (AWS.seconds - aws_before)) / n * 1000
    calls = (AWS.calls - calls_before) / n
    print(
        f"{name:<22} {n / total:6.0f}/s  p50 {p50:6.2f} ms | own code {own:5.2f} ms "
        f"(~{1000 / own if own else 0:5.0f}/s per instance without AWS latency) | AWS calls {calls:.1f}"
    )
    return {"per_s": round(n / total), "p50_ms": round(p50, 2), "own_ms": round(own, 2), "aws_calls": calls}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    with mock_aws():
        provision()
        from allegro_sync.handlers import shop_webhook

        ids = [uuid.uuid4().hex for _ in range(count)]
        generic = [generic_event(i) for i in ids]
        figures = {
            "cold start + first": run(
                "cold start + first", [generic_event("warm-up")], shop_webhook.handler, 202
            ),
            "generic queued": run("generic queued", generic, shop_webhook.handler, 202),
            "generic duplicate": run("generic duplicate", generic, shop_webhook.handler, 202),
            "generic bad signature": run(
                "generic bad signature",
                [generic_event(i, secret="wrong") for i in ids],
                shop_webhook.handler,
                401,
            ),
        }
        woo = [woo_event(uuid.uuid4().hex, n) for n in range(count)]
        figures["woocommerce queued"] = run("woocommerce queued", woo, shop_webhook.handler, 202)
        queued = boto3.client("sqs").get_queue_attributes(
            QueueUrl=os.environ[queue_env("shop-events")], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        print(f"messages on shop-events: {queued} (expected {2 * count + 1}: nothing twice, nothing refused)")
        record("webhook_intake", {"deliveries": count, "scenarios": figures, "queued": int(queued)})


if __name__ == "__main__":
    main()
