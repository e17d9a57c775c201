"""`make demo` in-process, once: what a newcomer reads must be what the system did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from allegro_sync.local.demo import Demo

pytestmark = pytest.mark.integration

SPEC = Path(__file__).resolve().parents[3] / "shared" / "allegro-api" / "openapi.yaml"


def test_the_demo_tells_the_whole_story_and_checks_it(tmp_path: Path) -> None:
    console = Console(record=True, width=200, color_system=None)
    record = tmp_path / "recording.jsonl"

    # `make demo SHOP=prestashop`: the whole story plus the PrestaShop chapter (the default leaves it out)
    Demo(
        console, record=record, spec=SPEC, shop_kind="prestashop"
    ).run()  # a broken promise raises DemoFailure

    text = re.sub(r"\s+", " ", console.export_text())
    # The catalogue: published offers with prices from the rule, and waiting ones that say why.
    assert re.search(r"SONY-XM5 │ sklep-glowny, sklep-outlet │ PUBLISHED │ \d+, \d+ │ 1428.99", text)
    assert "WIEDZMIN-1" in text
    assert "no approved category mapping for 'Książki > Fantastyka'" in text
    assert "refused row 10 (KABEL-ZLY-EAN)" in text
    # One order imported once; the ledger, the other account's offer and the shop all moved by it.
    assert "orders imported / sales counted │ 1 / 1" in text
    assert "stock ledger │ 7 -> 5" in text
    assert "the same SKU's offer on sklep-outlet │ stock 5" in text
    assert "received it, its stock of SONY-XM5: 5" in text
    assert "twice: imported once, ledger 4, shop got it 1 time(s)" in text
    assert "order_gap_scan finds it (1 enqueued) -> imported, ledger 3, both offers 3 / 3" in text
    # A combined payment (#1111): the same purchases in a new form, counted once, one order in the shop.
    assert re.search(
        r"then paid together: .* Stock taken once per unit \(25 -> 22\), one order in the shop", text
    )
    # Foreign marketplaces (issue 16): allegro.cz with a CZK price from the seller's rule, a CZK order.
    assert re.search(r"sklep-glowny │ \d+ │ 163.99 PLN │ 951.00 CZK │ allegro-pl, allegro-cz │ 5", text)
    assert "the shop receives it in CZK" in text
    # Drift found by the dry run, then repaired with its reason.
    assert "1 drift(s)" in text
    assert "1 repaired -> offer back to 3" in text
    assert "the ledger says SET 3 (STOCK)" in text
    # The shop sells out, then restocks, through signed webhooks.
    assert "stock.set SONY-XM5=0 -> 202; offers: sklep-glowny ENDED (stock 0), sklep-outlet ENDED" in text
    # Through the stock ledger: the shop reports after confirming every sale, so its 5 is the truth on both.
    assert (
        "stock.set SONY-XM5=5 -> 202; offers: sklep-glowny ACTIVE (stock 5), sklep-outlet ACTIVE (stock 5)"
        in text
    )
    assert "wrong secret -> 401" in text
    # A per-seller 429 stops that seller's writes only (#12700); the other account goes on.
    assert "429 per user -> sklep-glowny waits" in text
    assert re.search(r"PATCH offer on sklep-outlet\s+│ 200", text)
    assert re.search(r"app-wide block\s+│ none", text)
    assert re.search(r"\d+ s later: PATCH offer on sklep-glowny\s+│ 200", text)
    # WooCommerce as it really sends: the base64 ping saved, a variable product from its default deliveries
    # published per variation (own price and stock), and a variation's price change reaching Allegro.
    assert "ping webhook_id=15 (form-encoded: base64 behind API Gateway) -> 200" in text
    assert re.search(r"AURA-CZARNE \(czarny\) │ sklep-glowny │ \d+ │ 219.99 │ 4", text)
    assert re.search(r"AURA-BIALE \(biały\) │ sklep-outlet │ \d+ │ 273.99 │ 9", text)
    assert "The shop changes AURA-CZARNE to 179.99 -> Allegro price 197.99" in text
    # PrestaShop: read by the reconciliation alone, one offer per combination, an Allegro sale as one order.
    assert re.search(r"NOVA-BIALE \(Biały\) │ sklep-outlet │ \d+ │ 230.99 │ 3", text)
    assert re.search(r"The next run \(cursor '[^']+'\): queued 0", text)
    assert "next run sends every level once -> offer stock 1" in text
    assert re.search(r"one PrestaShop order [A-Z]{9} .* took the stock in PrestaShop: 5 -> 3", text)
    assert "queued 1 order update -> Allegro: SENT, parcel 620111222333444555666777; the run after: 0" in text
    # Repricing: one grosz under the lowest sane rival, Allegro's rule on the other account, reasons shown.
    assert "SONY-XM5 │ sklep-glowny │ 1428.99 -> 1398.99" in text
    assert "ignored outliers 699.00" in text
    assert "sklep-outlet 4 rule assignment(s)" in text  # BOSCH, JBL, SONY and the allegro.cz kettle (5b)
    # Listing optimization reviewed the offers it can see, with reasons.
    assert re.search(r"\d+ offers reviewed on sklep-glowny", text)
    # Every Allegro exchange recorded; checked against the full spec when it is beside the project.
    assert record.stat().st_size > 0
    if SPEC.is_file():
        assert "0 violations." in text


def test_the_demo_with_shop_shopify_tells_chapter_7b_with_shopify() -> None:
    """`make demo SHOP=shopify`: the same story, chapter 7b told by the local Shopify."""
    console = Console(record=True, width=200, color_system=None)

    Demo(console, spec=SPEC, shop_kind="shopify").run()

    text = re.sub(r"\s+", " ", console.export_text())
    assert "A tampered products/create -> 401, nothing queued" in text
    assert "same X-Shopify-Webhook-Id -> 202 duplicate" in text
    assert "48752903: queued" in text
    assert "90210001: ignored" in text
    assert re.search(r"NOVA-CZARNE │ sklep-glowny │ \d+ │ [\d.]+ │ 7", text)
    assert "its 24826418 level 5 -> 4" in text
    assert "-> Allegro: SENT, parcel INPOST 620111222333444555666777" in text
    assert "ping webhook_id=15" not in text  # the WooCommerce chapter is the one it replaces
