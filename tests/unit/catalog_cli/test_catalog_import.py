"""Catalogue files -> ProductUpserts, as real exports look (Polish, decimal commas, Excel)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from allegro_sync.contracts.catalog import LinkStatus, OfferLink, ProductStatus, order_key
from allegro_sync.contracts.webhooks import QueuedEvent
from allegro_sync.domain.catalog_file import CatalogFileError, CatalogRow, parse_catalog, parse_price
from allegro_sync.services.catalog_import import ImportSummary, import_catalog, wait_for_outcome

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DEMO = Path(__file__).resolve().parents[3] / "demo"
HEADER = "sku,ean,name,description_html,image_urls,price,cost_price,stock,category_path,attributes\n"


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("129,99", "129.99"),
        ("129.99", "129.99"),
        ("1 299,00", "1299.00"),
        ("1.299,00", "1299.00"),
        ("1,299.00", "1299.00"),
        ("15", "15"),
        ("49,9 zł", "49.9"),
        ("1\u00a0000,50", "1000.50"),
    ],
)
def test_prices_take_a_dot_or_a_decimal_comma(text: str, value: str) -> None:
    assert parse_price(text) == Decimal(value)


@pytest.mark.parametrize("text", ["abc", "12,345", "-5", "1.2.3", ""])
def test_what_is_not_a_price_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a price"):
        parse_price(text)


def test_a_polish_csv_row_becomes_the_full_product() -> None:
    data = _csv(
        'ŻÓŁW-1,5901234123457,Zażółć gęślą jaźń – czajnik,"<p>Opis, z przecinkiem</p>",'
        'https://s.pl/a.jpg|https://s.pl/b.jpg,"129,99","80,5",7,Dom > Kuchnia > Czajniki,'
        '"Stan=Nowy; Moc=2000 W; Kolor=Biały"'
    )

    parsed = parse_catalog(data, fmt="csv", occurred_at=T0)

    assert parsed.problems == []
    [row] = parsed.rows
    product = row.product
    assert row.row == 2
    assert (product.sku, product.ean, product.name) == (
        "ŻÓŁW-1",
        "5901234123457",
        "Zażółć gęślą jaźń – czajnik",
    )
    assert (product.price, product.cost_price, product.stock) == (Decimal("129.99"), Decimal("80.5"), 7)
    assert product.category_path == ["Dom", "Kuchnia", "Czajniki"]
    assert product.attributes == {"Stan": "Nowy", "Moc": "2000 W", "Kolor": "Biały"}
    assert [str(u) for u in product.image_urls] == ["https://s.pl/a.jpg", "https://s.pl/b.jpg"]
    assert product.description_html == "<p>Opis, z przecinkiem</p>"
    assert product.occurred_at == T0


def test_polish_excel_saves_semicolons_and_windows_1250() -> None:
    text = (
        "sku;name;price;category_path;stock\n"
        "KSIĄŻKA-1;Pan Tadeusz – Adam Mickiewicz;24,90;Książki > Epika;3\n"
    )

    parsed = parse_catalog(text.encode("cp1250"), fmt="csv", occurred_at=T0)

    [row] = parsed.rows
    assert row.product.sku == "KSIĄŻKA-1"
    assert row.product.name == "Pan Tadeusz – Adam Mickiewicz"
    assert row.product.price == Decimal("24.90")
    assert row.product.category_path == ["Książki", "Epika"]


def test_bad_rows_name_the_row_the_field_and_the_problem_and_the_rest_go_on() -> None:
    data = _csv(
        "OK-1,,Dobry produkt testowy,,,10,,1,A > B,",
        "BAD-EAN,12345,Produkt,,,10,,1,A,",
        "BAD-PRICE,,Produkt,,,dziesięć,,1,A,",
        "BAD-STOCK,,Produkt,,,10,,-3,A,",
        "BAD-ATTR,,Produkt,,,10,,1,A,Kolor",
        "NO-CAT,,Produkt,,,10,,1,,",
        "BAD URL,,Produkt,,,10,,1,A,",
        "BAD-IMG,,Produkt,,ftp://x,10,,1,A,",
        "OK-1,,Znowu ten sam SKU,,,10,,1,A,",
        ",,Bez SKU,,,10,,1,A,",
    )

    parsed = parse_catalog(data, fmt="csv", occurred_at=T0)

    assert [r.product.sku for r in parsed.rows] == ["OK-1"]
    found = [(p.row, p.sku, p.field) for p in parsed.problems]
    assert found == [
        (3, "BAD-EAN", "ean"),
        (4, "BAD-PRICE", "price"),
        (5, "BAD-STOCK", "stock"),
        (6, "BAD-ATTR", "attributes"),
        (7, "NO-CAT", "category_path"),
        (8, "BAD URL", "sku"),
        (9, "BAD-IMG", "image_urls"),
        (10, "OK-1", "sku"),
        (11, "", "sku"),
    ]
    messages = {p.sku: p.problem for p in parsed.problems}
    assert messages["BAD-EAN"] == "an EAN has 8 or 12-14 digits (got '12345')"
    assert "'dziesięć' is not a price" in messages["BAD-PRICE"]
    assert "'-3' is not a whole number" in messages["BAD-STOCK"]
    assert "'Kolor' is not key=value" in messages["BAD-ATTR"]
    assert messages["OK-1"] == "duplicate SKU, first at row 2"
    assert str(parsed.problems[0]) == "row 3 (BAD-EAN): ean: an EAN has 8 or 12-14 digits (got '12345')"


def test_a_file_without_the_required_columns_is_refused_whole() -> None:
    with pytest.raises(CatalogFileError, match="lacks column\\(s\\) price, category_path"):
        parse_catalog(b"sku,name\nA,B\n", fmt="csv", occurred_at=T0)


def test_a_woocommerce_export_maps_ean_cost_stock_and_refuses_what_cannot_sell() -> None:
    parsed = parse_catalog(
        (DEMO / "woocommerce-products.json").read_bytes(), fmt="woocommerce", occurred_at=T0
    )

    by_sku = {r.product.sku: r.product for r in parsed.rows}
    sony = by_sku["WOO-SONY-XM5"]
    assert (sony.ean, sony.price, sony.cost_price, sony.stock) == (
        "4548736132610",
        Decimal("1299.00"),
        Decimal("950.00"),
        5,
    )
    assert sony.category_path == ["Słuchawki"]
    assert sony.attributes == {"Stan": "Nowy", "Marka": "Sony"}
    assert sony.source == "woocommerce"
    assert by_sku["WOO-PHILIPS-HD9350"].ean == "8710103760139"  # from the `_ean` meta field
    assert by_sku["WOO-LALKA"].stock is None  # stock not managed in the shop: unknown, not 0
    [variable] = parsed.problems
    assert (variable.row, variable.sku, variable.field) == (4, "WOO-KOSZULKA", "type")


def test_a_woocommerce_file_that_is_not_an_array_is_refused() -> None:
    with pytest.raises(CatalogFileError, match="JSON array"):
        parse_catalog(json.dumps({"id": 1}).encode(), fmt="woocommerce", occurred_at=T0)
    with pytest.raises(CatalogFileError, match="not a WooCommerce product export"):
        parse_catalog(b"[{", fmt="woocommerce", occurred_at=T0)


# --- resumable import ---------------------------------------------------------------------


class FakeQueue:
    def __init__(self, fail_on_batch: int | None = None) -> None:
        self.sent: list[QueuedEvent] = []
        self.batches = 0
        self.fail_on_batch = fail_on_batch

    def publish(self, events: Sequence[QueuedEvent]) -> None:
        self.batches += 1
        if self.batches == self.fail_on_batch:
            raise RuntimeError("SQS went away")
        self.sent.extend(events)


class MemoryProgress:
    def __init__(self) -> None:
        self.started: dict[str, datetime] = {}
        self.done: dict[str, set[str]] = {}

    def begin(self, digest: str, *, name: str, rows: int, at: datetime) -> datetime:
        return self.started.setdefault(digest, at)

    def queued(self, digest: str) -> set[str]:
        return set(self.done.get(digest, set()))

    def mark_queued(self, digest: str, skus: Sequence[str]) -> None:
        self.done.setdefault(digest, set()).update(skus)


def _catalogue(rows: int) -> bytes:
    return _csv(*(f'SKU-{i:03d},,Produkt numer {i},,,"{i},99",,1,Dom > Ogród,' for i in range(rows)))


def test_an_interrupted_import_resumes_where_it_stopped_with_the_first_runs_events() -> None:
    data = _catalogue(35)
    progress = MemoryProgress()
    crashing = FakeQueue(fail_on_batch=3)
    with pytest.raises(RuntimeError, match="SQS went away"):
        import_catalog(data, name="sklep.csv", queue=crashing, progress=progress, now=T0)

    later = T0 + timedelta(hours=1)
    queue = FakeQueue()
    result = import_catalog(data, name="sklep.csv", queue=queue, progress=progress, now=later)

    assert len(crashing.sent) == 20
    assert [e.event.sku for e in queue.sent] == [f"SKU-{i:03d}" for i in range(20, 35)]
    assert (len(result.queued), len(result.skipped)) == (15, 20)
    assert {e.event.occurred_at for e in queue.sent} == {T0}  # the first run's time: ordering stays stable
    assert all(e.group_id == e.event.sku for e in queue.sent)
    assert len(result.products) == 35


def test_the_same_row_always_gets_the_same_dedup_id_and_a_changed_file_a_new_one() -> None:
    data = _catalogue(3)
    first, again, changed = FakeQueue(), FakeQueue(), FakeQueue()
    import_catalog(data, name="a.csv", queue=first, progress=MemoryProgress(), now=T0)
    import_catalog(data, name="a.csv", queue=again, progress=MemoryProgress(), now=T0)
    import_catalog(data + b"\n", name="a.csv", queue=changed, progress=MemoryProgress(), now=T0)

    assert [e.deduplication_id for e in first.sent] == [e.deduplication_id for e in again.sent]
    assert not {e.deduplication_id for e in first.sent} & {e.deduplication_id for e in changed.sent}
    assert all(len(e.deduplication_id) <= 128 for e in first.sent)  # SQS's limit


def test_bad_rows_are_never_queued() -> None:
    queue = FakeQueue()
    result = import_catalog(
        _csv("OK-1,,Dobry produkt,,,10,,1,A,", "BAD,1,Zły,,,10,,1,A,"),
        name="a.csv",
        queue=queue,
        progress=MemoryProgress(),
        now=T0,
    )

    assert [e.event.sku for e in queue.sent] == ["OK-1"]
    assert [p.sku for p in result.problems] == ["BAD"]


# --- waiting for the outcome --------------------------------------------------------------


class Catalogue:
    """Links appear as the 'worker' (each sleep) gets to them."""

    def __init__(self, rows: list[CatalogRow], after_sleeps: int) -> None:
        self.rows = rows
        self.sleeps = 0
        self.after = after_sleeps

    def status(self, sku: str) -> ProductStatus:
        row = next(r for r in self.rows if r.product.sku == sku)
        if self.sleeps < self.after:
            return ProductStatus(product=None, links=[])
        key = order_key(row.product.occurred_at, row.product.version)
        state = LinkStatus.PUBLISHED if sku.endswith("0") else LinkStatus.WAITING
        return ProductStatus(product=None, links=[OfferLink(sku, "shop1", state, applied_key=key)])


def waited(
    products: int, *, worker_done_after_sleeps: int, timeout: float
) -> tuple[ImportSummary, Catalogue, float]:
    """`wait_for_outcome` on a fake clock for `products` rows: (summary, catalogue, seconds waited)."""
    rows = parse_catalog(_catalogue(products), fmt="csv", occurred_at=T0).rows
    catalogue = Catalogue(rows, after_sleeps=worker_done_after_sleeps)
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds
        catalogue.sleeps += 1

    summary = wait_for_outcome(rows, ["shop1"], catalogue, timeout=timeout, now=lambda: clock[0], sleep=sleep)
    return summary, catalogue, clock[0]


def test_the_summary_waits_for_the_worker_and_counts_each_outcome() -> None:
    summary, catalogue, _ = waited(4, worker_done_after_sleeps=2, timeout=60)

    assert summary.unsettled == []
    assert (summary.count(LinkStatus.PUBLISHED), summary.count(LinkStatus.WAITING)) == (1, 3)
    assert catalogue.sleeps == 2


def test_the_summary_gives_up_at_the_timeout_and_names_what_is_unfinished() -> None:
    summary, _, waited_seconds = waited(2, worker_done_after_sleeps=1000, timeout=10)

    assert summary.unsettled == ["SKU-000", "SKU-001"]
    assert summary.settled == []
    assert waited_seconds >= 10
