"""Onboard a whole shop catalogue: a CSV or WooCommerce export becomes `ProductUpsert`s on `shop-events`.

The rows travel the same path as webhooks (FIFO group = SKU, the catalog worker publishes them), so an
imported product and a product the shop announced later are one and the same thing. Resumable: every
queued SKU is recorded under the file's hash, and a rerun of the same file skips them; the events of a
rerun keep the first run's timestamp, so whatever slips through twice (a crash between queueing and
recording) is a redelivery the queue's de-duplication and the worker's order guard both drop.
The file's columns and how rows are read: `domain/catalog_file.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from allegro_sync.contracts.catalog import LinkStatus, ProductStatus, order_key
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.contracts.webhooks import QueuedEvent
from allegro_sync.domain.catalog_file import (
    CatalogRow,
    Format,
    RowProblem,
    detect_format,
    file_hash,
    parse_catalog,
)
from allegro_sync.domain.product_checks import shortening_warnings

QUEUE_BATCH = 10  # one SQS batch: progress is recorded after each


def queued_event(product: ProductUpsert, digest: str) -> QueuedEvent:
    """FIFO group = SKU (as webhooks); de-duplication id = file hash + SKU + row version (content digest)."""
    version = hashlib.sha256(product.model_dump_json().encode()).hexdigest()[:16]
    dedup = hashlib.sha256(f"{digest}:{product.sku}:{version}".encode()).hexdigest()
    return QueuedEvent(event=product, group_id=product.sku, deduplication_id=dedup)


# --- importing ----------------------------------------------------------------------------------------------


class EventQueue(Protocol):
    """`adapters.queues.ShopEventQueue`: raises when SQS refuses a message."""

    def publish(self, events: Sequence[QueuedEvent]) -> None: ...


class ImportProgress(Protocol):
    """Which SKUs of a file (by hash) are already queued; kept so an interrupted import resumes."""

    def begin(self, digest: str, *, name: str, rows: int, at: datetime) -> datetime:
        """Record the import (first time) and return when it first started (its events' timestamp)."""
        ...

    def queued(self, digest: str) -> set[str]: ...

    def mark_queued(self, digest: str, skus: Sequence[str]) -> None: ...


@dataclass
class ImportResult:
    file_hash: str
    queued: list[CatalogRow] = field(default_factory=list)
    skipped: list[CatalogRow] = field(default_factory=list)  # queued by an earlier, interrupted run
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)  # what Allegro's limits will shorten

    @property
    def products(self) -> list[CatalogRow]:
        """Every good row of the file, whichever run queued it."""
        return sorted(self.queued + self.skipped, key=lambda r: r.row)


def import_catalog(
    data: bytes,
    *,
    name: str,
    queue: EventQueue,
    progress: ImportProgress,
    now: datetime,
    fmt: Format | None = None,
    on_row: Callable[[CatalogRow, bool], None] = lambda row, queued: None,
    on_start: Callable[[int], None] = lambda total: None,
) -> ImportResult:
    """Queue every good row not queued before; `on_row(row, queued_now)` drives a progress bar.

    Progress is recorded after each SQS batch, so an interruption loses at most one batch's record, and
    that batch is a harmless redelivery on the rerun. Bad rows are reported, never queued.
    """
    chosen = fmt or detect_format(name, data)
    digest = file_hash(data)
    parsed = parse_catalog(data, fmt=chosen, occurred_at=now)  # validates before anything is recorded
    started = progress.begin(digest, name=name, rows=len(parsed.rows), at=now)
    if started != now:
        parsed = parse_catalog(data, fmt=chosen, occurred_at=started)  # a rerun: the first run's events
    done = progress.queued(digest)
    on_start(len(parsed.rows))
    result = ImportResult(file_hash=digest, problems=parsed.problems, warnings=shortened(parsed.rows))
    pending: list[CatalogRow] = []
    for row in parsed.rows:
        if row.product.sku in done:
            result.skipped.append(row)
            on_row(row, False)
            continue
        pending.append(row)
        if len(pending) == QUEUE_BATCH:
            _flush(
                pending=pending, digest=digest, queue=queue, progress=progress, result=result, on_row=on_row
            )
    _flush(pending=pending, digest=digest, queue=queue, progress=progress, result=result, on_row=on_row)
    return result


