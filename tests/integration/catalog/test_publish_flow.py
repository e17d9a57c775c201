"""Shop events through the local runtime's queue and the real catalog_worker to the Allegro emulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from allegro_sync.contracts.catalog import LinkStatus, OfferLink
from allegro_sync.contracts.messages import PriceSet, ProductDelete, StockSet
from tests.fixtures.products import T0
from tests.integration.catalog.conftest import (
    ACCOUNT,
    KETTLES,
    PHILIPS_EAN,
    CatalogStack,
    upsert,
)

pytestmark = pytest.mark.integration

SONY_PRODUCT = "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e01"


def _link(stack: CatalogStack, sku: str) -> OfferLink:
    link = stack.catalog.link(sku, ACCOUNT)
    assert link is not None
    return link


def test_a_new_shop_product_becomes_an_active_offer_with_everything_allegro_needs(
    stack: CatalogStack,
) -> None:
    stack.publish(upsert("SONY-00"))

    link = _link(stack, "SONY-00")
    assert link.status is LinkStatus.PUBLISHED, link.reasons
    offer = stack.offer("SONY-00")
    assert offer["publication"]["status"] == "ACTIVE"
    assert offer["category"]["id"] == "101"
    assert offer["productSet"][0]["product"]["id"] == SONY_PRODUCT  # matched by EAN
    assert offer["external"]["id"] == "SONY-00"
    assert offer["name"] == "Słuchawki bezprzewodowe Sony WH-1000XM5 czarne"
    # 1299.00 + 10% = 1428.90, rounded up to the x.99 ending.
    assert offer["sellingMode"]["price"] == {"amount": "1428.99", "currency": "PLN"}
    assert offer["stock"]["available"] == 7
    assert {"id": "11323", "valuesIds": ["11323_1"]} in offer["parameters"]  # Stan: Nowy
    # Both the product image and the description's image were uploaded and are the offer's images.
    assert len(offer["images"]) == 2
    assert all(url.startswith("https://a.allegroimg.com/") for url in offer["images"])
    items = [item for section in offer["description"]["sections"] for item in section["items"]]
    texts = " ".join(i["content"] for i in items if i["type"] == "TEXT")
    assert "<b>redukcja szumów</b>" in texts  # <strong> became <b>
    assert "Cisza, której szukasz" in texts
    assert [i["url"] for i in items if i["type"] == "IMAGE"] == [offer["images"][1]]
    history = stack.changes.history("SONY-00")
    assert [c.action for c in history] == ["create"]
    assert history[0].rule == "allegro +10%"
    assert "1428.99" in history[0].reason  # the price explanation: which steps gave this price


def test_an_ean_matching_two_catalogue_products_waits_listing_both_and_creates_nothing(
    stack: CatalogStack,
) -> None:
    stack.publish(
        upsert(
            "PHILIPS-HD9350",
            name="Czajnik elektryczny Philips HD9350",
            ean=PHILIPS_EAN,
            category_path=list(KETTLES),
        )
    )

    link = _link(stack, "PHILIPS-HD9350")
    assert link.status is LinkStatus.WAITING
    assert {c["id"] for c in link.candidates} == {
        "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e04",
        "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e05",
    }
    assert "matches 2 Allegro catalogue products" in link.reasons[0]
    assert stack.offers("PHILIPS-HD9350") == []


def test_a_shop_category_without_an_approved_mapping_waits_with_what_to_run(stack: CatalogStack) -> None:
    stack.publish(upsert("BOOK-1", category_path=["Książki", "Fantastyka"], ean=None))

    link = _link(stack, "BOOK-1")
    assert link.status is LinkStatus.WAITING
    assert link.reasons == (
        "no approved category mapping for 'Książki > Fantastyka'; run `allegro-sync mappings suggest`",
    )
    assert stack.offers("BOOK-1") == []


def test_a_missing_required_parameter_waits_naming_it(stack: CatalogStack) -> None:
    stack.publish(upsert("NO-CONDITION", attributes={"Marka": "Sony"}))

    link = _link(stack, "NO-CONDITION")
    assert link.status is LinkStatus.WAITING
    assert "Stan (11323)" in link.reasons[0]
    assert stack.offers("NO-CONDITION") == []


def test_allegro_rejecting_the_offer_is_stored_readably_and_changes_nothing(stack: CatalogStack) -> None:
    """The seller linked a catalogue product of another category: Allegro answers 422 CATEGORY_MISMATCH."""
    stack.catalog.save_link(
        OfferLink(sku="KETTLE-1", account=ACCOUNT, status=LinkStatus.WAITING, product_id=SONY_PRODUCT)
    )
    stack.publish(
        upsert(
            "KETTLE-1",
            name="Czajnik elektryczny Bosch stalowy",
            ean=None,
            category_path=list(KETTLES),
            attributes={"Moc": "2400"},
        )
    )

    link = _link(stack, "KETTLE-1")
    assert link.status is LinkStatus.FAILED
    assert link.last_error is not None
    assert link.last_error["status"] == 422
    assert [e["code"] for e in link.last_error["errors"]] == ["CATEGORY_MISMATCH"]
    assert "differs from the product's category 101" in link.reasons[0]
    assert "productCategoryId=101" in link.reasons[0]
    assert stack.offers("KETTLE-1") == []
    assert stack.changes.history("KETTLE-1") == []
    assert stack.queued("shop-events") == (0, 0)  # acknowledged: retrying the same body cannot help


def test_a_stale_event_after_a_newer_one_is_ignored(stack: CatalogStack) -> None:
    stack.publish(
        upsert("SONY-05", minutes=10, price=Decimal("1500.00")),
        upsert("SONY-05", minutes=5, price=Decimal("999.00")),
    )

    assert stack.offer("SONY-05")["sellingMode"]["price"]["amount"] == "1650.99"
    product = stack.catalog.product("SONY-05")
    assert product is not None
    assert product.price == Decimal("1500.00")
    assert len(stack.offers("SONY-05")) == 1


def test_a_redelivered_event_creates_no_second_offer(stack: CatalogStack) -> None:
    event = upsert("SONY-06")
    stack.publish(event)
    # The same delivery again (SQS at-least-once; a new deduplication id so the queue takes it).
    stack.runtime.send(
        "shop-events", event.model_dump_json(), group_id=event.sku, deduplication_id="again-SONY-06"
    )
    stack.runtime.drain(timeout=30)

    assert len(stack.offers("SONY-06")) == 1
    assert [c.action for c in stack.changes.history("SONY-06")] == ["create"]


def test_a_changed_product_patches_only_what_changed(stack: CatalogStack) -> None:
    stack.publish(upsert("SONY-07"))
    stack.publish(upsert("SONY-07", minutes=1, name="Słuchawki Sony WH-1000XM5 czarne ANC bezprzewodowe"))

    offer = stack.offer("SONY-07")
    assert offer["name"] == "Słuchawki Sony WH-1000XM5 czarne ANC bezprzewodowe"
    latest = stack.changes.history("SONY-07")[0]
    assert latest.action == "update"
    assert list(latest.changes) == ["name"]
    assert len(stack.offers("SONY-07")) == 1


def test_a_price_change_sets_the_rule_price_and_records_why(stack: CatalogStack) -> None:
    stack.publish(upsert("SONY-08"))
    stack.publish(
        PriceSet(delivery_id="p-1", occurred_at=T0.replace(minute=30), sku="SONY-08", price=Decimal("1000"))
    )
    stack.emulator.advance(1)

    assert stack.offer("SONY-08")["sellingMode"]["price"]["amount"] == "1100.99"
    latest = stack.changes.history("SONY-08")[0]
    assert latest.action == "price"
    assert latest.changes == {"price": {"old": "1428.99", "new": "1100.99"}}
    assert latest.rule == "allegro +10%"
    assert "+10%" in latest.reason
    assert "p-1" in latest.reason


def test_stock_zero_ends_the_offer_and_stock_back_reactivates_it(stack: CatalogStack) -> None:
    stack.publish(upsert("SONY-09"))
    stack.publish(StockSet(delivery_id="s-1", occurred_at=T0.replace(minute=20), sku="SONY-09", stock=0))
    stack.emulator.advance(1)

    assert stack.offer("SONY-09")["publication"]["status"] == "ENDED"
    assert _link(stack, "SONY-09").status is LinkStatus.ENDED

    stack.publish(StockSet(delivery_id="s-2", occurred_at=T0.replace(minute=21), sku="SONY-09", stock=3))
    offer = stack.offer("SONY-09")
    assert (offer["publication"]["status"], offer["stock"]["available"]) == ("ACTIVE", 3)
    assert _link(stack, "SONY-09").status is LinkStatus.PUBLISHED


def test_a_deleted_shop_product_ends_its_offer(stack: CatalogStack) -> None:
    stack.publish(upsert("SONY-10"))
    stack.publish(ProductDelete(delivery_id="del-1", occurred_at=T0.replace(minute=40), sku="SONY-10"))

    assert stack.offer("SONY-10")["publication"]["status"] == "ENDED"
    link = _link(stack, "SONY-10")
    assert (link.status, link.reasons) == (LinkStatus.ENDED, ("product deleted in the shop",))
    assert stack.changes.history("SONY-10")[0].action == "end"
