"""Onboard a whole shop catalogue: a CSV or WooCommerce export becomes `ProductUpsert`s on `shop-events`.

The rows travel the same path as webhooks (FIFO group = SKU, the catalog worker publishes them), so an
imported product and a product the shop announced later are one and the same thing. Resumable: every
queued SKU is recorded under the file's hash, and a rerun of the same file skips them; the events of a
rerun keep the first run's timestamp, so whatever slips through twice (a crash between queueing and
recording) is a redelivery the queue's de-duplication and the worker's order guard both drop.

CSV columns (header row; `,` `;` or tab separated; UTF-8, or Windows-1250 as Polish Excel saves it):
    sku, ean, name, description_html, image_urls (| separated), price, cost_price, stock,
    category_path (> separated), attributes (key=value; separated)
Required: sku, name, price, category_path. Prices take a dot or a decimal comma ("129,99", "1 299,00").

WooCommerce: the REST API's product JSON array (GET /wp-json/wc/v3/products). EAN from `global_unique_id`
(WooCommerce 9.2+) or an EAN/GTIN meta field; the first category's name is the category path (the product
JSON has no category tree); variable products are refused (export their variations instead).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from allegro_sync.contracts.catalog import LinkStatus, ProductStatus, order_key
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.contracts.webhooks import QueuedEvent

CSV_COLUMNS = (
    "sku",
    "ean",
    "name",
    "description_html",
    "image_urls",
    "price",
    "cost_price",
    "stock",
    "category_path",
    "attributes",
)
REQUIRED_COLUMNS = ("sku", "name", "price", "category_path")
QUEUE_BATCH = 10  # one SQS batch: progress is recorded after each
WOO_EAN_META = ("_global_unique_id", "_ean", "ean", "_alg_ean", "hwp_product_gtin", "_wpm_gtin_code", "gtin")
WOO_COST_META = ("_wc_cog_cost", "_cost_price", "cost_price")

Format = Literal["csv", "woocommerce"]


class CatalogFileError(ValueError):
    """The file as a whole cannot be read (not CSV/JSON, missing columns): nothing is queued."""


@dataclass(frozen=True)
class RowProblem:
    """A bad row: its number (CSV: line number, header = 1; JSON: position from 1), field and problem."""

    row: int
    field: str
    problem: str
    sku: str = ""

    def __str__(self) -> str:
        who = f" ({self.sku})" if self.sku else ""
        return f"row {self.row}{who}: {self.field}: {self.problem}"


@dataclass(frozen=True)
class CatalogRow:
    row: int
    product: ProductUpsert


@dataclass(frozen=True)
class ParsedCatalog:
    file_hash: str
    format: Format
    rows: list[CatalogRow]
    problems: list[RowProblem]


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def detect_format(name: str, data: bytes) -> Format:
    """By extension, else by content: a JSON array is a WooCommerce export."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "woocommerce"
    if lowered.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return "woocommerce" if data.lstrip()[:1] == b"[" else "csv"


def parse_catalog(data: bytes, *, fmt: Format, occurred_at: datetime) -> ParsedCatalog:
    """Every good row as a ProductUpsert stamped `occurred_at`, every bad one as a RowProblem."""
    digest = file_hash(data)
    raw = _csv_rows(data) if fmt == "csv" else _woo_rows(data)
    source: Literal["generic", "woocommerce"] = "generic" if fmt == "csv" else "woocommerce"
    rows: list[CatalogRow] = []
    problems: list[RowProblem] = []
    first_row: dict[str, int] = {}
    for number, fields in raw:
        if isinstance(fields, RowProblem):
            problems.append(fields)
            continue
        built = _product(number, fields, digest=digest, occurred_at=occurred_at, source=source)
        if isinstance(built, RowProblem):
            problems.append(built)
            continue
        if built.sku in first_row:
            problems.append(
                RowProblem(number, "sku", f"duplicate SKU, first at row {first_row[built.sku]}", built.sku)
            )
            continue
        first_row[built.sku] = number
        rows.append(CatalogRow(number, built))
    return ParsedCatalog(file_hash=digest, format=fmt, rows=rows, problems=problems)


# --- values --------------------------------------------------------------------------------------------

_PRICE = re.compile(r"^\d+([.,]\d{1,2})?$")


