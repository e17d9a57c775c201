"""Throughput of the shop HTML -> Allegro description converter (nh3 sanitise + flatten + sections).

Two inputs: a typical ~5 KB WooCommerce description (headings, styled spans, nested lists, a spec table,
images), and a worst case of ~200 KB (the largest `description_html` a ProductUpsert accepts) of deeply
nested tag soup, which also exercises the 40,000-byte truncation. Also times titles and parameter mapping,
which run for every product alongside.

Run: .venv/bin/python -m bench.domain_description [seconds-per-case]   (default 2)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from allegro_sync.domain.description import build_description
from allegro_sync.domain.parameters import map_parameters, parse_category_parameters
from allegro_sync.domain.title import build_title
from bench._results import record

_BLOCK = """
<h3 style="color:#333">Opis produktu</h3>
<p>Elektryczny <strong>czajnik ZELMER</strong> <span style="color:red">ze stali nierdzewnej</span> 😀<br>
Pojemność&nbsp;1,7&nbsp;l &amp; moc 2200 W. Zażółć gęślą jaźń, szybkie gotowanie wody.</p>
<div><em>Idealny</em> do kuchni <i>każdego</i> domu. <a href="https://x.pl">Zobacz więcej</a></div>
<ul><li>Automatyczne wyłączanie<ul><li>po zagotowaniu</li><li>po zdjęciu z podstawy</li></ul></li>
<li><b>Filtr</b> antywapienny</li><li>Podświetlenie LED</li></ul>
<table class="shop_attributes"><tr><th>Waga</th><td>1,5 kg</td></tr><tr><th>Kolor</th><td>srebrny</td></tr>
<tr><th>Moc</th><td>2200 W</td></tr></table>
<img src="https://sklep.example.pl/wp-content/uploads/czajnik.jpg" alt="czajnik" width="600">
<script>window.dataLayer.push({"event": "view"})</script><!-- koniec bloku -->
"""
TYPICAL = (_BLOCK * 8)[: 5 * 1024]
_SOUP = (
    '<div style="a"><span><font color="red"><b>Zestaw <i>narzędzi <u>warsztatowych</u></i></b></font></span>'
    "<table><tr><td><ul><li>klucz <ol><li>płaski<li>oczkowy</ol></li></ul></td>"
    "<td>śrubokręt</td></tr></table>"
    "<p>tekst<p>bez<div>zamknięć<h4>nagłówek</div>"
)
WORST = (_SOUP * 2000)[: 200 * 1024]
IMAGES = {"https://sklep.example.pl/wp-content/uploads/czajnik.jpg": "https://a.allegroimg.com/original/1/c"}
PARAMS = parse_category_parameters(
    {
        "parameters": [
            {"id": "11323", "name": "Stan", "type": "dictionary", "required": True,
             "dictionary": [{"id": "11323_1", "value": "Nowy"}, {"id": "11323_2", "value": "Używany"}]},
            {"id": "4401", "name": "Waga", "type": "float", "unit": "g", "restrictions": {"precision": 1}},
            {"id": "248811", "name": "Marka", "type": "string", "required": True},
        ]
    }
)  # fmt: skip


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Calls per second: the median of 5 rounds, and the best round (closest to an unloaded machine)."""
    fn()
    rounds: list[float] = []
    for _ in range(5):
        calls = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds / 5:
            fn()
            calls += 1
        rounds.append(calls / elapsed)
    return statistics.median(rounds), max(rounds)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    worst = build_description(WORST, IMAGES)
    cases: list[tuple[str, Callable[[], object]]] = [
        (
            f"description typical {len(TYPICAL.encode()) / 1024:.1f} KB",
            lambda: build_description(TYPICAL, IMAGES),
        ),
        (
            f"description worst {len(WORST.encode()) / 1024:.0f} KB soup",
            lambda: build_description(WORST, IMAGES),
        ),
        (
            "title",
            lambda: build_title("Czajnik elektryczny ZELMER — 1,7 l 2200 W OKAZJA!!!", {"Kolor": "srebrny"}),
        ),
        (
            "parameters (3)",
            lambda: map_parameters(PARAMS, {"Stan": "nowy", "Waga": "1,5 kg", "Marka": "Zelmer"}),
        ),
    ]
    size = len(worst.description.model_dump_json())
    print(f"worst case output: {size:,} bytes of JSON, truncated={worst.truncated}")
    print(f"{'':34s} {'median':>10s}      {'best':>10s}")
    figures: dict[str, dict[str, float]] = {}
    for label, fn in cases:
        median, best = rate(fn, seconds)
        print(f"{label:34s} {median:10,.1f} /s   {best:10,.1f} /s   ({1000 / median:.3f} ms median)")
        figures[label] = {"median_per_s": round(median, 1), "best_per_s": round(best, 1)}
    record("domain_description", {"cases": figures, "worst_output_bytes": size})


if __name__ == "__main__":
    main()
