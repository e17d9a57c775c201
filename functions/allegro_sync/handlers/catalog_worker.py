"""SQS FIFO `shop-events` -> Allegro offers on every connected seller account.

Thin wiring: parse each record into a shop event, hand it to `Publisher`, report partial failures.
`SqsFifoPartialProcessor(skip_group_on_error=True)`: when a record fails, the later records of the same
SKU (message group) in the batch fail with it, so they are retried in order; other SKUs go on.

A failed record is retried by SQS after the visibility timeout (6 x this function's timeout). Allegro's
longest block (429: one minute, extended by calls made during it) is far shorter than `maxReceiveCount`
(5) x that timeout, so a rate limit never pushes a shop event to the DLQ early.

Configuration: `OFFER_SETTINGS` (JSON, optional) holds the seller's offer defaults and EU product-safety
data — see `OfferSettings` in `services/publishing.py`, e.g.
`{"responsible_producer": {"type": "NAME", "name": "Sony"}, "offer_defaults": {"delivery": {...}}}`.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.adapters import correlation
from allegro_sync.adapters.allegro.factory import client_from_env
from allegro_sync.adapters.allegro.models import CategoryParameter
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog, catalog_table
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog, changes_table
from allegro_sync.adapters.dynamodb.mappings import DynamoMappings, mappings_table
from allegro_sync.adapters.dynamodb.repricing import RepricingOwnership
from allegro_sync.adapters.propagation_wiring import stock_ledger
from allegro_sync.adapters.queues import FifoMessage, SqsFifoPublisher
from allegro_sync.adapters.token_store import custody, token_source_for
from allegro_sync.domain.ledger import StockView
from allegro_sync.domain.orders import fifo_safe
from allegro_sync.domain.outbox import stock_message_id
from allegro_sync.domain.shop_events import parse_shop_event
from allegro_sync.services.catalog import LinkStatus, Outcome
from allegro_sync.services.publishing import OFFER_SETTINGS_ENV, AllegroPort, OfferSettings, Publisher
from allegro_sync.services.tokens import AccountStatus
from allegro_sync.topology import queue_env, secret_env, table_env

logger = Logger()
metrics = Metrics()
processor = SqsFifoPartialProcessor(skip_group_on_error=True)


_lock = threading.Lock()
_parameter_cache: dict[str, list[CategoryParameter]] = {}
_publishers: dict[tuple[str, ...], Publisher] = {}


class ConnectedAccounts:
    """`Accounts` from the account registry and token custody; one client per account per process."""

    def __init__(self) -> None:
        self._clients: dict[str, AllegroPort] = {}

    def connected(self) -> list[str]:
        return sorted(p.name for p in custody().registry.all() if p.status is AccountStatus.CONNECTED)

    def client(self, account: str) -> AllegroPort:
        if account not in self._clients:
            self._clients[account] = client_from_env(token_source_for(account), account=account)
        return self._clients[account]


class SqsStockChanges:
    """`StockChanges` on the `stock-changes` FIFO queue, shaped like the order worker's `StockChanged`.

    Same group (SKU) and de-duplication id (SKU + revision) as the order worker's, so a change the two
    report for one revision is pushed once; the propagator reads only `sku`, `revision` and `cause`.
    """

    def __init__(self, queue_url: str | None = None, client: Any = None) -> None:
        # Resolved on first send: the stock propagator builds this publisher too (to recreate an archived
        # offer) and seldom has anything to send.
        self._url, self._client = queue_url, client
        self._publisher: SqsFifoPublisher | None = None

    def stock_changed(self, view: StockView, cause: str) -> None:
        message_id = stock_message_id(view.sku, view.revision)
        body = {
            "kind": "stock.changed",
            "message_id": message_id,
            "sku": view.sku,
            "revision": view.revision,
            "available": view.available,
            "offers": [
                {
                    "offer_id": t.offer_id,
                    "account": t.account,
                    "action": t.action.value,
                    "quantity": t.quantity,
                }
                for t in view.offers
            ],
            "cause": cause,
        }
        if self._publisher is None:
            self._publisher = SqsFifoPublisher(
                self._url or os.environ[queue_env("stock-changes")], self._client
            )
        self._publisher.send([FifoMessage(json.dumps(body), fifo_safe(view.sku), fifo_safe(message_id))])


def offer_settings(environ: dict[str, str] | None = None) -> OfferSettings:
    raw = (environ if environ is not None else os.environ).get(OFFER_SETTINGS_ENV, "").strip()
    if not raw:
        return OfferSettings()
    try:
        return OfferSettings.model_validate_json(raw)
    except ValueError as error:
        raise ValueError(f"{OFFER_SETTINGS_ENV} is not valid offer settings JSON: {error}") from error


def publisher() -> Publisher:
    """The process's publisher (warm invocations reuse clients and caches), per deployment wiring."""
    names = (
        table_env("catalog"),
        table_env("mappings"),
        table_env("changes"),
        table_env("ledger"),
        queue_env("stock-changes"),
        secret_env("accounts"),
    )
    wiring = tuple(os.environ.get(n, "") for n in (*names, "ALLEGRO_API_URL", OFFER_SETTINGS_ENV))
    wiring += (str(id(custody())),)  # token custody rebuilt (tests, local runtime): new clients too
    with _lock:
        if wiring not in _publishers:
            _publishers[wiring] = build_publisher()
        return _publishers[wiring]


def build_publisher() -> Publisher:
    return Publisher(
        catalog=DynamoCatalog(catalog_table()),
        mappings=DynamoMappings(mappings_table()),
        changes=DynamoChangeLog(changes_table()),
        accounts=ConnectedAccounts(),
        settings=offer_settings(),
        parameter_cache=_parameter_cache,
        price_owner=RepricingOwnership(mappings_table()).owns_price,
        ledger=stock_ledger(),
        stock_changes=SqsStockChanges(),
    )


@correlation.per_record
def record_handler(record: SQSRecord) -> None:
    event = parse_shop_event(record.body)  # malformed: the record fails and ends in the DLQ, kept for replay
    logger.append_keys(sku=event.sku, delivery_id=event.delivery_id)
    report = publisher().handle(event)
    if report.outcome is Outcome.STALE:
        metrics.add_metric("StaleShopEvents", MetricUnit.Count, 1)
    waiting = [a for a, s in report.links.items() if s in (LinkStatus.WAITING, LinkStatus.FAILED)]
    if waiting:
        metrics.add_metric("ProductsNotPublished", MetricUnit.Count, len(waiting))
    logger.info(
        "shop event applied",
        extra={"event_type": event.type, "outcome": report.outcome.value, "links": dict(report.links)},
    )


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
