"""A shop's catalogue file (CSV or WooCommerce export) read into `ProductUpsert`s and row problems; no I/O.

CSV columns (header row; `,` `;` or tab separated; UTF-8, or Windows-1250 as Polish Excel saves it):
    sku, ean, name, description_html, image_urls (| separated), price, cost_price, stock,
    category_path (> separated), attributes (key=value; separated)
Required: sku, name, price, category_path. Prices take a dot or a decimal comma ("129,99", "1 299,00").
A row is refused (named by row and field) when the contract refuses it, or `domain/product_checks.py`
does (a price of 0, an EAN with a wrong check digit).

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import ValidationError

from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.domain.product_checks import product_problems

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
# Python's csv refuses fields over 128 KiB; a shop description may be longer (the contract takes 200,000
# characters, Allegro keeps 40,000 bytes: the rest is cut with a warning), so the reader allows this much.
CSV_FIELD_LIMIT = 1_000_000
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
        refused = product_problems(built)
        if refused:
            problems.extend(RowProblem(number, p.field, p.problem, built.sku) for p in refused)
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
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CatalogFileError(
            f"the CSV lacks column(s) {', '.join(missing)}; expected a header with {', '.join(CSV_COLUMNS)}"
        )
    reader.fieldnames = header
    try:
        yield from _csv_records(reader)
    except csv.Error as error:
        raise CatalogFileError(
            f"line {reader.line_num + 1}: {error} (a field over {CSV_FIELD_LIMIT:,} characters, or a quote "
            "left open: check that line's quoting)"
        ) from None


def _csv_records(reader: csv.DictReader[str]) -> Iterable[tuple[int, dict[str, Any] | RowProblem]]:
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
    "description_html": "a description is at most 200,000 characters",
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
