"""Builds the propagator and the reconciler from a function's environment, once per process and deployment.

Kept out of the handlers so they stay Powertools wiring. Keyed by the resource names and endpoint, so a
process driving several deployments (the local runtime, tests) never mixes their tables.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from aws_lambda_powertools import Logger

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.factory import client_from_env
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog, changes_table
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.dynamodb.pushed import DynamoPushLog
from allegro_sync.adapters.token_store import connected_accounts, token_source_for
from allegro_sync.services.propagation import Propagator
from allegro_sync.services.reconcile import Reconciler
from allegro_sync.services.stock import StockLedger
from allegro_sync.topology import secret_env, table_env

logger = Logger(child=True)

_lock = threading.RLock()
_built: dict[tuple[str, ...], Any] = {}
_WIRING = (
    table_env("ledger"),
    table_env("catalog"),
    table_env("changes"),
    secret_env("accounts"),
    "ALLEGRO_API_URL",
)


class AccountClients:
    """One Allegro client per seller account per process (sharing the process's rate guard)."""

    def __init__(self) -> None:
        self._clients: dict[str, AllegroClient] = {}
        self._lock = threading.Lock()

    def client(self, account: str) -> AllegroClient:
        with self._lock:
            if account not in self._clients:
                self._clients[account] = client_from_env(token_source_for(account), account=account)
            return self._clients[account]


class CatalogRecreator:
    """`ArchivedOffers` through the catalogue's publishing use case (`Publisher.recreate`).

    The catalogue creates a new offer from the stored product (#10743), or leaves its link WAITING with
    the reason when it cannot publish now; the ledger then sells the SKU through the new id, not the old.
    """

    def __init__(self, ledger: StockLedger) -> None:
        self._ledger = ledger

    def recreate(self, sku: str, account: str, offer_id: str) -> str | None:
        from allegro_sync.handlers.catalog_worker import publisher  # the catalogue's own wiring

        new_id = publisher().recreate(sku, account, offer_id)
        self._ledger.unlink_offer(sku, offer_id)
        if new_id is not None and new_id != offer_id:
            self._ledger.link_offer(sku, new_id, account)
            return new_id
        logger.warning("archived offer waits for re-publication", extra={"sku": sku, "account": account})
        return None


def _key(kind: str) -> tuple[str, ...]:
    return (kind, os.environ.get("AWS_ENDPOINT_URL", ""), *(os.environ.get(n, "") for n in _WIRING))


def stock_ledger() -> StockLedger:
    with _lock:
        key = _key("ledger")
        if key not in _built:
            _built[key] = StockLedger(DynamoLedgerRepository())
        return _built[key]  # type: ignore[no-any-return]


def propagator() -> Propagator:
    ledger = stock_ledger()
    with _lock:
        key = _key("propagator")
        if key not in _built:
            _built[key] = Propagator(
                views=ledger,
                pushed=DynamoPushLog(),
                clients=AccountClients(),
                changes=DynamoChangeLog(changes_table()),
                archived=CatalogRecreator(ledger),
            )
        return _built[key]  # type: ignore[no-any-return]


def reconciler() -> Reconciler:
    propagate = propagator()
    with _lock:
        key = _key("reconciler")
        if key not in _built:
            _built[key] = Reconciler(
                ledger=stock_ledger(),
                clients=AccountClients(),
                propagator=propagate,
                accounts=lambda: [p.name for p in connected_accounts()],
            )
        return _built[key]  # type: ignore[no-any-return]
