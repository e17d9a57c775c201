"""The shop's signed webhook over real HTTP (local API gateway) all the way to an active Allegro offer."""

from __future__ import annotations

import pytest

from allegro_sync.contracts.catalog import LinkStatus
from tests.fixtures.shop_webhooks import post_signed
from tests.integration.catalog.conftest import ACCOUNT, SONY_EAN, CatalogStack

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
