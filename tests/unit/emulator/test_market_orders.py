"""Orders: checkout forms, the event journal (cursor, retention, faults), fulfillment and shipments."""

from __future__ import annotations

from typing import Any

import pytest

from allegro_sync.emulator.marketplace import Marketplace
from allegro_sync.emulator.types import Clock
from tests.unit.emulator.conftest import Api, create_offer

DAY = 86400.0


def events(api: Api, **query: object) -> list[dict[str, Any]]:
    return list(api.get("/order/events", **query).body["events"])


def test_buy_creates_form_and_emits_bought_then_filled_in(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    form_id = market.buy(offer["id"], 2, buyer_login="anna")
    form = api.get(f"/order/checkout-forms/{form_id}").body
    assert form["status"] == "FILLED_IN"
    item = form["lineItems"][0]
    assert item["offer"] == {"id": offer["id"], "name": offer["name"], "external": {"id": "SKU-SONY-1"}}
    assert item["quantity"] == 2
    assert item["price"] == {"amount": "1299.00", "currency": "PLN"}
    assert form["buyer"]["login"] == "anna"
    journal = events(api)
    assert [e["type"] for e in journal] == ["BOUGHT", "FILLED_IN"]
    assert journal[0]["order"]["checkoutForm"]["id"] == form_id
    assert api.get(f"/sale/product-offers/{offer['id']}").body["stock"]["available"] == 3


def test_pay_and_cancel(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    paid, cancelled, auto = (market.buy(offer["id"]) for _ in range(3))
    market.pay(paid)
    market.cancel(cancelled)
    market.cancel(auto, auto=True)
    assert api.get(f"/order/checkout-forms/{paid}").body["status"] == "READY_FOR_PROCESSING"
    assert api.get(f"/order/checkout-forms/{paid}").body["payment"]["paidAmount"]["amount"] == "1308.99"
    assert api.get(f"/order/checkout-forms/{cancelled}").body["status"] == "CANCELLED"
    tail = [e["type"] for e in events(api)][-3:]
    assert tail == ["READY_FOR_PROCESSING", "BUYER_CANCELLED", "AUTO_CANCELLED"]
    with pytest.raises(ValueError, match="cannot be paid"):
        market.pay(cancelled)


def test_cancel_does_not_give_stock_back(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    form = market.buy(offer["id"], 5)
    market.cancel(form)
    shown = api.get(f"/sale/product-offers/{offer['id']}").body
    assert shown["stock"]["available"] == 0
    assert shown["publication"]["status"] == "ENDED"


def test_buying_more_than_stock_or_an_inactive_offer_fails(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    with pytest.raises(ValueError, match="only 5"):
        market.buy(offer["id"], 6)
    inactive = create_offer(api, publication={"status": "INACTIVE"})
    with pytest.raises(ValueError, match="INACTIVE"):
        market.buy(inactive["id"])
    with pytest.raises(KeyError):
        market.buy("123")


def test_cursor_is_exclusive_and_ascending(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    for _ in range(3):
        market.buy(offer["id"])
    everything = events(api)
    ids = [int(str(e["id"])) for e in everything]
    assert ids == sorted(ids)
    assert len(ids) == 6
    page = events(api, limit=2)
    rest = events(api, **{"from": page[-1]["id"]})
    assert page + rest == everything
    assert events(api, type="BOUGHT", limit=10) == [e for e in everything if e["type"] == "BOUGHT"]
    stats = api.get("/order/event-stats").body
    assert stats["latestEvent"]["id"] == everything[-1]["id"]


def test_events_of_other_sellers_are_not_visible(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    market.buy(offer["id"])
    assert events(api.as_seller("1002")) == []
    assert api.as_seller("1002").get("/order/event-stats").body == {}


def test_events_are_kept_60_days(api: Api, market: Marketplace, clock: Clock) -> None:
    offer = create_offer(api)
    market.buy(offer["id"])
    clock.advance(59 * DAY)
    assert len(events(api)) == 2
    clock.advance(2 * DAY)
    assert events(api) == []


def test_delay_fault_hides_events_until_due(api: Api, market: Marketplace, clock: Clock) -> None:
    market.faults.order_event_delay_seconds = 30
    offer = create_offer(api)
    form = market.buy(offer["id"])
    assert events(api) == []
    assert api.get("/order/checkout-forms").body["checkoutForms"][0]["id"] == form  # back-fill works
    clock.advance(31)
    journal = events(api)
    assert [e["type"] for e in journal] == ["BOUGHT", "FILLED_IN"]


def test_duplicate_fault_serves_the_same_event_twice(api: Api, market: Marketplace) -> None:
    market.faults.order_event_duplicate_rate = 1.0
    offer = create_offer(api)
    market.buy(offer["id"])
    journal = events(api)
    assert len(journal) == 4
    assert journal[0] == journal[1]
    assert journal[2] == journal[3]
    assert events(api, **{"from": journal[1]["id"]}) == journal[2:]


def test_skipped_ready_for_processing_comes_back_with_a_new_id(
    api: Api, market: Marketplace, clock: Clock
) -> None:
    market.faults.order_event_skip_rate = 1.0
    market.faults.order_event_reemit_after_seconds = 3600
    offer = create_offer(api)
    form = market.buy(offer["id"])
    market.pay(form)
    before = events(api)
    assert [e["type"] for e in before] == ["BOUGHT", "FILLED_IN"]
    assert api.get(f"/order/checkout-forms/{form}").body["status"] == "READY_FOR_PROCESSING"
    clock.advance(3601)
    later = events(api, **{"from": before[-1]["id"]})
    assert [e["type"] for e in later] == ["READY_FOR_PROCESSING"]
    assert later[0]["id"] not in {e["id"] for e in before}


def test_fulfillment_with_stale_revision_is_409(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    form_id = market.buy(offer["id"])
    revision = api.get(f"/order/checkout-forms/{form_id}").body["revision"]
    market.pay(form_id)  # changes the revision
    path = f"/order/checkout-forms/{form_id}/fulfillment"
    stale = api.call("PUT", path, {"status": "PROCESSING"}, query={"checkoutForm.revision": revision})
    assert stale.status == 409
    current = api.get(f"/order/checkout-forms/{form_id}").body
    assert current["fulfillment"]["status"] == "NEW"
    done = api.call(
        "PUT", path, {"status": "PROCESSING"}, query={"checkoutForm.revision": current["revision"]}
    )
    assert done.status == 204
    after = api.get(f"/order/checkout-forms/{form_id}").body
    assert after["fulfillment"]["status"] == "PROCESSING"
    assert after["revision"] != current["revision"]
    assert events(api)[-1]["type"] == "FULFILLMENT_STATUS_CHANGED"


def test_shipments_with_carriers(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    form_id = market.buy(offer["id"])
    carriers = {c["id"] for c in api.as_seller(None).get("/order/carriers").body["carriers"]}
    assert "INPOST" in carriers
    path = f"/order/checkout-forms/{form_id}/shipments"
    added = api.call("POST", path, {"carrierId": "INPOST", "waybill": "620000000000000000000001"})
    assert added.status == 201
    assert (
        api.call("POST", path, {"carrierId": "INPOST", "waybill": "620000000000000000000001"}).status == 409
    )
    assert api.call("POST", path, {"carrierId": "NOPE", "waybill": "1"}).status == 400  # spec: 400
    assert api.call("POST", path, {"carrierId": "OTHER", "waybill": "1"}).status == 400  # spec: 400
    listed = api.get(path).body["shipments"]
    assert [s["waybill"] for s in listed] == ["620000000000000000000001"]
    form = api.get(f"/order/checkout-forms/{form_id}").body
    assert form["fulfillment"]["shipmentSummary"]["lineItemsSent"] == "ALL"


def test_checkout_forms_filters(api: Api, market: Marketplace, clock: Clock) -> None:
    offer = create_offer(api)
    old = market.buy(offer["id"])
    clock.advance(3600)
    mark = clock.now()
    new = market.buy(offer["id"])
    market.pay(new)
    recent = api.get("/order/checkout-forms", **{"updatedAt.gte": mark.isoformat()}).body
    assert [f["id"] for f in recent["checkoutForms"]] == [new]
    paid = api.get("/order/checkout-forms", status="READY_FOR_PROCESSING").body
    assert [f["id"] for f in paid["checkoutForms"]] == [new]
    both = api.get("/order/checkout-forms", sort="lineItems.boughtAt").body
    assert [f["id"] for f in both["checkoutForms"]] == [old, new]
    assert both["totalCount"] == 2


def test_surcharge_repeats_ready_for_processing(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    form_id = market.buy(offer["id"])
    market.pay(form_id)
    market.surcharge(form_id, "15.00")
    ready = [e for e in events(api) if e["type"] == "READY_FOR_PROCESSING"]
    assert len(ready) == 2
    assert ready[0]["id"] != ready[1]["id"]
    assert {e["order"]["checkoutForm"]["id"] for e in ready} == {form_id}
    form = api.get(f"/order/checkout-forms/{form_id}").body
    assert form["surcharges"][0]["paidAmount"] == {"amount": "15.00", "currency": "PLN"}
    assert form["summary"]["totalToPay"]["amount"] == "1323.99"
    with pytest.raises(ValueError, match="positive"):
        market.surcharge(form_id, "0")


def test_buyer_modifies_unpaid_form(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    form_id = market.buy(offer["id"])
    before = api.get(f"/order/checkout-forms/{form_id}").body
    market.modify(form_id, city="Gdańsk")
    after = api.get(f"/order/checkout-forms/{form_id}").body
    assert after["delivery"]["address"]["city"] == "Gdańsk"
    assert after["revision"] != before["revision"]
    last = events(api)[-1]
    assert last["type"] == "BUYER_MODIFIED"
    assert last["order"]["checkoutForm"]["revision"] == after["revision"]
    market.pay(form_id)
    market.faults.post_payment_changes = False  # real Allegro allows it for 3 days (#3730): see below
    with pytest.raises(ValueError, match="no longer"):
        market.modify(form_id)


# --- allegro-orders: combined payments (#1111, #1705, #2172) and changes after payment (#3730, #3085) ---


def test_a_combined_payment_makes_a_new_form_with_the_same_line_items_and_deletes_the_old(
    api: Api, market: Marketplace
) -> None:
    offer = create_offer(api)
    first, second = market.buy(offer["id"], 2), market.buy(offer["id"])
    items = [api.get(f"/order/checkout-forms/{f}").body["lineItems"][0] for f in (first, second)]
    before = market.offer(offer["id"])["stock"]["available"]
    [merged] = market.pay_together(first, second)
    form = api.get(f"/order/checkout-forms/{merged}").body
    assert merged not in (first, second)
    assert form["status"] == "READY_FOR_PROCESSING"
    assert [(li["id"], li["quantity"]) for li in form["lineItems"]] == [
        (li["id"], li["quantity"]) for li in items
    ]
    for gone in (first, second):
        assert api.get(f"/order/checkout-forms/{gone}").status == 404
    kinds = [(e["type"], e["order"]["checkoutForm"]["id"]) for e in events(api)]
    assert kinds[-1] == ("READY_FOR_PROCESSING", merged)
    assert not any(kind.endswith("CANCELLED") for kind, _ in kinds)
    assert market.offer(offer["id"])["stock"]["available"] == before  # Allegro took the units at purchase


def test_combined_payments_switched_off_pay_each_form(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    forms = [market.buy(offer["id"]), market.buy(offer["id"])]
    market.faults.combined_payments = False
    assert market.pay_together(*forms) == forms
    assert [api.get(f"/order/checkout-forms/{f}").body["status"] for f in forms] == [
        "READY_FOR_PROCESSING"
    ] * 2


def test_a_paid_order_can_change_address_or_be_cancelled_until_the_seller_starts(
    api: Api, market: Marketplace
) -> None:
    offer = create_offer(api)
    moved, cancelled, started = (market.buy(offer["id"]) for _ in range(3))
    for form_id in (moved, cancelled, started):
        market.pay(form_id)
    market.modify(moved, city="Gdańsk")
    market.cancel(cancelled)
    assert api.get(f"/order/checkout-forms/{moved}").body["delivery"]["address"]["city"] == "Gdańsk"
    assert api.get(f"/order/checkout-forms/{cancelled}").body["status"] == "CANCELLED"
    assert [e["type"] for e in events(api)][-2:] == ["BUYER_MODIFIED", "BUYER_CANCELLED"]
    market.state.checkout_forms[started].fulfillment_status = "PROCESSING"
    with pytest.raises(ValueError, match="already handles"):
        market.cancel(started)


def test_the_switches_take_true_and_false_as_the_cli_sends_them() -> None:
    from allegro_sync.emulator import Emulator

    emulator = Emulator()
    assert (
        emulator.set_faults(combined_payments="false", post_payment_changes="off")["combined_payments"]
        is False
    )
    assert emulator.faults()["post_payment_changes"] is False
    with pytest.raises(ValueError, match="true or false"):
        emulator.set_faults(combined_payments="maybe")


# --- issue 14, items 6-8 (allegro-misc) -------------------------------------------------------------------


def test_a_waybill_used_in_too_many_orders_is_refused_with_409(api: Api, market: Marketplace) -> None:
    """Spec: 409 "Maximum waybill usage exceeded (e.g. used in too many orders)"."""
    offer = create_offer(api)
    forms = [market.buy(offer["id"], buyer_login=f"b{n}") for n in range(4)]
    shipment = {"carrierId": "INPOST", "waybill": "620000000000000000000009"}
    answers = [api.call("POST", f"/order/checkout-forms/{f}/shipments", shipment).status for f in forms]
    assert answers == [201, 201, 201, 409]  # waybill_max_orders = 3 by default


def test_allegro_marks_a_shipped_form_sent_and_returned_itself(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    form_id = market.buy(offer["id"])
    market.pay(form_id)
    path = f"/order/checkout-forms/{form_id}/shipments"
    assert api.call("POST", path, {"carrierId": "DPD", "waybill": "00340434161094042557"}).status == 201
    assert api.get(f"/order/checkout-forms/{form_id}").body["fulfillment"]["status"] == "SENT"
    market.return_parcel(form_id)
    assert api.get(f"/order/checkout-forms/{form_id}").body["fulfillment"]["status"] == "RETURNED"
    refused = api.call("PUT", f"/order/checkout-forms/{form_id}/fulfillment", {"status": "RETURNED"})
    assert refused.status == 422  # only Allegro sets RETURNED


def test_order_event_ids_look_like_microsecond_timestamps(api: Api, market: Marketplace) -> None:
    """#5576: `from` is a Unix time in microseconds, e.g. 1661520629376105."""
    offer = create_offer(api)
    market.buy(offer["id"])
    ids = [e["id"] for e in api.get("/order/events").body["events"]]
    now_us = market.clock.now().timestamp() * 1_000_000
    assert all(len(i) == 16 and abs(int(i) - now_us) < 60_000_000 for i in ids)
    assert ids == sorted(ids, key=int)
    assert len(set(ids)) == len(ids)


def test_a_campaign_shows_in_badges_not_in_the_offer_and_sells_at_its_price(
    api: Api, market: Marketplace
) -> None:
    """#13617, #4345: `sellingMode.price` stays the seller's; GET /sale/badges shows the campaign."""
    offer = create_offer(api)
    market.start_campaign(offer["id"], "1199.00")
    shown = api.get(f"/sale/product-offers/{offer['id']}").body
    assert shown["sellingMode"]["price"]["amount"] == "1299.00"
    (badge,) = api.get("/sale/badges", **{"marketplace.id": "allegro-pl"}).body["badges"]
    assert badge["prices"]["subsidy"]["targetPrice"]["amount"] == "1199.00"
    assert badge["process"]["status"] == "ACTIVE"
    form = api.get(f"/order/checkout-forms/{market.buy(offer['id'])}").body
    assert form["lineItems"][0]["price"]["amount"] == "1199.00"
    market.end_campaign(offer["id"])
    (ended,) = api.get("/sale/badges", **{"marketplace.id": "allegro-pl"}).body["badges"]
    assert ended["process"]["status"] == "FINISHED"
