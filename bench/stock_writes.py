"""DynamoDB write units per stock change, end to end, as DynamoDB would bill them (issue 21, goal 5: <= 4).

The real path on the local runtime (moto) and the emulator: a signed `stock.set` webhook over HTTP ->
shop_webhook -> `shop-events` -> catalog_worker (catalogue + ledger) -> `stock-changes` -> stock_propagator
-> Allegro. One seller account, one offer per SKU, created from a product.upsert with a realistic product
page (`--description-bytes`, default 2,000: the catalogue keeps the shop's product next to its stock).

Every DynamoDB write a function makes is metered from its request: the items before and after it are read
back (outside the functions, unmetered) and billed by `bench/_write_units.py` (1 unit per started KB of the
larger image, failed conditions and deletes included, transactions 2x). Printed per function, table and
purpose; then the same for a shop retrying a delivery it already sent (same delivery id).

Run: .venv/bin/python -m bench.stock_writes [skus] [changes per SKU] [--description-bytes N]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.client
import botocore.exceptions
import httpx

from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.shop import signing
from allegro_sync.emulator import Emulator
from allegro_sync.local import LocalRuntime
from bench._results import record
from bench._seller import HEADPHONES_GTIN, catalogue_world
from bench._write_units import write_units

ACCOUNT = "shop1"  # connected by catalogue_world
SECRET = "bench-stock-writes-signing-secret"
# The issue's figure for the code before this bench's changes (bench/REPORT.md of 2026-11-28, recounted):
# measured with this bench on commit e2f7a97 as OLD_MEASURED below.
OLD_ISSUE_FIGURE = 12.0
GOAL = 4.0
# Levels each SKU's shop reports in turn: sales, a sell-out (ends the offer), a restock (re-activates it).
LEVELS = (4, 3, 0, 6, 5, 2, 7, 1)

_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass(frozen=True)
class Write:
    function: str
    table: str
    purpose: str
    operation: str
    units: int
    failed: bool


def purpose(table: str, key: dict[str, Any]) -> str:
    """A readable name for what an item is, from its key layout (`pk`/`sk` prefixes)."""
    pk, sk = (_plain(key.get(k)) for k in ("pk", "sk"))
    if table == "changes":
        return "change log entry"
    return f"{pk.split('#')[0]}#… / {sk.split('#')[0] + ('#…' if '#' in sk else '')}"


def _plain(value: Any) -> str:
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


def _typed_key(key: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, dict) else {"S": str(v)} for k, v in key.items() if k in ("pk", "sk")}


def _targets(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """(physical table, key, transactional) of every item a write request touches."""
    if operation == "PutItem":
        return [(params["TableName"], params["Item"], False)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(params["TableName"], params["Key"], False)]
    if operation == "BatchWriteItem":
        found = []
        for table, requests in params["RequestItems"].items():
            for request in requests:
                body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
                found.append((table, body, False))
        return found
    found = []
    for entry in params["TransactItems"]:
        ((_, body),) = entry.items()
        found.append((body["TableName"], body.get("Item") or body["Key"], True))
    return found


class WriteMeter:
    """Bills every DynamoDB write the runtime's functions make (calls made outside a function are set-up)."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self._runtime = runtime
        self._tables = {physical: logical for logical, physical in runtime.wiring.tables.items()}
        self._raw = runtime.client("dynamodb")
        self._local = threading.local()
        self._lock = threading.Lock()
        self.writes: list[Write] = []

    def _image(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        self._local.inside = True
        try:
            item: dict[str, Any] | None = self._raw.get_item(
                TableName=table, Key=_typed_key(key), ConsistentRead=True
            ).get("Item")
            return item
        finally:
            self._local.inside = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        original = botocore.client.BaseClient._make_api_call
        meter = self

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            function = meter._runtime.invoker.running_here()
            if (
                function is None
                or operation not in _WRITES
                or getattr(meter._local, "inside", False)
                or client.meta.service_model.endpoint_prefix != "dynamodb"
            ):
                return original(client, operation, params)
            targets = _targets(operation, params)
            before = [meter._image(table, key) for table, key, _ in targets]
            failed = False
            try:
                return original(client, operation, params)
            except botocore.exceptions.ClientError:
                failed = True
                raise
            finally:
                for (table, key, transactional), old in zip(targets, before, strict=True):
                    logical = meter._tables.get(table, table)
                    units = write_units(old, meter._image(table, key), transactional=transactional)
                    write = Write(function, logical, purpose(logical, key), operation, units, failed)
                    with meter._lock:
                        meter.writes.append(write)

        botocore.client.BaseClient._make_api_call = metered
        try:
            yield
        finally:
            botocore.client.BaseClient._make_api_call = original

    def take(self) -> list[Write]:
        with self._lock:
            taken, self.writes = self.writes, []
        return taken


class Shop:
    """The shop's side: signed deliveries to the local HTTP API, each remembered for a retry."""

    def __init__(self, api: str) -> None:
        self._api = api
        self.sent: list[tuple[str, bytes]] = []

    def post(self, payload: dict[str, Any], delivery: str | None = None) -> None:
        body = json.dumps(payload).encode() if delivery is None else dict(self.sent)[delivery]
        delivery = delivery or uuid.uuid4().hex
        headers = {
            "Content-Type": "application/json",
            **signing.signed_headers(SECRET, delivery, body, int(time.time())),
        }
        answer = httpx.post(f"{self._api}/webhooks/shop", content=body, headers=headers, timeout=60)
        if answer.status_code != 202:
            raise RuntimeError(f"webhook answered {answer.status_code}: {answer.text}")
        self.sent.append((delivery, body))


def product(sku: str, description_bytes: int) -> dict[str, Any]:
    paragraph = "<p>Bezprzewodowe słuchawki z aktywną redukcją szumów, 30 h pracy na baterii.</p>"
    return {
        "type": "product.upsert",
        "sku": sku,
        "name": "Słuchawki Sony WH-1000XM5 czarne",
        "ean": HEADPHONES_GTIN,
        "price": "1299.00",
        "stock": 5,
        "category_path": ["Elektronika", "Słuchawki"],
        "description_html": (paragraph * (description_bytes // len(paragraph.encode()) + 1))[
            :description_bytes
        ],
        "image_urls": [f"https://sklep.example.pl/img/{sku}-{n}.jpg" for n in range(3)],
        "attributes": {"Stan": "Nowy", "Kolor": "czarny"},
    }


def table_of(writes: list[Write], changes: int) -> None:
    """Units per change by function / table / purpose / operation, printed."""
    grouped: dict[tuple[str, str, str, str], list[Write]] = defaultdict(list)
    for write in writes:
        grouped[(write.function, write.table, write.purpose, write.operation)].append(write)
    header = f"{'function':17} {'table':12} {'purpose':30} {'operation':19} {'writes':>7} {'units':>6}"
    print(f"  {header} /change")
    for (function, table, what, operation), group in sorted(grouped.items()):
        units = sum(w.units for w in group)
        failed = sum(w.failed for w in group)
        note = f"  ({failed} failed conditions)" if failed else ""
        print(
            f"  {function:17} {table:12} {what:30} {operation:19} {len(group):7d} {units:6d} "
            f"{units / changes:6.2f}{note}"
        )


def kind_of(step: int) -> str:
    level, before = LEVELS[step % len(LEVELS)], LEVELS[(step - 1) % len(LEVELS)] if step else 5
    if level == 0:
        return "sell-out (ends the offer)"
    return "restock (re-activates it)" if before == 0 else "level change (offer keeps selling)"


def run_changes(
    shop: Shop, runtime: LocalRuntime, meter: WriteMeter, skus: list[str], steps: int, *, dated: bool
) -> tuple[list[Write], dict[str, list[float]]]:
    """`steps` rounds of one stock.set per SKU (with the shop's `occurred_at` when `dated`), each drained;
    returns the writes and the units per change of each kind of change."""
    writes: list[Write] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    for step in range(steps):
        for sku in skus:
            event: dict[str, Any] = {"type": "stock.set", "sku": sku, "stock": LEVELS[step % len(LEVELS)]}
            if dated:
                event["occurred_at"] = datetime.now(UTC).isoformat()
            shop.post(event)
        runtime.drain(timeout=60)
        taken = meter.take()
        writes += taken
        by_kind[kind_of(step)].append(sum(w.units for w in taken) / len(skus))
    return writes, by_kind


def report(title: str, writes: list[Write], changes: int, by_kind: dict[str, list[float]]) -> float:
    print(title)
    table_of(writes, changes)
    units = sum(w.units for w in writes)
    for kind, figures in sorted(by_kind.items()):
        print(f"    {kind:38} {sum(figures) / len(figures):5.2f} units per change")
    print(
        f"  write units: {units} = {units / changes:.2f} per stock change "
        f"(before: about {OLD_ISSUE_FIGURE:g} per the issue, {OLD_MEASURED:.2f} measured; goal <= {GOAL:g})"
    )
    return units / changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("skus", nargs="?", type=int, default=4)
    parser.add_argument("changes_per_sku", nargs="?", type=int, default=len(LEVELS))
    parser.add_argument("--description-bytes", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    skus = [f"WRITES-{n:03d}" for n in range(args.skus)]
    steps = args.changes_per_sku
    with catalogue_world() as (emulator, runtime):
        runtime.put_secret("webhook-signing", {"secret": SECRET})
        shop = Shop(runtime.start_gateway())
        for sku in skus:
            shop.post(product(sku, args.description_bytes))
        runtime.drain(timeout=60)
        meter = WriteMeter(runtime)
        with meter.installed():
            dated, dated_kinds = run_changes(shop, runtime, meter, skus, steps, dated=True)
            retried = [delivery for delivery, _ in shop.sent[-len(skus) :]]
            undated, undated_kinds = run_changes(shop, runtime, meter, skus, steps, dated=False)
            retried += [delivery for delivery, _ in shop.sent[-len(skus) :]]
            for delivery in retried:
                shop.post({}, delivery=delivery)
            runtime.drain(timeout=60)
            retry_writes = meter.take()
        last = LEVELS[(steps - 1) % len(LEVELS)]
        wrong = [sku for sku in skus if _shown(emulator, runtime, sku) != last]
    changes = steps * len(skus)
    page = args.description_bytes
    print(f"{changes} stock changes twice ({args.skus} SKUs, 1 offer each, product page {page} B)")
    per_change = report(
        "with the shop's occurred_at (as docs/webhooks.md asks):", dated, changes, dated_kinds
    )
    undated_per_change = report(
        "without occurred_at (the signed timestamp stands in: a delivery marker is kept):",
        undated,
        changes,
        undated_kinds,
    )
    print(f"a shop retrying {len(retried)} deliveries it sent (same delivery id, half of them dated):")
    retry_units = sum(w.units for w in retry_writes)
    table_of(retry_writes, len(retried))
    print(f"  write units: {retry_units} = {retry_units / len(retried):.2f} per retried delivery")
    print(f"offers not showing the shop's last level: {len(wrong)}")
    record(
        "stock_writes",
        {
            "stock_changes": changes,
            "skus": args.skus,
            "description_bytes": page,
            "wcu_per_stock_change": round(per_change, 3),
            "wcu_per_stock_change_undated": round(undated_per_change, 3),
            "wcu_per_stock_change_before": OLD_MEASURED,
            "wcu_per_stock_change_issue": OLD_ISSUE_FIGURE,
            "wcu_by_kind": {k: round(sum(v) / len(v), 3) for k, v in dated_kinds.items()},
            "wcu_per_retried_delivery": round(retry_units / len(retried), 3),
            "offers_wrong": len(wrong),
        },
    )


def _shown(emulator: Emulator, runtime: LocalRuntime, sku: str) -> int | None:
    link = DynamoCatalog(runtime.application("catalog_worker").table("catalog")).link(sku, ACCOUNT)
    if link is None or link.offer_id is None:
        return None
    return int(emulator.marketplace.offer(link.offer_id)["stock"]["available"])


OLD_MEASURED = 10.12  # this bench on commit e2f7a97 (before the cuts), 4 SKUs x 8 changes


if __name__ == "__main__":
    main()
