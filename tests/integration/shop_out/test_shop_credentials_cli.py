"""Issue 18, item 3: orders no longer end in the DLQ for want of a command. `dlq show` says why an order
failed, `shop set-credentials` checks and stores what was missing, and the very next delivery uses it (no
5-minute stale cache), so `dlq replay` delivers the order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allegro_sync.adapters.config_secret import section_text
from allegro_sync.adapters.shop_credentials import ShopifyCredentials, parse_credentials
from allegro_sync.local.fake_shopify import MAIN, FakeShopify
from allegro_sync.local.loopback import AnswerServer
from allegro_sync.local.prestashop_fake import FakePrestaShop
from tests.fixtures.prestashop_shop import KEY as PS_KEY
from tests.fixtures.stack import Stack
from tests.unit.shop_out.fake_shops import FakeGenericShop, ShopServer

pytestmark = pytest.mark.integration

SECRET = "generic-signing-secret-0123456789"
EVENT = Path(__file__).resolve().parents[3] / "events" / "shop_notifier.json"


def test_an_order_without_shop_credentials_is_explained_then_delivered_once_they_are_stored(
    stack: Stack,
) -> None:
    event = json.loads(EVENT.read_text(encoding="utf-8"))
    body = event["Records"][0]["body"]
    answer = stack.runtime.invoke("shop_notifier", event)  # no credentials yet: the delivery fails
    assert answer["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["messageId"]}]
    sqs = stack.runtime.client("sqs")
    sqs.send_message(QueueUrl=stack.runtime.wiring.queues["shop-outbox"].dlq_url, MessageBody=body)

    shown = stack.cli("dlq", "show", "shop-outbox")

    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.output.split())  # as read, whatever the terminal's width
    assert "why it failed: the shop-credentials secret is not configured" in said
    assert "store them: allegro-sync shop set-credentials (last try 20" in said

    shop = FakeGenericShop(secret=SECRET)
    with ShopServer(shop) as server:
        url = server.url + "/allegro"
        wrong = stack.cli("shop", "set-credentials", "generic", "--url", url, "--signing-secret", "x" * 20)
        stored = stack.cli("shop", "set-credentials", "generic", "--url", url, "--signing-secret", SECRET)
        replayed = stack.cli("dlq", "replay", "shop-outbox")
        stack.runtime.drain(timeout=60)

    assert wrong.exit_code == 1
    assert "the shop refused our signature (401)" in wrong.output
    assert "nothing stored" in wrong.output
    assert stored.exit_code == 0, stored.output
    assert "answered the test call" in stored.output
    assert replayed.exit_code == 0, replayed.output
    # The notifier's instance cached "not configured" a moment ago; it reads the new secret at once.
    assert [m["checkout_form_id"] for m in shop.received] == ["29738e61-7f6a-11e8-ac45-09db60ede9d6"]


def test_set_credentials_refuses_what_it_cannot_check_or_parse(stack: Stack) -> None:
    unreachable = stack.cli(
        "shop", "set-credentials", "generic", "--url", "http://127.0.0.1:9/x", "--signing-secret", SECRET
    )
    short = stack.cli(
        "shop", "set-credentials", "generic", "--url", "http://127.0.0.1:9/x", "--signing-secret", "short"
    )
    no_key = stack.cli("shop", "set-credentials", "woocommerce", "--url", "https://shop.example")

    assert unreachable.exit_code == short.exit_code == no_key.exit_code == 1
    assert (
        "did not answer (ConnectError); nothing stored (--no-check stores them anyway)" in unreachable.output
    )
    assert "problems at: signing_secret; nothing stored" in short.output
    assert "woocommerce needs --consumer-key" in no_key.output


def test_a_prestashop_key_is_checked_stored_and_the_next_order_lands_in_prestashop_once(stack: Stack) -> None:
    shop = FakePrestaShop(PS_KEY)
    product = shop.add_product("SONY-WH1000XM5-B", price="1000.00", stock=5)
    event = json.loads(EVENT.read_text(encoding="utf-8"))
    with AnswerServer(shop) as server:
        wrong = stack.cli("shop", "set-credentials", "prestashop", "--url", server.url, "--api-key", "X" * 32)
        stored = stack.cli("shop", "set-credentials", "prestashop", "--url", server.url, "--api-key", PS_KEY)
        first = stack.runtime.invoke("shop_notifier", event)
        again = stack.runtime.invoke("shop_notifier", event)  # SQS delivers a message twice at times
    stack.runtime.put_secret(
        "shop-credentials", {"kind": "generic", "url": "http://127.0.0.1:9/x", "signing_secret": SECRET}
    )

    assert wrong.exit_code == 1
    assert "PrestaShop refused the webservice key (401/403)" in wrong.output
    assert stored.exit_code == 0, stored.output
    assert first["batchItemFailures"] == again["batchItemFailures"] == []
    assert [o["payment"] for o in shop.orders()] == ["Allegro 29738e61-7f6a-11e8-ac45-09db60ede9d6"]
    assert shop.stock(product) == 4  # PrestaShop's order took the unit sold on Allegro


def test_shopify_credentials_are_checked_with_the_token_then_stored(stack: Stack) -> None:
    shop = FakeShopify()
    with AnswerServer(shop) as server:
        args = ("shop", "set-credentials", "shopify", "--url", server.url, "--location-id", str(MAIN))
        wrong = stack.cli(*args, typed=f"shpat_wrong\n{shop.client_secret}\n")
        stored = stack.cli(*args, typed=f"{shop.token}\n{shop.client_secret}\n")
    secret = stack.runtime.client("secretsmanager").get_secret_value(
        SecretId=stack.runtime.wiring.secrets["shop-credentials"]
    )
    saved = parse_credentials(section_text(secret["SecretString"], "shop-credentials"))

    assert wrong.exit_code == 1
    assert "401" in wrong.output
    assert "nothing stored" in wrong.output
    assert stored.exit_code == 0, stored.output
    assert isinstance(saved, ShopifyCredentials)
    assert (saved.location_ids, saved.base_url) == ([str(MAIN)], server.url)
    assert shop.token not in stored.output
