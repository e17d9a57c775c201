"""`buyers forget` against the local runtime's real queues and tables (moto), through the CLI: nothing of the
buyer is left in any queue or table afterwards, every other buyer's order is untouched, and nothing of the
buyer is printed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from allegro_sync.cli.main import app
from allegro_sync.domain.orders import BuyerDetails
from allegro_sync.local.runtime import LocalRuntime
from tests.fixtures.local import MakeLocalRuntime

runner = CliRunner()
FORGOTTEN = {
    "id": "b-1",
    "login": "kupujacy-1",
    "email": "jan.kowalski@allegromail.pl",
    "lastName": "Kowalski",
}
OTHER = {"id": "b-2", "login": "kupujaca-2", "email": "anna.nowak@allegromail.pl", "lastName": "Nowak"}


@pytest.fixture
def runtime(make_local_runtime: MakeLocalRuntime) -> LocalRuntime:
    return make_local_runtime()  # started, not run: nothing consumes the outbox meanwhile


def _order(form: str, buyer: dict[str, str]) -> str:
    return json.dumps(
        {
            "kind": "order.changed",
            "message_id": f"{form}:1",
            "account": "shop1",
            "checkout_form_id": form,
            "status": "READY_FOR_PROCESSING",
            "lines": [],
            "buyer": buyer,
            "delivery": {"address": {"lastName": buyer["lastName"], "street": "ul. Marszałkowska 1"}},
        }
    )


def _reference(form: str) -> str:
    """An order as the worker queues it now: its buyer's data is on the orders table."""
    body = json.loads(_order(form, OTHER))
    del body["buyer"], body["delivery"]
    return json.dumps({**body, "buyer_data_stored": True})


def _keep(runtime: LocalRuntime, form: str, buyer: dict[str, str]) -> None:
    """What the order worker stores before it queues the order."""
    delivery = {"address": {"lastName": buyer["lastName"], "street": "ul. Marszałkowska 1"}}
    details = BuyerDetails(form, "shop1", buyer, delivery, expires_at=2_000_000_000)
    runtime.application("order_worker").stored_buyers().keep(details)


def _table(runtime: LocalRuntime) -> list[str]:
    """Every item of the orders table, as text."""
    orders = runtime.application("order_worker").settings.table("orders")
    return [
        json.dumps(i, ensure_ascii=False) for i in runtime.client("dynamodb").scan(TableName=orders)["Items"]
    ]


def _everything(runtime: LocalRuntime) -> list[str]:
    """Every body still in the shop outbox and its DLQ (received with no visibility: left in place)."""
    sqs = runtime.client("sqs")
    wiring = runtime.wiring.queues["shop-outbox"]
    bodies: dict[str, str] = {}
    for url in (wiring.url, wiring.dlq_url):
        for _ in range(5):
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
                "Messages", []
            ):
                bodies[m["MessageId"]] = m["Body"]
    return list(bodies.values())


def test_forget_erases_the_buyer_from_every_queue_and_keeps_everyone_else(runtime: LocalRuntime) -> None:
    sqs: Any = runtime.client("sqs")
    wiring = runtime.wiring.queues["shop-outbox"]
    sqs.send_message(QueueUrl=wiring.dlq_url, MessageBody=_order("dead-1", FORGOTTEN))
    sqs.send_message(QueueUrl=wiring.dlq_url, MessageBody=_order("dead-2", OTHER))
    sqs.send_message(QueueUrl=wiring.url, MessageBody=_order("live-1", FORGOTTEN))
    sqs.send_message(QueueUrl=wiring.url, MessageBody=_order("live-2", OTHER))
    _keep(runtime, "stored-1", FORGOTTEN)
    _keep(runtime, "stored-2", OTHER)
    sqs.send_message(QueueUrl=wiring.url, MessageBody=_reference("stored-1"))  # names nobody: refers
    sqs.send_message(QueueUrl=wiring.url, MessageBody=_reference("stored-2"))

    dead_only = runner.invoke(app, ["buyers", "forget", "Jan.Kowalski@allegromail.pl"])
    assert dead_only.exit_code == 0, dead_only.output
    assert "dead-1" in dead_only.output
    # The stored data goes at once; its queued order names nobody and reaches the shop without it.
    assert "stored-1" in dead_only.output
    assert not [item for item in _table(runtime) if "Kowalski" in item or "kupujacy-1" in item]
    assert "left alone" in dead_only.output  # the live order is still on its way to the shop
    assert any("live-1" in body for body in _everything(runtime))

    _keep(runtime, "stored-3", FORGOTTEN)  # the buyer ordered again meanwhile
    sqs.send_message(QueueUrl=wiring.url, MessageBody=_reference("stored-3"))
    everything = runner.invoke(app, ["buyers", "forget", "kupujacy-1", "--pending"])
    assert everything.exit_code == 0, everything.output
    assert "live-1" in everything.output
    assert everything.output.count("stored-3") == 2  # the table's data, and the order it refers to
    assert "will not reach the shop" in everything.output
    for shown in (dead_only.output, everything.output):
        assert "Kowalski" not in shown
        assert "jan.kowalski" not in shown.lower()

    left = _everything(runtime)
    assert not [body for body in left if "Kowalski" in body or "kupujacy-1" in body or "b-1" in body]
    assert sorted(json.loads(body)["checkout_form_id"] for body in left) == [
        "dead-2",
        "live-2",
        "stored-1",
        "stored-2",
    ]
    table = _table(runtime)
    assert not [item for item in table if "Kowalski" in item or "kupujacy-1" in item or "b-1" in item]
    assert [item for item in table if "Nowak" in item]  # the other buyer's data is still there for the shop


def test_forget_without_a_buyer_is_refused_and_erases_nothing(runtime: LocalRuntime) -> None:
    wiring = runtime.wiring.queues["shop-outbox"]
    runtime.client("sqs").send_message(QueueUrl=wiring.dlq_url, MessageBody=_order("dead-1", FORGOTTEN))
    refused = runner.invoke(app, ["buyers", "forget", "  "])
    assert refused.exit_code == 2
    assert "name the buyer" in refused.output
    assert len(_everything(runtime)) == 1
