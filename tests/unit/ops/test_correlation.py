"""The correlation id helper and the publishers that carry it: attribute in, attribute out, same bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

from allegro_sync import correlation
from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.order_queues import SqsOrderQueue, SqsShopOutbox
from allegro_sync.adapters.queues import FifoMessage, SqsFifoPublisher
from allegro_sync.contracts.messages import OrderChanged, OrderNotice
from tests.fixtures.sqs import sqs_record

logger = Logger()


class LogLines(logging.Handler):
    """The service logger's JSON lines as dicts, through the Powertools formatter the handlers use."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logger.registered_formatter)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def ids(self, message: str) -> list[str | None]:
        return [line.get("correlation_id") for line in self.lines if line["message"] == message]


@pytest.fixture
def logs() -> Iterator[LogLines]:
    capture = LogLines()
    target = logging.getLogger(logger.service)
    target.addHandler(capture)
    logger.set_correlation_id(None)
    yield capture
    target.removeHandler(capture)
    logger.set_correlation_id(None)


class RecordingSqs:
    """Stands in for boto3's SQS client: keeps every request, accepts everything."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        self.batches.append(request["Entries"])
        return {"Successful": [{"Id": e["Id"]} for e in request["Entries"]], "Failed": []}

    def send_message(self, **request: Any) -> dict[str, Any]:
        self.sent.append(request)
        return {"MessageId": "m"}


# --- reading an SQS record ----------------------------------------------------------------------------


def test_a_record_with_the_attribute_is_correlated_by_it() -> None:
    raw = sqs_record("msg-1", correlation_id="delivery-42")

    assert correlation.of_record(raw) == "delivery-42"
    assert correlation.of_record(SQSRecord(raw)) == "delivery-42"


def test_a_record_without_the_attribute_falls_back_to_its_message_id() -> None:
    assert correlation.of_record(sqs_record("msg-old")) == "msg-old"
    assert correlation.of_record(sqs_record("msg-blank", correlation_id="   ")) == "msg-blank"
    no_attributes = sqs_record("msg-bare")
    del no_attributes["messageAttributes"]
    assert correlation.of_record(no_attributes) == "msg-bare"


def test_a_record_parsed_with_a_powertools_model_is_correlated_the_same_way() -> None:
    def parsed(raw: dict[str, Any]) -> SqsRecordModel:
        return SqsRecordModel.model_validate(raw)

    assert correlation.of_record(parsed(sqs_record("msg-1", correlation_id="delivery-42"))) == "delivery-42"
    assert correlation.of_record(parsed(sqs_record("msg-old"))) == "msg-old"
    assert correlation.of_record(parsed(sqs_record("msg-blank", correlation_id="   "))) == "msg-blank"


def test_an_oversized_attribute_is_cut_to_the_delivery_id_limit() -> None:
    assert correlation.of_record(sqs_record("m", correlation_id="x" * 5000)) == "x" * correlation.MAX_LENGTH


# --- the logger ----------------------------------------------------------------------------------------


def test_scope_sets_the_id_on_every_line_and_puts_the_previous_one_back(logs: LogLines) -> None:
    with correlation.scope("outer"):
        logger.info("a")
        with correlation.scope("inner"):
            logger.info("b")
            assert correlation.current() == "inner"
        with correlation.scope(None):  # no id of its own: keeps the current one
            logger.info("c")
        logger.info("d")
    logger.info("e")

    assert [(line["message"], line.get("correlation_id")) for line in logs.lines] == [
        ("a", "outer"),
        ("b", "inner"),
        ("c", "outer"),
        ("d", "outer"),
        ("e", None),
    ]
    assert correlation.current() is None


def test_each_record_of_a_batch_logs_under_its_own_id_and_nothing_lingers(logs: LogLines) -> None:
    @correlation.per_record
    def record_handler(record: SQSRecord) -> None:
        logger.info("handled", extra={"body": record.body})
        if record.body == "boom":
            raise ValueError("bad record")

    event = {
        "Records": [
            sqs_record("m1", "one", correlation_id="delivery-1"),
            sqs_record("m2", "boom", correlation_id="delivery-2"),
            sqs_record("m3", "three"),
        ]
    }
    answer = process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=BatchProcessor(event_type=EventType.SQS),
    )
    logger.info("after the batch")

    assert logs.ids("handled") == ["delivery-1", "delivery-2", "m3"]
    assert logs.ids("after the batch") == [None]
    assert answer["batchItemFailures"] == [{"itemIdentifier": "m2"}]


def test_records_parsed_by_the_processor_log_under_their_own_ids(logs: LogLines) -> None:
    @correlation.per_record
    def record_handler(record: SqsRecordModel) -> None:
        logger.info("handled", extra={"body": record.body})

    event = {"Records": [sqs_record("m1", "one", correlation_id="delivery-1"), sqs_record("m2", "two")]}
    answer = process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=BatchProcessor(event_type=EventType.SQS, model=SqsRecordModel),
    )

    assert logs.ids("handled") == ["delivery-1", "m2"]
    assert answer["batchItemFailures"] == []


def test_the_allegro_client_logs_its_calls_at_info_under_the_current_id(logs: LogLines) -> None:
    class Tokens:
        def access_token(self) -> str:
            return "secret-token-123"

        def token_rejected(self, rejected_token: str) -> str:
            return rejected_token

    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": "u1", "login": "l"}))
    url = "https://api.allegro.test"
    with (
        AllegroClient(
            AllegroEnvironment(url, url, url),
            Tokens(),
            account="shop1",
            http=httpx.Client(transport=transport),
        ) as client,
        correlation.scope("order-event-7"),
    ):
        client.me()

    [line] = [line for line in logs.lines if line["message"] == "Allegro call"]
    assert line["level"] == "INFO"
    assert (line["correlation_id"], line["allegro_method"], line["allegro_path"]) == (
        "order-event-7",
        "GET",
        "/me",
    )
    assert line["account"] == "shop1"
    assert "secret-token-123" not in json.dumps(logs.lines)


# --- publishing ----------------------------------------------------------------------------------------


def test_fifo_messages_carry_the_current_id_as_an_attribute_and_keep_their_body() -> None:
    sqs = RecordingSqs()
    publisher = SqsFifoPublisher("https://sqs.local/q.fifo", sqs)
    message = FifoMessage('{"sku": "A"}', "A", "A:1")

    with correlation.scope("delivery-9"):
        publisher.send([message, FifoMessage('{"sku": "B"}', "B", "B:1", correlation_id="own-id")])
    publisher.send([message])  # outside any event: no attribute at all

    [inside, outside] = sqs.batches
    assert [e["MessageAttributes"]["correlation_id"]["StringValue"] for e in inside] == [
        "delivery-9",
        "own-id",
    ]
    assert inside[0]["MessageAttributes"]["correlation_id"]["DataType"] == "String"
    assert [e["MessageBody"] for e in inside] == ['{"sku": "A"}', '{"sku": "B"}']
    assert inside[0]["MessageDeduplicationId"] == "A:1"
    assert "MessageAttributes" not in outside[0]


def test_order_notices_start_their_own_chain_event_id_or_checkout_form(logs: LogLines) -> None:
    sqs = RecordingSqs()
    event = OrderNotice(account="shop1", checkout_form_id="form-1", source="event", event_id="ev-100")
    scan = OrderNotice(account="shop1", checkout_form_id="form-2", source="scan", revision="r7")

    with correlation.scope("poller-run"):
        SqsOrderQueue("https://sqs.local/orders.fifo", sqs).publish([event, scan])

    [entries] = sqs.batches
    assert [e["MessageAttributes"]["correlation_id"]["StringValue"] for e in entries] == ["ev-100", "form-2"]
    assert [json.loads(e["MessageBody"]) for e in entries] == [
        json.loads(event.model_dump_json()),
        json.loads(scan.model_dump_json()),
    ]
    assert logs.ids("order notice queued") == ["ev-100", "form-2"]


def test_the_shop_outbox_message_carries_the_id_next_to_its_other_attributes() -> None:
    sqs = RecordingSqs()
    outbox = SqsShopOutbox("https://sqs.local/outbox", sqs)
    message = OrderChanged.model_validate(
        {
            "message_id": "order:form-1:1",
            "checkout_form_id": "form-1",
            "account": "shop1",
            "status": "READY_FOR_PROCESSING",
            "revision": "r1",
            "updated_at": None,
            "lines": [],
        }
    )

    with correlation.scope("ev-100"):
        outbox.publish_order(message)
    outbox.publish_order(message)

    first, second = (request["MessageAttributes"] for request in sqs.sent)
    assert first["correlation_id"]["StringValue"] == "ev-100"
    assert first["kind"]["StringValue"] == message.kind
    assert "correlation_id" not in second
