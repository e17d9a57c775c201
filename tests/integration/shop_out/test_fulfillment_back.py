"""Shop order status + tracking -> HTTP gateway -> fulfillment queue -> the emulator's checkout form."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.shop import signing, woocommerce
from allegro_sync.adapters.shop.woocommerce import CHECKOUT_FORM_META
from tests.fixtures.shop_webhooks import post_signed
from tests.integration.orders.conftest import OrdersWorld
from tests.integration.shop_out.test_shop_notifier import SECRET, sell
from tests.unit.shop_out.fake_shops import FakeGenericShop, ShopServer

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "webhook-secret-0123456789"


def signed_post(base: str, path: str, body: dict[str, Any], delivery: str) -> httpx.Response:
    return post_signed(base + path, body, secret=WEBHOOK_SECRET, delivery=delivery)


def form_view(world: OrdersWorld, form_id: str) -> tuple[str, list[tuple[str, str]]]:
    form = world.emulator.marketplace.state.checkout_forms[form_id]
    return form.fulfillment_status, [(s["carrierId"], s["waybill"]) for s in form.shipments]


@pytest.fixture
def paid_order(shop_world: OrdersWorld) -> str:
    with ShopServer(FakeGenericShop(secret=SECRET)) as server:
        shop_world.runtime.put_secret(
            "shop-credentials", {"kind": "generic", "url": server.url, "signing_secret": SECRET}
        )
        form_id = sell(shop_world, "SKU-F", 1)
    shop_world.runtime.put_secret(
        "webhook-signing", {"secret": WEBHOOK_SECRET, "woocommerce": WEBHOOK_SECRET}
    )
    return form_id


def test_generic_status_and_tracking_reach_allegro_once(shop_world: OrdersWorld, paid_order: str) -> None:
    base = shop_world.runtime.start_gateway()
    update = {
        "type": "order.status",
        "checkout_form_id": paid_order,
        "status": "SENT",
        "parcels": [{"carrier": "InPost", "waybill": "620111222333444555666777"}],
    }
    first = signed_post(base, "/webhooks/shop/orders", update, "upd-1")
    again = signed_post(base, "/webhooks/shop/orders", update, "upd-2")  # the shop retries
    shop_world.runtime.drain()

    assert (first.status_code, again.status_code) == (202, 202)
    assert form_view(shop_world, paid_order) == ("SENT", [("INPOST", "620111222333444555666777")])


def test_unknown_orders_are_answered_2xx_bad_signatures_401_and_both_queue_nothing(
    shop_world: OrdersWorld, paid_order: str
) -> None:
    base = shop_world.runtime.start_gateway()
    unknown = signed_post(
        base,
        "/webhooks/shop/orders",
        {"type": "order.status", "checkout_form_id": "nope-1", "status": "SENT"},
        "u",
    )
    forged = httpx.post(
        base + "/webhooks/shop/orders",
        json={"type": "order.status", "checkout_form_id": paid_order, "status": "SENT"},
        headers={
            signing.DELIVERY_HEADER: "f",
            signing.TIMESTAMP_HEADER: str(int(time.time())),
            signing.SIGNATURE_HEADER: "v1=" + "0" * 64,
        },
    )
    shop_world.runtime.drain()

    # The shop cannot fix an unknown order by resending: 2xx with the reason (WooCommerce would otherwise
    # count failures and disable the webhook); nothing queued.
    assert (unknown.status_code, unknown.json()["status"]) == (202, "refused")
    assert unknown.json()["error"]["code"] == "unknown_order"
    assert forged.status_code == 401
    assert form_view(shop_world, paid_order) == ("NEW", [])


def test_woocommerce_order_updated_with_a_stale_revision_is_retried(
    shop_world: OrdersWorld, paid_order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = shop_world.stack.app("fulfillment_worker")
    real_allegro = worker.allegro
    surcharged: list[str] = []

    class BuyerMeanwhile:
        """The real client, but the buyer pays a surcharge right after our first read (new revision)."""

        def __init__(self, client: AllegroClient) -> None:
            self._client = client

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

        def checkout_form(self, checkout_form_id: str) -> Any:
            form = self._client.checkout_form(checkout_form_id)
            if not surcharged:
                shop_world.emulator.marketplace.surcharge(checkout_form_id, "5.00")
                surcharged.append(checkout_form_id)
            return form

    monkeypatch.setattr(worker, "allegro", lambda account: BuyerMeanwhile(real_allegro(account)))
    base = shop_world.runtime.start_gateway()
    order = {
        "id": 812,
        "status": "completed",
        "meta_data": [
            {"id": 1, "key": CHECKOUT_FORM_META, "value": paid_order},
            {
                "id": 2,
                "key": "_wc_shipment_tracking_items",
                "value": [
                    {
                        "tracking_provider": "DPD",
                        "custom_tracking_provider": "",
                        "tracking_number": "00340434161094042557",
                    },
                    {
                        "tracking_provider": "",
                        "custom_tracking_provider": "GLS",
                        "tracking_number": "GLS123456",
                    },
                ],
            },
        ],
    }
    raw = woocommerce.dumps(order)
    answer = httpx.post(
        base + "/webhooks/woocommerce/orders",
        content=raw,
        headers={
            "Content-Type": "application/json",
            woocommerce.TOPIC_HEADER: "order.updated",
            woocommerce.SIGNATURE_HEADER: woocommerce.sign(WEBHOOK_SECRET, raw),
        },
    )
    shop_world.runtime.drain()

    assert answer.status_code == 202
    assert surcharged == [paid_order]
    status, shipments = form_view(shop_world, paid_order)
    assert status == "SENT"
    assert sorted(shipments) == [("DPD", "00340434161094042557"), ("OTHER", "GLS123456")]


# --- issue 14, item 6 (allegro-misc) ---------------------------------------------------------------------


def test_a_tracking_number_allegro_refuses_is_shown_to_the_seller(
    shop_world: OrdersWorld, paid_order: str
) -> None:
    """Allegro's 409 "maximum waybill usage exceeded" used to pass as "already there": the tracking number
    never reached the buyer and nobody knew. Now the order needs attention and `orders show` says why."""
    shop_world.emulator.set_faults(waybill_max_orders=0)  # this waybill is already on too many orders
    base = shop_world.runtime.start_gateway()
    update = {
        "type": "order.status",
        "checkout_form_id": paid_order,
        "parcels": [{"carrier": "DPD", "waybill": "00340434161094042557"}],
    }
    assert signed_post(base, "/webhooks/shop/orders", update, "ref-1").status_code == 202
    shop_world.runtime.drain()

    assert form_view(shop_world, paid_order) == ("NEW", [])  # Allegro did not take it
    shown = shop_world.stack.cli("orders", "show", paid_order)
    assert shown.exit_code == 3, shown.output
    assert "needs attention" in shown.output
    assert "00340434161094042557" in shown.output
    assert "409" in shown.output
    orders = shop_world.stack.app("fulfillment_worker").order_repository()
    assert paid_order in [form for form, _, _ in orders.needing_attention()]

    shop_world.emulator.set_faults(waybill_max_orders=3)  # the seller sends a corrected number
    fixed = dict(update, parcels=[{"carrier": "DPD", "waybill": "00340434161094049999"}])
    assert signed_post(base, "/webhooks/shop/orders", fixed, "ref-2").status_code == 202
    shop_world.runtime.drain()
    assert form_view(shop_world, paid_order) == ("SENT", [("DPD", "00340434161094049999")])  # SENT: Allegro
    assert shop_world.stack.cli("orders", "show", paid_order).exit_code == 0
