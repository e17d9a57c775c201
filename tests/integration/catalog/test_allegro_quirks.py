"""Issue 14, item 8 (allegro-misc): Allegro's title counting and image locations that expire after hours,
through the whole publishing path (catalog_worker -> emulator)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from allegro_sync.contracts.catalog import LinkStatus
from tests.integration.catalog.conftest import ACCOUNT, CatalogStack, upsert

pytestmark = pytest.mark.integration

FRONT = "https://shop.example.pl/img/xm5-front.jpg"
CASE = "https://shop.example.pl/img/xm5-case.jpg"


def test_a_title_with_ampersands_fits_allegros_count(stack: CatalogStack) -> None:
    """75 visible characters, but `&` counts 5 (#1306): the title is cut to fit, the offer is listed."""
    name = "Słuchawki Sony & etui & kabel & adapter WH-1000XM5 czarne bezprzewodowe ANC"
    assert len(name) == 75
    stack.publish(upsert("TITLE-AMP", name=name))

    link = stack.catalog.link("TITLE-AMP", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED, link.reasons
    title = stack.offer("TITLE-AMP")["name"]
    assert len(title) + 4 * title.count("&") <= 75
    assert title.startswith("Słuchawki Sony & etui")


def test_an_image_location_allegro_deleted_is_uploaded_again(stack: CatalogStack) -> None:
    """An upload the offer never used is deleted after hours (#2584); Allegro then answers only "Provided
    image address is incorrect" (#1946). The publisher uploads every image again and the edit goes through."""
    stack.publish(upsert("IMG-TTL"))
    with stack.as_seller(ACCOUNT) as seller:  # an upload whose edit never went through (a failed 202, #10699)
        stale = seller.upload_image(url=CASE).location
    link = stack.catalog.link("IMG-TTL", ACCOUNT)
    assert link is not None
    stack.catalog.save_link(replace(link, images={**link.images, CASE: stale}))
    stack.emulator.advance(4 * 3600)  # Allegro keeps an unused upload for hours, not a day

    stack.publish(upsert("IMG-TTL", minutes=1, image_urls=[FRONT, CASE]))

    link = stack.catalog.link("IMG-TTL", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED, link.reasons
    images = stack.offer("IMG-TTL")["images"]
    assert len(images) == 3
    assert stale not in images


def test_allegros_stale_stock_refusal_is_retried_not_taken_as_bad_content(stack: CatalogStack) -> None:
    """#9846: an activation with stock 7 refused as `AvailableStockMustEqualToOneOrBeGreaterThanOne`
    (#10699's code) passes on a later try; the product is not marked as refused content."""
    stack.emulator.set_faults(stale_stock_refusals=1)
    stack.publish(upsert("STOCK-LAG"))

    link = stack.catalog.link("STOCK-LAG", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED, link.reasons
    assert stack.offer("STOCK-LAG")["stock"]["available"] == 7
    assert stack.emulator.faults()["stale_stock_refusals"] == 0
