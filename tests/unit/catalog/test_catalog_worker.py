"""The catalog_worker handler's SQS FIFO wiring: a failed record holds back only its own SKU.

The handler runs with a bound application whose publisher is the test's: the publishing use case has
its own tests, here only the batch handling is under test.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest

from allegro_sync import bootstrap
from allegro_sync.bootstrap import Application
from allegro_sync.contracts.catalog import Outcome
from allegro_sync.contracts.messages import SHOP_EVENT_ADAPTER, PriceSet, ShopEvent, StockSet
from allegro_sync.handlers import catalog_worker
from allegro_sync.services.publishing import EventReport, OfferSettings, Publisher, RetryLater
from allegro_sync.settings import Settings
from tests.fixtures.sqs import sqs_record

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class FlakyPublisher:
    """Fails the first event of the SKUs in `failing`; records what it was asked to apply."""

    failing: set[str]
    applied: list[str] = field(default_factory=list)

    def batch(self, skus: object = ()) -> AbstractContextManager[None]:
        return nullcontext()

    def handle(self, event: ShopEvent, *, delivery: int | None = None) -> EventReport:
        if event.sku in self.failing:
            raise RetryLater(event.sku, {"shop1": RuntimeError("Allegro 503")})
        self.applied.append(event.delivery_id)
        return EventReport(event.sku, Outcome.APPLIED)


class WithPublisher(Application):
    def __init__(self, publisher: FlakyPublisher) -> None:
        super().__init__(Settings(function_name="catalog_worker"))
        self._publisher = publisher

    def publisher(self) -> Publisher:
        return cast(Publisher, self._publisher)


class Context:
    function_name = "catalog_worker"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:catalog_worker"
    aws_request_id = "req-1"


def _record(message_id: str, event: ShopEvent | str, group: str = "BROKEN") -> dict[str, Any]:
    body = event if isinstance(event, str) else SHOP_EVENT_ADAPTER.dump_json(event).decode()
    group = event.sku if not isinstance(event, str) else group
    return sqs_record(message_id, body, group=group, queue="shop-events.fifo")


def test_a_failed_record_fails_the_rest_of_its_sku_and_only_its_sku() -> None:
    fake = FlakyPublisher(failing={"A"})
    event = {
        "Records": [
            _record("a1", StockSet(delivery_id="a1", occurred_at=T0, sku="A", stock=1)),
            _record("b1", StockSet(delivery_id="b1", occurred_at=T0, sku="B", stock=1)),
            _record("a2", PriceSet(delivery_id="a2", occurred_at=T0, sku="A", price=Decimal(5))),
            _record("b2", PriceSet(delivery_id="b2", occurred_at=T0, sku="B", price=Decimal(5))),
        ]
    }

    with bootstrap.bind(WithPublisher(fake)):
        response = catalog_worker.handler(event, Context())

        assert response == {"batchItemFailures": [{"itemIdentifier": "a1"}, {"itemIdentifier": "a2"}]}
        assert fake.applied == ["b1", "b2"]

        fake.failing.clear()  # SQS delivers A's records again to a warm instance: nothing of A is remembered
        again = catalog_worker.handler({"Records": event["Records"][::2]}, Context())
    assert again == {"batchItemFailures": []}
    assert fake.applied == ["b1", "b2", "a1", "a2"]


def test_a_malformed_message_fails_without_touching_anything() -> None:
    fake = FlakyPublisher(failing=set())
    records = [
        _record("x", json.dumps({"type": "stock.set"})),
        _record("b1", StockSet(delivery_id="b1", occurred_at=T0, sku="B", stock=1)),
    ]

    with bootstrap.bind(WithPublisher(fake)):
        response = catalog_worker.handler({"Records": records}, Context())

    assert response == {"batchItemFailures": [{"itemIdentifier": "x"}]}  # kept for the DLQ, not dropped
    assert fake.applied == ["b1"]


def test_a_malformed_message_behind_a_failed_one_of_its_sku_fails_with_it_and_the_batch_goes_on() -> None:
    fake = FlakyPublisher(failing={"A"})
    records = [
        _record("a1", StockSet(delivery_id="a1", occurred_at=T0, sku="A", stock=1)),
        _record("x", "{not json", group="A"),
        _record("b1", StockSet(delivery_id="b1", occurred_at=T0, sku="B", stock=1)),
    ]

    with bootstrap.bind(WithPublisher(fake)):
        response = catalog_worker.handler({"Records": records}, Context())

    assert response == {"batchItemFailures": [{"itemIdentifier": "a1"}, {"itemIdentifier": "x"}]}
    assert fake.applied == ["b1"]


def offer_settings(env: dict[str, str]) -> OfferSettings:
    return Application(Settings.from_environ(env)).offer_settings()


def test_offer_settings_come_from_the_environment_and_bad_ones_are_named() -> None:
    settings = offer_settings({"OFFER_SETTINGS": '{"responsible_person": {"name": "Jan Kowalski"}}'})
    assert settings.product_set_extras() == {"responsiblePerson": {"name": "Jan Kowalski"}}
    assert offer_settings({}).product_set_extras() == {}
    with pytest.raises(ValueError, match="OFFER_SETTINGS is not valid offer settings JSON"):
        offer_settings({"OFFER_SETTINGS": '{"responsible_producer": "Sony"}'})
