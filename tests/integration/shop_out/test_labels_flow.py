"""Shop marks an order ready to ship -> fulfillment_worker buys the Ship with Allegro label once, stores the
PDF in the labels bucket, puts the waybill on the Allegro order; the CLI prints a link that serves the PDF."""

from __future__ import annotations

import httpx
import pytest

from allegro_sync.contracts.shipping import LabelRule
from allegro_sync.local.demo_labels import SENDER
from tests.integration.orders.conftest import OrdersWorld
from tests.integration.shop_out.test_fulfillment_back import form_view, paid_order, signed_post

pytestmark = pytest.mark.integration
__all__ = ["paid_order"]  # the fixture, used by name


def _rule(world: OrdersWorld, **changes: object) -> None:
    rule = LabelRule(account="shop1", sender=SENDER).model_copy(update=changes)
    world.stack.app("fulfillment_worker").label_rules().put(rule)


def _ready(world: OrdersWorld, form_id: str, delivery: str) -> int:
    base = world.runtime.start_gateway()
    update = {"type": "order.status", "checkout_form_id": form_id, "status": "READY_FOR_SHIPMENT"}
    answer = signed_post(base, "/webhooks/shop/orders", update, delivery)
    world.runtime.drain()
    return answer.status_code


def test_ready_to_ship_buys_one_label_and_attaches_its_tracking(
    shop_world: OrdersWorld, paid_order: str
) -> None:
    _rule(shop_world)
    wza = shop_world.emulator.marketplace.state.wza

    assert _ready(shop_world, paid_order, "ready-1") == 202
    assert _ready(shop_world, paid_order, "ready-2") == 202  # the shop sends it again

    assert sum(wza.bought.values()) == 1
    [shipment] = wza.shipments.values()
    waybill = shipment["packages"][0]["waybill"]
    status, parcels = form_view(shop_world, paid_order)
    assert status == "SENT"  # Allegro marks it sent once every line has a parcel (allegro-behaviours)
    assert parcels == [("INPOST", waybill)]  # the buyer's method: Allegro Paczkomaty InPost
    assert shipment["receiver"]["city"] == "Warszawa"
    assert shipment["sender"]["name"] == SENDER.name
    link = shop_world.stack.cli("orders", "label", paid_order)
    assert link.exit_code == 0, link.output
    pdf = httpx.get(link.output.strip())
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert waybill.encode() in pdf.content


def test_a_status_the_rule_does_not_name_buys_nothing(shop_world: OrdersWorld, paid_order: str) -> None:
    _rule(shop_world, status="ready-to-ship")

    _ready(shop_world, paid_order, "ready-3")

    assert shop_world.emulator.marketplace.state.wza.bought == {}
    assert shop_world.stack.cli("orders", "label", paid_order).exit_code != 0


def test_the_cli_ships_with_another_service_and_orders_a_pickup(
    shop_world: OrdersWorld, paid_order: str
) -> None:
    _rule(shop_world, status="never")

    shipped = shop_world.stack.cli("orders", "ship", paid_order, "--service", "allegro-kurier-dpd")
    again = shop_world.stack.cli("orders", "ship", paid_order)
    pickup = shop_world.stack.cli("orders", "pickup", paid_order)

    assert shipped.exit_code == 0, shipped.output
    assert again.exit_code == 0, again.output
    assert sum(shop_world.emulator.marketplace.state.wza.bought.values()) == 1
    assert "(DPD)" in shipped.output
    assert pickup.exit_code == 0, pickup.output
    assert "pickup SUCCESS" in pickup.output


def test_the_seller_sets_the_rule_from_the_cli_and_a_bad_one_changes_nothing(
    shop_world: OrdersWorld, paid_order: str
) -> None:
    sender = ["Sklep", "ul. Prosta 1", "00-850", "Warszawa", "a@sklep.example", "500100200"]

    saved = shop_world.stack.cli("orders", "label-rule", "shop1", "--sender", *sender, "--status", "ready")
    bad = shop_world.stack.cli(
        "orders", "label-rule", "shop1", "--sender", *sender[:5], "x", "--weight", "-1"
    )

    assert saved.exit_code == 0, saved.output
    assert bad.exit_code != 0
    rule = shop_world.stack.app("fulfillment_worker").label_rules().get("shop1")
    assert rule is not None
    assert (rule.status, rule.sender.city, rule.package.weight_kg) == ("ready", "Warszawa", 1.0)
