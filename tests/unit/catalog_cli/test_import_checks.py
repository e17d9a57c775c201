"""`catalog import` refuses what must not reach Allegro (row and field named), says what Allegro's limits
will cut, and `--dry-run` checks a file without any deployment; an unreadable file is one line, never
a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from allegro_sync.cli import catalog_cmd, deployment, output
from allegro_sync.cli.main import app

HEADER = "sku,ean,name,description_html,image_urls,price,cost_price,stock,category_path,attributes\n"
LONG_NAME = "Czajnik bardzo długi " + "ze stali nierdzewnej i filtrem " * 6  # ~200 characters


@pytest.fixture(autouse=True)
def wide_and_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide tables (no folded cells), and any use of a deployment fails the test."""
    wide = Console(width=400, color_system=None, record=True)
    monkeypatch.setattr(output, "console", wide)
    monkeypatch.setattr(catalog_cmd, "console", wide)

    def no_deployment(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dry run touched a deployment")

    monkeypatch.setattr(deployment, "application", no_deployment)


def run(tmp_path: Path, text: str, *args: str) -> Result:
    file = tmp_path / "katalog.csv"
    file.write_text(text, encoding="utf-8")
    return CliRunner().invoke(app, ["catalog", "import", *args, str(file)])


def test_a_dry_run_names_each_bad_row_and_field_and_what_will_be_shortened(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        HEADER
        + "OK-1,5901234123457,Czajnik elektryczny stalowy 1.7 l,,,129.99,,3,Dom > Czajniki,\n"
        + "FREE-1,,Czajnik elektryczny darmowy,,,0,,3,Dom > Czajniki,\n"
        + "TYPO-1,5901234123458,Czajnik elektryczny z literówką,,,99.99,,3,Dom > Czajniki,\n"
        + f"LONG-1,,{LONG_NAME},,,49.99,,3,Dom > Czajniki,\n",
        "--dry-run",
    )

    assert result.exit_code == 1, result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert any(
        line.startswith("3 FREE-1 price 0.00 is not a selling price (it must be above 0)") for line in lines
    )
    assert any(line.startswith("4 TYPO-1 ean 5901234123458 has a wrong check digit") for line in lines)
    assert any(
        line.startswith("5 LONG-1 name shortened: title cut to Allegro's 75 characters")
        and "left out" in line
        for line in lines
    )
    assert (
        "Dry run of katalog.csv: 2 product(s) ready to import, 2 bad row(s), 1 shortening(s); "
        "nothing was queued." in lines
    )
    assert "Traceback" not in result.output


def test_a_clean_file_passes_the_dry_run(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        HEADER + "OK-1,,Czajnik elektryczny stalowy 1.7 l,,,129.99,,3,Dom > Czajniki,\n",
        "--dry-run",
    )

    assert result.exit_code == 0, result.output
    assert "1 product(s) ready to import, 0 bad row(s), 0 shortening(s)" in result.output


def test_a_description_over_128_kib_is_read_and_its_cut_is_a_warning(tmp_path: Path) -> None:
    description = "<p>" + "Bardzo długi opis czajnika. " * 5000 + "</p>"  # ~140 KB, over csv's default limit
    result = run(
        tmp_path,
        HEADER + f'OK-1,,Czajnik elektryczny stalowy 1.7 l,"{description}",,129.99,,3,Dom > Czajniki,\n',
        "--dry-run",
    )

    assert result.exit_code == 0, result.output
    assert "OK-1 description_html shortened: The description exceeds Allegro's 40,000 bytes" in " ".join(
        result.output.replace("│", " ").split()
    )


def test_a_field_over_the_readers_limit_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    huge = "x" * 1_000_001
    result = run(tmp_path, HEADER + f'OK-1,,Czajnik,"{huge}",,129.99,,3,Dom > Czajniki,\n', "--dry-run")

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'katalog.csv'}: line 2: field larger than field limit (1000000) (a field over "
        "1,000,000 characters, or a quote left open: check that line's quoting)"
    ]
    assert "Traceback" not in result.output


def test_the_import_summary_lists_what_allegro_shortened_on_published_products() -> None:
    from allegro_sync.contracts.catalog import LinkStatus
    from allegro_sync.services.catalog_import import ImportSummary, ProductOutcome

    cut = "shortened: title cut to Allegro's 75 characters, 'Czajnik'; left out: 'z filtrem'"
    summary = ImportSummary(
        settled=[
            ProductOutcome("LONG-1", "shop1", LinkStatus.PUBLISHED, "7701", (cut,)),
            ProductOutcome("OK-1", "shop1", LinkStatus.PUBLISHED, "7702", ()),
        ]
    )

    catalog_cmd._render_summary(summary, ["shop1"])

    shown = [" ".join(line.replace("│", " ").split()) for line in output.console.export_text().splitlines()]
    assert "Summary: 2 published, 0 waiting, 0 failed, 0 not finished." in shown
    assert f"LONG-1 shop1 {cut}" in shown
    assert not any(line.startswith("OK-1") for line in shown)


def test_a_woocommerce_export_gets_the_same_checks(tmp_path: Path) -> None:
    product = {
        "type": "simple",
        "status": "publish",
        "name": "Czajnik elektryczny stalowy 1.7 l",
        "categories": [{"name": "Czajniki"}],
        "manage_stock": True,
        "stock_quantity": 3,
    }
    export = [
        product | {"sku": "FREE-1", "price": "0"},
        product | {"sku": "TYPO-1", "price": "99.99", "global_unique_id": "5901234123458"},
        product | {"sku": "OK-1", "price": "99.99", "global_unique_id": "5901234123457"},
    ]
    file = tmp_path / "produkty.json"
    file.write_text(json.dumps(export), encoding="utf-8")

    result = CliRunner().invoke(app, ["catalog", "import", "--dry-run", str(file)])

    assert result.exit_code == 1, result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert any(line.startswith("1 FREE-1 price 0.00 is not a selling price") for line in lines)
    assert any(line.startswith("2 TYPO-1 ean 5901234123458 has a wrong check digit") for line in lines)
    assert any("1 product(s) ready to import, 2 bad row(s)" in line for line in lines)
