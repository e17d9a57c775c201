"""The shop_webhook handler in the local runtime: real API Gateway v2 events, moto SQS/DynamoDB/Secrets."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from allegro_sync.adapters.config_secret import write_section
from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.local import LocalRuntime
from allegro_sync.local.events import HttpRequest, http_api_v2_event
from allegro_sync.local.moto_server import reset
from allegro_sync.local.provision import client
from allegro_sync.topology import TOPOLOGY

SECRET = "test-signing-secret-Ä"
WOO_SECRET = "woo-secret-#1"


@dataclass
class Webhooks:
    """Drives the handler and looks at what it left behind (queue, table)."""

    runtime: LocalRuntime
    _clients: dict[str, Any] = field(default_factory=dict)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = client(service, self.runtime.wiring.endpoint, self.runtime.region)
        return self._clients[service]

    def set_secret(self, value: Any) -> None:
        # issue 21: the `webhook-signing` section of the configuration secret (a string is stored as such)
        write_section(
            self._client("secretsmanager"),
            self.runtime.wiring.secrets["webhook-signing"],
            "webhook-signing",
            value,
        )
        self.forget_secret()

    def forget_secret(self) -> None:
        """As a rotation lands once the handler's cached secret ages out (here: at once)."""
        self.runtime.application("shop_webhook").signing_secrets().forget()

    def post(
        self, path: str, body: bytes, headers: Sequence[tuple[str, str]], *, base64_body: bool = False
    ) -> tuple[int, dict[str, Any]]:
        event = http_api_v2_event(
            HttpRequest("POST", path, headers=list(headers), body=body), route_key=f"POST {path}"
        )
        if base64_body and not event.get("isBase64Encoded"):
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        answer = self.runtime.invoke("shop_webhook", event)
        return int(answer["statusCode"]), json.loads(answer["body"]) if answer.get("body") else {}

    def generic(
        self,
        payload: Any,
        *,
        delivery: str | None = None,
        timestamp: int | None = None,
        secret: str = SECRET,
        content_type: str = "application/json",
        raw: bytes | None = None,
        drop: Sequence[str] = (),
    ) -> tuple[int, dict[str, Any]]:
        body = raw if raw is not None else json.dumps(payload).encode()
        ts = int(time.time()) if timestamp is None else timestamp
        # Unique by default: moto's FIFO de-duplication outlives a purge between tests.
        delivery = delivery or uuid.uuid4().hex
        headers = [
            ("Content-Type", content_type),
            *signing.signed_headers(secret, delivery, body, ts).items(),
        ]
        return self.post("/webhooks/shop", body, [h for h in headers if h[0] not in drop])

    def woo(
        self,
        payload: Any,
        *,
        topic: str = "product.updated",
        delivery: str | None = None,
        secret: str = WOO_SECRET,
        raw: bytes | None = None,
        drop: Sequence[str] = (),
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, Any]]:
        body = raw if raw is not None else wc.dumps(payload)
        delivery = delivery or uuid.uuid4().hex
        headers = [
            ("Content-Type", content_type),
            ("X-WC-Webhook-Source", "https://sklep.example.pl/"),
            ("X-WC-Webhook-Topic", topic),
            ("X-WC-Webhook-ID", "7"),
            ("X-WC-Webhook-Delivery-ID", delivery),
            ("X-WC-Webhook-Signature", wc.sign(secret, body)),
        ]
        return self.post("/webhooks/woocommerce", body, [h for h in headers if h[0] not in drop])

    def clear(self) -> None:
        self.consume()
        table = self.runtime.wiring.tables["idempotency"]
        dynamodb = self._client("dynamodb")
        for item in self.stored():
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})

    def consume(self) -> None:
        """Delete every message, as a worker would (SQS allows one purge a minute)."""
        sqs = self._client("sqs")
        url = self.runtime.wiring.queues["shop-events"].url
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
                "Messages"
            )
            if not got:
                return
            for message in got:  # a fresh receipt handle: older ones no longer delete
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def queued(self) -> list[dict[str, Any]]:
        """Everything on shop-events (received and made visible again), in FIFO order."""
        sqs = self._client("sqs")
        url = self.runtime.wiring.queues["shop-events"].url
        messages: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
            ).get("Messages", [])
            new = [m for m in got if m["MessageId"] not in {x["MessageId"] for x in messages}]
            if not new:
                return messages
            messages.extend(new)

    def stored(self) -> list[dict[str, Any]]:
        table = self.runtime.wiring.tables["idempotency"]
        return list(self._client("dynamodb").scan(TableName=table).get("Items", []))

    def markers(self) -> int:
        """How many deliveries the handler remembers (not counting the product index)."""
        return sum(1 for item in self.stored() if item["pk"]["S"].startswith("webhook-delivery#"))

    def assert_untouched(self) -> None:
        assert self.queued() == []
        assert self.stored() == []


@pytest.fixture(scope="module")
def webhook_runtime(moto_endpoint: str) -> Iterator[LocalRuntime]:
    """One provisioned runtime per module (provisioning the topology is most of a test's cost);
    each test starts from an empty queue and table (`webhooks`). Not mixable with `local_runtime`."""
    reset(moto_endpoint)
    runtime = LocalRuntime(TOPOLOGY, aws_endpoint=moto_endpoint).start()
    yield runtime
    runtime.stop()


@pytest.fixture
def webhooks(webhook_runtime: LocalRuntime) -> Webhooks:
    hooks = Webhooks(webhook_runtime)
    hooks.clear()
    hooks.set_secret({"secret": SECRET, "woocommerce": WOO_SECRET})
    return hooks


def upsert(sku: str = "GARNEK-24", **overrides: Any) -> dict[str, Any]:
    return {
        "type": "product.upsert",
        "sku": sku,
        "name": "Garnek 24 cm",
        "price": "189.99",
        "stock": 5,
        "category_path": ["Dom", "Kuchnia"],
        **overrides,
    }
