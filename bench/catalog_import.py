"""`allegro-sync catalog import` end to end: a generated CSV catalogue -> `shop-events` -> catalog_worker ->
the Allegro emulator, through the local runtime (moto + SQS poller) and the real CLI command (CliRunner).

Prints: rows queued per second (parse + SQS + progress records), offers published per minute including
the worker (import until every product settled), Allegro calls per offer, and the rerun's cost (a resumed
import that finds everything already queued). The worker runs synchronously (`drain`), one process, so the
rate is a floor for one Lambda instance; moto over HTTP on 127.0.0.1 is part of every figure.

Run: .venv/bin/python -m bench.catalog_import [products]   (default 60)
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from typer.testing import CliRunner

from allegro_sync.cli import catalog_cmd
from allegro_sync.cli.main import app
from bench._results import record
from bench._seller import catalogue_world

HEADER = "sku,ean,name,description_html,image_urls,price,cost_price,stock,category_path,attributes"


def catalogue(products: int) -> str:
    """Products with the emulator's Sony EAN (linked to its catalogue product), Polish text, "129,99"."""
    rows = [
        f"BENCH-{i:04d},4548736132610,Słuchawki bezprzewodowe Sony WH-1000XM5 czarne {i},"
        f'"<p>Najlepsza <strong>redukcja szumów</strong>, egzemplarz {i}.</p>",'
        f'https://shop.example.pl/img/{i}.jpg,"{1000 + i},99","800,00",5,Elektronika > Słuchawki,'
        '"Stan=Nowy; Marka=Sony"'
        for i in range(products)
    ]
    return "\n".join([HEADER, *rows]) + "\n"


def main(products: int) -> None:
    with catalogue_world() as (emulator, runtime), tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "sklep.csv"
        file.write_text(catalogue(products), encoding="utf-8")
        catalog_cmd.sleep = lambda seconds: runtime.drain(timeout=600)
        runner = CliRunner()

        def run(*args: str) -> tuple[str, float]:
            with mock.patch.dict(os.environ):
                started = time.perf_counter()
                result = runner.invoke(app, list(args), catch_exceptions=False)
                elapsed = time.perf_counter() - started
            if result.exit_code != 0:
                raise SystemExit(f"import failed ({result.exit_code}):\n{result.output}")
            return result.output, elapsed

        _, queue_seconds = run("catalog", "import", str(file), "--no-wait")
        before = emulator.app.request_count
        started = time.perf_counter()
        runtime.drain(timeout=600)
        drain_seconds = time.perf_counter() - started
        calls = emulator.app.request_count - before
        output, rerun_seconds = run("catalog", "import", str(file), "--wait", "--timeout", "60")
        summary = re.search(r"Summary: (\d+) published, (\d+) waiting, (\d+) failed", output)
        published = int(summary.group(1)) if summary else 0

        counts = summary.groups() if summary else ("?", "?", "?")
        total = queue_seconds + drain_seconds
        print(f"products: {products}; published {counts[0]}, waiting {counts[1]}, failed {counts[2]}")
        print(f"queueing (CLI start + parse + SQS + progress): {products / queue_seconds:.1f} rows/s")
        print(f"  ({queue_seconds:.2f} s)")
        print(f"import until published: {published / total * 60:.0f} offers/min")
        print(f"  ({total:.1f} s, of which the worker {drain_seconds:.1f} s)")
        print(f"Allegro calls per offer: {calls / max(published, 1):.2f} (the first reads the category)")
        print(f"rerun of the same file (all skipped, statuses read): {rerun_seconds:.2f} s")
        record(
            "catalog_import",
            {
                "products": products,
                "published": published,
                "rows_queued_per_s": round(products / queue_seconds, 1),
                "offers_per_min": round(published / total * 60, 1),
                "import_seconds": round(total, 1),
                "allegro_calls_per_offer": round(calls / max(published, 1), 2),
                "rerun_seconds": round(rerun_seconds, 2),
            },
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
