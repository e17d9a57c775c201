"""Builds the order flow's use cases from a function's environment, once per process and deployment.

Kept out of the handlers so they stay a few lines of Powertools wiring. Everything is keyed by the
resource names and endpoint it was built for, so a process that drives several deployments (the local
runtime, tests) never writes to another one's tables.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.factory import client_from_env
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.dynamodb.orders import (
    CatalogOfferLinks,
    DynamoOrderCursors,
    DynamoOrderRepository,
)
from allegro_sync.adapters.order_queues import SqsOrderQueue, SqsShopOutbox, SqsStockChangeHook
from allegro_sync.adapters.token_store import custody, token_source_for
from allegro_sync.domain.orders import StockCountPoint
from allegro_sync.services.orders import GapScanner, OrderImporter, OrderPoller, PollSettings
from allegro_sync.services.stock import StockLedger
from allegro_sync.services.tokens import AccountStatus

STOCK_COUNT_AT_ENV = "ORDER_STOCK_COUNT_AT"
POLL_RUN_SECONDS_ENV = "ORDER_POLL_RUN_SECONDS"
POLL_INTERVAL_SECONDS_ENV = "ORDER_POLL_INTERVAL_SECONDS"

_T = TypeVar("_T")
_lock = threading.Lock()
_built: dict[tuple[str, ...], Any] = {}


def _cached(kind: str, build: Callable[[], _T], *env_names: str) -> _T:
    key = (kind, os.environ.get("AWS_ENDPOINT_URL", ""), *(os.environ.get(n, "") for n in env_names))
    with _lock:
        if key not in _built:
            _built[key] = build()
        return _built[key]  # type: ignore[no-any-return]


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None


def poll_settings() -> PollSettings:
    """Defaults: poll every 5 s for 50 s of the 70 s timeout; ORDER_POLL_* override (0 s: one poll)."""
    return PollSettings(
        run_seconds=_float_env(POLL_RUN_SECONDS_ENV, 50.0),
        interval_seconds=_float_env(POLL_INTERVAL_SECONDS_ENV, 5.0),
    )


def connected_clients() -> dict[str, AllegroClient]:
    """One client per CONNECTED seller account; a disconnected one waits for a human, not for us."""
    profiles = custody().registry.all()
    return {
        p.name: client_from_env(token_source_for(p.name), account=p.name)
        for p in profiles
        if p.status is AccountStatus.CONNECTED
    }


def client_for(account: str) -> AllegroClient:
    return client_from_env(token_source_for(account), account=account)


def order_poller() -> OrderPoller:
    return OrderPoller(
        _cached("cursors", DynamoOrderCursors, "TABLE_CONTROL"),
        _cached("order-queue", SqsOrderQueue, "QUEUE_ORDERS_URL"),
        settings=poll_settings(),
    )


def gap_scanner() -> GapScanner:
    return GapScanner(
        _cached("cursors", DynamoOrderCursors, "TABLE_CONTROL"),
        _cached("orders", DynamoOrderRepository, "TABLE_ORDERS"),
        _cached("order-queue", SqsOrderQueue, "QUEUE_ORDERS_URL"),
    )


def order_importer() -> OrderImporter:
    def build() -> OrderImporter:
        return OrderImporter(
            DynamoOrderRepository(),
            StockLedger(DynamoLedgerRepository()),
            SqsShopOutbox(),
            SqsStockChangeHook(),
            CatalogOfferLinks(),
            count_at=StockCountPoint.parse(os.environ.get(STOCK_COUNT_AT_ENV)),
        )

    return _cached(
        "importer",
        build,
        "TABLE_ORDERS",
        "TABLE_LEDGER",
        "TABLE_CATALOG",
        "QUEUE_SHOP_OUTBOX_URL",
        "QUEUE_STOCK_CHANGES_URL",
        STOCK_COUNT_AT_ENV,
    )
