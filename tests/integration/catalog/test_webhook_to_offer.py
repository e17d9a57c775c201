"""The shop's signed webhook over real HTTP (local API gateway) all the way to an active Allegro offer."""

from __future__ import annotations

import pytest

from allegro_sync.contracts.catalog import LinkStatus
from tests.fixtures.products import SONY_EAN
from tests.fixtures.shop_webhooks import post_signed, post_woocommerce
from tests.integration.catalog.conftest import ACCOUNT, CatalogStack

pytestmark = pytest.mark.integration

SECRET = "catalog-test-signing-secret"


def test_a_signed_shop_webhook_becomes_an_active_offer(stack: CatalogStack) -> None:
    stack.runtime.put_secret("webhook-signing", {"secret": SECRET})
    stack.app("shop_webhook").signing_secrets().forget()  # the secret changed: read it again
    api = stack.runtime.start_gateway()
    answer = post_signed(
        f"{api}/webhooks/shop",
        {
            "type": "product.upsert",
            "sku": "SONY-WEBHOOK",
            "name": "Słuchawki bezprzewodowe Sony WH-1000XM5 czarne",
            "ean": SONY_EAN,
            "price": "1299.00",
            "stock": 2,
            "category_path": ["Elektronika", "Audio", "Słuchawki"],
            "attributes": {"Stan": "Nowy"},
            "image_urls": ["https://shop.example.pl/img/webhook.jpg"],
        },
        secret=SECRET,
        delivery="wh-1",
    )
    assert answer.status_code == 202, answer.text
    stack.runtime.drain(timeout=30)

    link = stack.catalog.link("SONY-WEBHOOK", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED, link.reasons
    offer = stack.offer("SONY-WEBHOOK")
    assert (offer["publication"]["status"], offer["stock"]["available"]) == ("ACTIVE", 2)
    assert offer["external"]["id"] == "SONY-WEBHOOK"
    assert stack.changes.history("SONY-WEBHOOK")[0].event_id == "wh-1"


BAD_EAN = "5901234123458"  # 5901234123457 with its last digit mistyped


def test_a_price_of_0_or_a_mistyped_ean_is_accepted_by_the_webhook_but_never_published(
    stack: CatalogStack,
) -> None:
    """The shop cannot fix its product by resending: 2xx, and the reason is on the product's status."""
    stack.runtime.put_secret("webhook-signing", {"secret": SECRET, "woocommerce": SECRET})
    stack.app("shop_webhook").signing_secrets().forget()
    api = stack.runtime.start_gateway()
    product = {
        "type": "product.upsert",
        "name": "Słuchawki bezprzewodowe Sony WH-1000XM5 czarne",
        "stock": 2,
        "category_path": ["Elektronika", "Audio", "Słuchawki"],
    }
    free = post_signed(
        f"{api}/webhooks/shop",
        product | {"sku": "SONY-FREE", "price": "0.00", "ean": SONY_EAN},
        secret=SECRET,
        delivery="wh-free",
    )
    mistyped = post_signed(
        f"{api}/webhooks/shop",
        product | {"sku": "SONY-BAD-EAN", "price": "1299.00", "ean": BAD_EAN},
        secret=SECRET,
        delivery="wh-bad-ean",
    )
    woo = post_woocommerce(
        f"{api}/webhooks/woocommerce",
        {
            "id": 77,
            "type": "simple",
            "status": "publish",
            "sku": "WOO-BAD-EAN",
            "name": "Słuchawki bezprzewodowe Sony WH-1000XM5 czarne",
            "price": "1299.00",
            "manage_stock": True,
            "stock_quantity": 3,
            "global_unique_id": BAD_EAN,
            "categories": [{"id": 1, "name": "Słuchawki"}],
        },
        secret=SECRET,
        delivery="woo-bad-ean",
    )
    assert [free.status_code, mistyped.status_code, woo.status_code] == [202, 202, 202], woo.text
    stack.runtime.drain(timeout=30)

    reasons = {}
    for sku in ("SONY-FREE", "SONY-BAD-EAN", "WOO-BAD-EAN"):
        link = stack.catalog.link(sku, ACCOUNT)
        assert link is not None, sku
        assert (link.status, link.offer_id) == (LinkStatus.WAITING, None), link
        assert stack.offers(sku) == []
        reasons[sku] = " ".join(link.reasons)
    assert "refused, price: 0.00 is not a selling price" in reasons["SONY-FREE"]
    assert (
        f"refused, ean: {BAD_EAN} has a wrong check digit (the last digit should be 7)"
        in reasons["SONY-BAD-EAN"]
    )
    assert "wrong check digit" in reasons["WOO-BAD-EAN"]