def parse_price(text: str) -> Decimal:
    """'129,99', '129.99', '1 299,00', '1.299,00', '1,299.00' -> Decimal; ValueError when not a price."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").removesuffix("zł").removesuffix("PLN")
    if "," in cleaned and "." in cleaned:  # the last one is the decimal separator
        thousands = "." if cleaned.rfind(",") > cleaned.rfind(".") else ","
        cleaned = cleaned.replace(thousands, "")
    if not _PRICE.match(cleaned):
        raise ValueError(f"{text.strip()!r} is not a price (e.g. 129.99 or 129,99)")
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not a price") from None


def parse_attributes(text: str) -> dict[str, str]:
    """'Stan=Nowy; Marka=Sony' -> {'Stan': 'Nowy', 'Marka': 'Sony'}; ValueError naming a bad pair."""
    found: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{part.strip()!r} is not key=value")
        found[key.strip()] = value.strip()
    return found


def _stock(text: str) -> int | None:
    cleaned = text.strip()
    if not cleaned:
        return None
    if not re.fullmatch(r"\d+", cleaned):
        raise ValueError(f"{cleaned!r} is not a whole number >= 0")
    return int(cleaned)


# --- CSV -------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1250")  # Polish Excel's "CSV" (never fails: every byte maps)


def _csv_rows(data: bytes) -> Iterable[tuple[int, dict[str, Any] | RowProblem]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CatalogFileError(
            f"the CSV lacks column(s) {', '.join(missing)}; expected a header with {', '.join(CSV_COLUMNS)}"
        )
    reader.fieldnames = header
    for record in reader:
        number = reader.line_num
        if None in record:
            yield number, RowProblem(number, "row", "more values than columns (quote values with commas)")
            continue
        values = {k: (v or "").strip() for k, v in record.items() if k in CSV_COLUMNS}
        if not any(values.values()):
            continue  # an empty line (Excel adds them)
        yield number, _csv_fields(number, values)


def _csv_fields(number: int, values: Mapping[str, str]) -> dict[str, Any] | RowProblem:
    sku = values.get("sku", "")
    fields: dict[str, Any] = {
        "sku": sku,
        "name": values.get("name", ""),
        "description_html": values.get("description_html", ""),
        "image_urls": [u.strip() for u in values.get("image_urls", "").split("|") if u.strip()],
        "category_path": [p.strip() for p in values.get("category_path", "").split(">") if p.strip()],
    }
    if values.get("ean"):
        fields["ean"] = values["ean"]
    try:
        current = "price"
        if not values.get("price"):
            raise ValueError("is required")
        fields["price"] = parse_price(values["price"])
        current = "cost_price"
        if values.get("cost_price"):
            fields["cost_price"] = parse_price(values["cost_price"])
        current = "stock"
        fields["stock"] = _stock(values.get("stock", ""))
        current = "attributes"
        fields["attributes"] = parse_attributes(values.get("attributes", ""))
    except ValueError as error:
        return RowProblem(number, current, str(error), sku)
    return fields


# --- WooCommerce -----------------------------------------------------------------------------------------


def _woo_rows(data: bytes) -> Iterable[tuple[int, dict[str, Any] | RowProblem]]:
    try:
        products = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CatalogFileError(f"not a WooCommerce product export (JSON): {error}") from None
    if not isinstance(products, list):
        raise CatalogFileError("a WooCommerce product export is a JSON array of products (GET /products)")
    for number, product in enumerate(products, start=1):
        if not isinstance(product, dict):
            yield number, RowProblem(number, "product", "not a JSON object")
            continue
        yield number, _woo_fields(number, product)


def _meta(product: Mapping[str, Any], keys: Sequence[str]) -> str:
    for entry in product.get("meta_data") or []:
        if isinstance(entry, dict) and entry.get("key") in keys and str(entry.get("value") or "").strip():
            return str(entry["value"]).strip()
    return ""


def _woo_fields(number: int, product: Mapping[str, Any]) -> dict[str, Any] | RowProblem:
    sku = str(product.get("sku") or "").strip()
    if product.get("type") == "variable":
        return RowProblem(
            number, "type", "a variable product has no price or stock: export its variations", sku
        )
    if product.get("status", "publish") != "publish":
        return RowProblem(number, "status", f"{product.get('status')!r}: not published in the shop", sku)
    categories = [c for c in product.get("categories") or [] if isinstance(c, dict) and c.get("name")]
    fields: dict[str, Any] = {
        "sku": sku,
        "name": str(product.get("name") or "").strip(),
        "description_html": str(product.get("description") or product.get("short_description") or ""),
        "image_urls": [
            str(i["src"]) for i in product.get("images") or [] if isinstance(i, dict) and i.get("src")
        ],
        "category_path": [str(categories[0]["name"]).strip()] if categories else [],
        "attributes": {
            str(a["name"]): ", ".join(str(o) for o in a.get("options") or [])
            for a in product.get("attributes") or []
            if isinstance(a, dict) and a.get("name") and a.get("options")
        },
    }
    ean = str(product.get("global_unique_id") or "").strip() or _meta(product, WOO_EAN_META)
    if ean:
        fields["ean"] = ean
    try:
        current = "price"
        price = str(product.get("price") or product.get("regular_price") or "")
        if not price:
            raise ValueError("is required (the product has no price in the shop)")
        fields["price"] = parse_price(price)
        current = "cost_price"
        cost = (
            str(product.get("cost_of_goods_sold", {}).get("total_value") or "")
            if isinstance(product.get("cost_of_goods_sold"), dict)
            else ""
        )
        cost = cost or _meta(product, WOO_COST_META)
        if cost:
            fields["cost_price"] = parse_price(cost)
        current = "stock_quantity"
        if product.get("manage_stock"):
            quantity = product.get("stock_quantity")
            fields["stock"] = _stock(str(quantity if quantity is not None else ""))
        elif product.get("stock_status") == "outofstock":
            fields["stock"] = 0
    except ValueError as error:
        return RowProblem(number, current, str(error), sku)
    return fields


# --- building the event -----------------------------------------------------------------------------------

_FIELD_HELP = {
    "ean": "an EAN has 8 or 12-14 digits",
    "sku": "a SKU is 1-100 characters without spaces",
    "category_path": "a category path is required (A > B > C, at most 10 levels)",
    "name": "a name is required (at most 500 characters)",
    "image_urls": "image URLs must be http(s) URLs (at most 16)",
}


def _product(
    number: int,
    fields: Mapping[str, Any],
    *,
    digest: str,
    occurred_at: datetime,
    source: Literal["generic", "woocommerce"],
) -> ProductUpsert | RowProblem:
    sku = str(fields.get("sku", ""))
    try:
        return ProductUpsert(
            delivery_id=f"import-{digest[:16]}-{sku}"[:200],
            occurred_at=occurred_at,
            source=source,
            **fields,
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "row"
        value = fields.get(where)
        detail = _FIELD_HELP.get(where, first["msg"])
        shown = f" (got {value!r})" if value not in (None, "", []) and where != "description_html" else ""
        return RowProblem(number, where, f"{detail}{shown}", sku)


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
    result = ImportResult(file_hash=digest, problems=parsed.problems)
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
