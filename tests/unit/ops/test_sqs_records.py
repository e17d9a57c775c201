"""The SQS consumers' record models and batch processors: a handler gets its queue's message parsed, and a
body that does not parse fails its own record only (SQS retries it, the DLQ keeps it), never the batch."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from allegro_sync.adapters.batch import CoalescingFifoProcessor, FifoProcessor, RecordProcessor, json_field
from allegro_sync.adapters.sqs_records import (
    OrderNoticeRecord,
    OutboxRecord,
    QueueRecord,
    ShopEventRecord,
    ShopOrderStatusRecord,
)
from allegro_sync.contracts.messages import (
    SHOP_EVENT_ADAPTER,
    OrderNotice,
    ShopOrderStatus,
    StockChanged,
    StockSet,
)
from tests.fixtures.sqs import sqs_record

T0 = "2026-11-27T12:00:00+00:00"


def sqs(message_id: str, body: str) -> dict[str, Any]:
    return sqs_record(message_id, body, group="G", queue="q.fifo")


def notice(form: str) -> str:
    return OrderNotice(account="shop1", checkout_form_id=form, source="scan").model_dump_json()


STOCK_SET = StockSet.model_validate({"delivery_id": "d1", "occurred_at": T0, "sku": "A", "stock": 3})
QUEUES: list[tuple[type[QueueRecord], str, object]] = [
    (ShopEventRecord, SHOP_EVENT_ADAPTER.dump_json(STOCK_SET).decode(), STOCK_SET),
    (OrderNoticeRecord, notice("f1"), OrderNotice(account="shop1", checkout_form_id="f1", source="scan")),
    (OutboxRecord, StockChanged(sku="A", revision=2).model_dump_json(), StockChanged(sku="A", revision=2)),
    (ShopOrderStatusRecord, '{"checkout_form_id": "f1"}', ShopOrderStatus(checkout_form_id="f1")),
]


@pytest.mark.parametrize(("model", "body", "message"), QUEUES, ids=lambda v: getattr(v, "__name__", ""))
def test_each_queue_hands_its_handler_the_parsed_message_and_fails_only_a_malformed_record(
    model: type[QueueRecord], body: str, message: object
) -> None:
    seen: list[object] = []
    records = [
        sqs("bad-json", "{not json"),
        sqs("ok", body),
        sqs("bad-shape", '{"unexpected": 1}'),
    ]

    answer = process_partial_response(
        event={"Records": records},
        record_handler=lambda record: seen.append(record.body),
        processor=RecordProcessor(model),
    )

    assert seen == [message]
    assert answer == {"batchItemFailures": [{"itemIdentifier": "bad-json"}, {"itemIdentifier": "bad-shape"}]}


def test_a_malformed_record_after_a_failure_fails_with_the_rest_instead_of_the_whole_batch() -> None:
    handled: list[str] = []

    def handler(record: OrderNoticeRecord) -> None:
        handled.append(record.messageId)
        if record.messageId == "n1":
            raise RuntimeError("Allegro 503")

    answer = process_partial_response(
        event={
            "Records": [
                sqs("n0", notice("f0")),
                sqs("n1", notice("f1")),
                sqs("n2", "{not json"),
            ]
        },
        record_handler=handler,
        processor=FifoProcessor(model=OrderNoticeRecord),
    )

    assert handled == ["n0", "n1"]  # n0 done and deleted; n1 and everything after it comes back in order
    assert answer == {"batchItemFailures": [{"itemIdentifier": "n1"}, {"itemIdentifier": "n2"}]}


@pytest.mark.parametrize("model", [OrderNoticeRecord, None], ids=["parsed", "raw"])
def test_only_the_last_notice_of_a_form_in_a_batch_is_not_superseded(
    model: type[OrderNoticeRecord] | None,
) -> None:
    processor = CoalescingFifoProcessor(key=json_field("checkout_form_id"), model=model)
    superseded: dict[str, bool] = {}

    def handler(record: OrderNoticeRecord | SQSRecord) -> None:
        message_id = record.message_id if isinstance(record, SQSRecord) else record.messageId
        superseded[message_id] = processor.superseded(record)

    process_partial_response(
        event={
            "Records": [
                sqs("n1", notice("A")),
                sqs("n2", notice("B")),
                sqs("n3", notice("A")),
            ]
        },
        record_handler=handler,
        processor=processor,
    )

    assert superseded == {"n1": True, "n2": False, "n3": False}
