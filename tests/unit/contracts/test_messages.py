"""The `stock-changes` message: one model for both producers, and the consumer reads every shape in flight."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from allegro_sync.adapters.order_queues import SqsStockChanges
from allegro_sync.contracts.messages import StockChanged, parse_stock_changed
from allegro_sync.domain.ledger import OfferAction, OfferTarget, StockView

VIEW = StockView(
    sku="SKU-1",
    revision=7,
    available=3,
    offers=(
        OfferTarget("111", "main", OfferAction.SET, 3),
        OfferTarget("222", "second", OfferAction.END, 0),
    ),
)

# What the catalogue worker queued before this model existed (a hand-built dict): may still be in flight.
CATALOG_BODY_BEFORE = {
    "kind": "stock.changed",
    "message_id": "stock:SKU-1:7",
    "sku": "SKU-1",
    "revision": 7,
    "available": 3,
    "offers": [{"offer_id": "111", "account": "main", "action": "SET", "quantity": 3}],
    "cause": "shop stock level",
}


class Sent:
    """Stands in for SQS: keeps each batch's bodies and FIFO ids."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        return {"Successful": Entries}


def test_both_producers_send_one_model_with_the_same_fifo_ids() -> None:
    sqs = Sent()
    queue = SqsStockChanges(lambda: "http://127.0.0.1/queue/stock-changes.fifo", sqs)
    queue.stock_changed(VIEW, "shop stock level")
    from_order = StockChanged.from_view(
        VIEW, cause="sale", checkout_form_id="form-1", account="main", sale_ids=("form-1:line-1",)
    )

    (entry,) = sqs.entries
    from_catalog = parse_stock_changed(entry["MessageBody"])
    assert entry["MessageDeduplicationId"] == from_order.message_id == "stock:SKU-1:7"
    assert entry["MessageGroupId"] == "SKU-1"
    assert (from_catalog.sku, from_catalog.revision, from_catalog.offers) == (
        from_order.sku,
        from_order.revision,
        from_order.offers,
    )
    assert from_catalog.reason(7) == "stock level at ledger revision 7 after a shop stock level"
    assert from_order.reason(7) == "stock level at ledger revision 7 after a sale (Allegro order form-1)"


def test_the_consumer_reads_the_shape_queued_before_the_model_and_fields_it_does_not_know() -> None:
    before = parse_stock_changed(json.dumps(CATALOG_BODY_BEFORE))
    newer = parse_stock_changed(json.dumps({**CATALOG_BODY_BEFORE, "added_later": {"x": 1}}))

    assert (before.sku, before.revision, before.cause, before.checkout_form_id) == (
        "SKU-1",
        7,
        "shop stock level",
        None,
    )
    assert newer == before


def test_a_body_without_message_id_gets_the_one_fifo_de_duplication_uses() -> None:
    assert parse_stock_changed('{"sku": "A", "revision": 2}').message_id == "stock:A:2"


def test_the_correlation_id_never_travels_in_the_body() -> None:
    message = StockChanged.from_view(VIEW, cause="sale").model_copy(update={"correlation_id": "delivery-9"})

    assert "delivery-9" not in message.model_dump_json()


@pytest.mark.parametrize(
    "body",
    [
        '{"sku": "", "revision": 1}',
        '{"sku": "A", "revision": -1}',
        '{"revision": 1}',
        "not json",
    ],
)
def test_a_malformed_body_is_refused(body: str) -> None:
    with pytest.raises(ValidationError):
        parse_stock_changed(body)
