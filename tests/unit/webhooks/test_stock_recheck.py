"""The re-read of a sale in doubt: the shop's level and the shop's time of the read, queued like a webhook.

WooCommerce (`FakeWooCommerce` over httpx's MockTransport, with the `Date` header a real server sends) and
the generic contract's `stock_url` (the demo shop's `GET /stock`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from allegro_sync.adapters.shop.stock_read import GenericStock, WooCommerceStock
from allegro_sync.adapters.shop_credentials import ShopNotConfigured, build_stock_reader, parse_credentials
from allegro_sync.contracts.messages import StockSet
from allegro_sync.contracts.shop import ShopStockLevel, ShopUnavailable
from allegro_sync.local.demo_shop import DemoShop
from allegro_sync.services.stock_recheck import StockRecheck
from allegro_sync.services.webhooks import WebhookIntake
from tests.unit.shop_out.fake_shops import FakeWooCommerce, mock_transport
from tests.unit.webhooks.test_intake import Markers, Queue

SHOP_NOW = datetime(2026, 11, 27, 12, 0, 30, tzinfo=UTC)
SECRET = "stock-read-signing-secret-0123"


def woocommerce(shop: FakeWooCommerce, *, date: bool = True) -> WooCommerceStock:
    inner = mock_transport(shop)

    def handle(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        if date:
            response.headers["Date"] = format_datetime(SHOP_NOW, usegmt=True)
        return response

    http = httpx.Client(transport=httpx.MockTransport(handle))
    reader = WooCommerceStock("http://shop.test", "ck", "cs", http)
    reader.clock = lambda: SHOP_NOW.timestamp() + 100  # our clock, only used without a Date header
    return reader


def test_woocommerce_reads_a_variation_by_sku_with_the_shops_time_of_the_read() -> None:
    shop = FakeWooCommerce("ck", "cs")
    shop.add_variable(
        {"sku": "KOSZ", "name": "Koszulka"},
        [{"sku": "KOSZ-M", "manage_stock": True, "stock_quantity": 7}],
    )

    level = woocommerce(shop).level("KOSZ-M")

    # The Date header is whole seconds and may be a little after the read: one second earlier is safe.
    assert level == ShopStockLevel(7, SHOP_NOW - timedelta(seconds=1))
    assert ("GET", "/wp-json/wc/v3/products?sku=KOSZ-M") in shop.requests


def test_woocommerce_without_a_date_header_takes_our_clock_less_the_margin() -> None:
    shop = FakeWooCommerce("ck", "cs")
    shop.products[5] = {"id": 5, "sku": "A", "manage_stock": True, "stock_quantity": -2, "type": "simple"}

    level = woocommerce(shop, date=False).level("A")

    assert level == ShopStockLevel(0, SHOP_NOW + timedelta(seconds=100 - 5))  # backorders: nothing to sell


def test_woocommerce_unknown_sku_or_unmanaged_stock() -> None:
    shop = FakeWooCommerce("ck", "cs")
    shop.products[5] = {
        "id": 5,
        "sku": "FREE",
        "manage_stock": False,
        "stock_quantity": None,
        "type": "simple",
    }
    reader = woocommerce(shop)
    assert reader.level("NOPE") is None
    level = reader.level("FREE")
    assert level is not None
    assert level.quantity is None  # the shop does not count it: nothing to settle with


def test_woocommerce_down_is_worth_retrying() -> None:
    shop = FakeWooCommerce("ck", "cs", down=True)
    with pytest.raises(ShopUnavailable):
        woocommerce(shop).level("A")


def generic(shop: DemoShop, secret: str = SECRET) -> GenericStock:
    def handle(request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        status, body = shop.stock_level(dict(request.headers), query)
        return httpx.Response(status, json=body)

    return GenericStock("http://shop.test/stock", secret, httpx.Client(transport=httpx.MockTransport(handle)))


def test_the_generic_stock_read_is_signed_and_carries_the_shops_read_time() -> None:
    shop = DemoShop(secret=SECRET, stock={"A": 4}, clock=lambda: SHOP_NOW)
    assert generic(shop).level("A") == ShopStockLevel(4, SHOP_NOW)
    assert generic(shop).level("B") is None  # 404: the shop has no such SKU
    with pytest.raises(ShopUnavailable, match="401"):
        generic(shop, secret="another-secret-0123456789").level("A")


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ('{"kind": "shopify", "shop_domain": "sklep.myshopify.com", "access_token": "shpat_x", '
         '"api_secret": "s", "location_ids": ["1"]}', "Shopify offers no one-SKU stock read"),
        ('{"kind": "prestashop", "url": "https://ps.test", "api_key": "k"}', "PrestaShop offers no one-SKU"),
        (f'{{"kind": "generic", "url": "https://g.test", "signing_secret": "{SECRET}"}}', "no stock_url"),
    ],
)  # fmt: skip
def test_a_shop_without_a_stock_read_says_why_and_calls_nothing(secret: str, why: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no shop call expected: {request.url}")

    with pytest.raises(ShopNotConfigured, match=why):
        build_stock_reader(parse_credentials(secret), httpx.Client(transport=httpx.MockTransport(refuse)))


def test_a_recheck_queues_the_level_as_a_stock_set_once_per_read() -> None:
    shop = DemoShop(secret=SECRET, stock={"A": 4}, clock=lambda: SHOP_NOW)
    queue = Queue()
    recheck = StockRecheck(generic(shop), WebhookIntake(Markers(), queue))

    assert recheck.recheck("A") == "queued"
    assert recheck.recheck("A") == "duplicate"  # the same read again (a redelivery in the same instant)
    assert recheck.recheck("B") == "the shop has no product with this SKU"

    [queued] = queue.sent
    assert isinstance(queued.event, StockSet)
    assert (queued.event.sku, queued.event.stock, queued.event.occurred_at) == ("A", 4, SHOP_NOW)