def check_catalog(data: bytes, *, name: str, now: datetime, fmt: Format | None = None) -> ImportResult:
    """`catalog import --dry-run`: what an import would queue, refuse and shorten; touches nothing."""
    parsed = parse_catalog(data, fmt=fmt or detect_format(name, data), occurred_at=now)
    return ImportResult(
        file_hash=parsed.file_hash,
        queued=parsed.rows,
        problems=parsed.problems,
        warnings=shortened(parsed.rows),
    )


def shortened(rows: Sequence[CatalogRow]) -> list[RowProblem]:
    """Per row, what Allegro's limits will cut (title, description), named by field."""
    return [
        RowProblem(row.row, warning.field, warning.problem, row.product.sku)
        for row in rows
        for warning in shortening_warnings(row.product)
    ]


def _flush(
    *,
    pending: list[CatalogRow],
    digest: str,
    queue: EventQueue,
    progress: ImportProgress,
    result: ImportResult,
    on_row: Callable[[CatalogRow, bool], None],
) -> None:
    if not pending:
        return
    queue.publish([queued_event(r.product, digest) for r in pending])
    progress.mark_queued(digest, [r.product.sku for r in pending])
    for row in pending:
        result.queued.append(row)
        on_row(row, True)
    pending.clear()


# --- the outcome --------------------------------------------------------------------------------


class StatusReader(Protocol):
    def status(self, sku: str) -> ProductStatus: ...


@dataclass(frozen=True)
class ProductOutcome:
    """One imported product on one account, once the worker has handled the import's event."""

    sku: str
    account: str
    status: LinkStatus
    offer_id: str | None
    reasons: tuple[str, ...]


@dataclass
class ImportSummary:
    settled: list[ProductOutcome] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)  # SKUs the worker has not finished (timeout)

    def count(self, status: LinkStatus) -> int:
        return sum(1 for o in self.settled if o.status is status)


def summarize(rows: Sequence[CatalogRow], accounts: Sequence[str], catalog: StatusReader) -> ImportSummary:
    """Each product's state per account, counted only once the worker applied this import's event
    (or a newer one); the rest are unsettled, still on the queue or being retried."""
    summary = ImportSummary()
    for row in rows:
        key = order_key(row.product.occurred_at, row.product.version)
        status = catalog.status(row.product.sku)
        links = {link.account: link for link in status.links}
        done = [links[a] for a in accounts if a in links and links[a].applied_key >= key]
        if len(done) < len(accounts):
            summary.unsettled.append(row.product.sku)
            continue
        summary.settled.extend(
            ProductOutcome(link.sku, link.account, link.status, link.offer_id, link.reasons) for link in done
        )
    return summary


def wait_for_outcome(
    rows: Sequence[CatalogRow],
    accounts: Sequence[str],
    catalog: StatusReader,
    *,
    timeout: float,
    now: Callable[[], float],
    sleep: Callable[[float], None],
    interval: float = 2.0,
) -> ImportSummary:
    """Poll the products' statuses until every one settled or `timeout` seconds passed."""
    deadline = now() + timeout
    summary = summarize(rows, accounts, catalog)
    while summary.unsettled and now() < deadline:
        sleep(interval)
        waiting = {r.product.sku for r in rows} & set(summary.unsettled)
        again = summarize([r for r in rows if r.product.sku in waiting], accounts, catalog)
        summary = ImportSummary(settled=summary.settled + again.settled, unsettled=again.unsettled)
    return summary
