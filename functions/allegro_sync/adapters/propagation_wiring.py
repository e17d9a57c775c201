"""Builds the propagator and the reconciler from a function's environment, once per process and deployment.

Kept out of the handlers so they stay Powertools wiring. Keyed by the resource names and endpoint, so a
process driving several deployments (the local runtime, tests) never mixes their tables.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.factory import client_from_env
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog, catalog_table
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog, changes_table
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.dynamodb.pushed import DynamoPushLog
from allegro_sync.adapters.token_store import connected_accounts, token_source_for
from allegro_sync.services.catalog import LinkStatus
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
    """`ArchivedOffers` through the catalogue's publishing use case (`Publisher.republish`).

    Republishing meets the archived id's 404 and creates a new offer (#10743); the ledger then links the
    new id instead of the old one. When the product cannot be published (never sent by the shop, waiting
    for a mapping), the link is marked WAITING with the reason, for `products status` and the operator.
    """

    def __init__(self, ledger: StockLedger, catalog: DynamoCatalog) -> None:
        self._ledger = ledger
        self._catalog = catalog

    def recreate(self, sku: str, account: str, offer_id: str) -> str | None:
        from allegro_sync.handlers.catalog_worker import publisher  # the catalogue's own wiring

        try:
            publisher().republish(sku)
        except LookupError as error:
            logger.warning("archived offer cannot be recreated yet", extra={"sku": sku, "error": str(error)})
        link = self._catalog.link(sku, account)
        new_id = link.offer_id if link is not None and link.offer_id not in (None, offer_id) else None
        self._ledger.unlink_offer(sku, offer_id)
        if new_id is not None:
            self._ledger.link_offer(sku, new_id, account)
            return new_id
        if link is not None:
            reason = (
                f"offer {offer_id} was archived by Allegro (ended over 60 days ago); "
                f"republish with `allegro-sync products retry {sku}`"
            )
            self._catalog.save_link(
                replace(link, offer_id=None, status=LinkStatus.WAITING, reasons=(reason, *link.reasons))
            )
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
                archived=CatalogRecreator(ledger, DynamoCatalog(catalog_table())),
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
