"""Batch commands: async tasks (#6260), reused ids (#5455), no FIXED 0 (#6166), ACTIVATE needs stock."""

from __future__ import annotations

import uuid
from typing import Any

from allegro_sync.emulator.marketplace import Marketplace
from allegro_sync.emulator.types import Clock
from tests.unit.emulator.conftest import Api, create_offer


def criteria(*offer_ids: str) -> list[dict[str, Any]]:
    return [{"type": "CONTAINS_OFFERS", "offers": [{"id": i} for i in offer_ids]}]


def quantity(change: str, value: int, *offer_ids: str) -> dict[str, Any]:
    return {"modification": {"changeType": change, "value": value}, "offerCriteria": criteria(*offer_ids)}


def test_quantity_tasks_appear_after_a_delay(api: Api, clock: Clock, market: Marketplace) -> None:
    market.faults.command_delay_seconds = 2
    a, b = create_offer(api)["id"], create_offer(api)["id"]
    command_id = str(uuid.uuid4())
    path = f"/sale/offer-quantity-change-commands/{command_id}"
    put = api.call("PUT", path, quantity("FIXED", 9, a, b, "9999999999"))
    assert put.status == 201
    assert put.body["taskCount"] == {"total": 0, "success": 0, "failed": 0}
    assert api.get(f"{path}/tasks").body == {"tasks": []}
    clock.advance(3)
    assert api.get(path).body["taskCount"] == {"total": 3, "success": 2, "failed": 1}
    tasks = {t["offer"]["id"]: t for t in api.get(f"{path}/tasks").body["tasks"]}
    assert tasks[a]["status"] == "SUCCESS"
    assert tasks["9999999999"]["status"] == "FAIL"
    assert api.get(f"/sale/product-offers/{a}").body["stock"]["available"] == 9


def test_fixed_zero_is_incorrect_quantity_value(api: Api) -> None:
    offer = create_offer(api)["id"]
    path = f"/sale/offer-quantity-change-commands/{uuid.uuid4()}"
    response = api.call("PUT", path, quantity("FIXED", 0, offer))
    assert response.status == 422
    assert response.body["errors"][0]["code"] == "INCORRECT_QUANTITY_VALUE"
    assert api.get(f"/sale/product-offers/{offer}").body["stock"]["available"] == 5


def test_gain_adds_and_cannot_reach_zero(api: Api) -> None:
    offer = create_offer(api)["id"]
    api.call("PUT", f"/sale/offer-quantity-change-commands/{uuid.uuid4()}", quantity("GAIN", 3, offer))
    api.market.process_due()
    assert api.get(f"/sale/product-offers/{offer}").body["stock"]["available"] == 8
    command = f"/sale/offer-quantity-change-commands/{uuid.uuid4()}"
    api.call("PUT", command, quantity("GAIN", -8, offer))
    task = api.get(f"{command}/tasks").body["tasks"][0]
    assert task["status"] == "FAIL"
    assert task["errors"][0]["code"] == "INCORRECT_QUANTITY_VALUE"


def test_reused_command_id_is_409(api: Api) -> None:
    offer = create_offer(api)["id"]
    path = f"/sale/offer-quantity-change-commands/{uuid.uuid4()}"
    assert api.call("PUT", path, quantity("FIXED", 2, offer)).status == 201
    assert api.call("PUT", path, quantity("FIXED", 3, offer)).status == 409
    api.market.process_due()
    assert api.get(f"/sale/product-offers/{offer}").body["stock"]["available"] == 2


def test_more_than_1000_offers_is_refused(api: Api) -> None:
    ids = [str(7_000_000_000 + i) for i in range(1001)]
    response = api.call(
        "PUT", f"/sale/offer-quantity-change-commands/{uuid.uuid4()}", quantity("FIXED", 1, *ids)
    )
    assert response.status == 422


def test_price_command_variants(api: Api) -> None:
    offer = create_offer(api)["id"]  # 1299.00
    for modification, expected in [
        ({"type": "FIXED_PRICE", "price": {"amount": "1000.00", "currency": "PLN"}}, "1000.00"),
        ({"type": "DECREASE_PRICE", "value": {"amount": "100.50", "currency": "PLN"}}, "899.50"),
        ({"type": "INCREASE_PERCENTAGE", "percentage": "10"}, "989.45"),
    ]:
        path = f"/sale/offer-price-change-commands/{uuid.uuid4()}"
        api.call("PUT", path, {"modification": modification, "offerCriteria": criteria(offer)})
        api.market.process_due()
        assert api.get(path).body["taskCount"]["success"] == 1
        assert api.get(f"/sale/product-offers/{offer}").body["sellingMode"]["price"]["amount"] == expected


def test_activate_needs_stock_and_end_works(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)["id"]
    market.buy(offer, 5)  # sold out: ENDED, EMPTY_STOCK
    assert api.get(f"/sale/product-offers/{offer}").body["publication"]["endedBy"] == "EMPTY_STOCK"
    activate = {"publication": {"action": "ACTIVATE"}, "offerCriteria": criteria(offer)}
    path = f"/sale/offer-publication-commands/{uuid.uuid4()}"
    api.call("PUT", path, activate)
    market.process_due()
    task = api.get(f"{path}/tasks").body["tasks"][0]
    assert task["status"] == "FAIL"
    assert api.get(f"/sale/product-offers/{offer}").body["publication"]["status"] == "ENDED"
    # the FACTS order: raise stock first, then activate
    api.call("PUT", f"/sale/offer-quantity-change-commands/{uuid.uuid4()}", quantity("FIXED", 4, offer))
    market.process_due()
    api.call("PUT", f"/sale/offer-publication-commands/{uuid.uuid4()}", activate)
    market.process_due()
    assert api.get(f"/sale/product-offers/{offer}").body["publication"]["status"] == "ACTIVE"
    end = {"publication": {"action": "END"}, "offerCriteria": criteria(offer)}
    api.call("PUT", f"/sale/offer-publication-commands/{uuid.uuid4()}", end)
    market.process_due()
    shown = api.get(f"/sale/product-offers/{offer}").body["publication"]
    assert (shown["status"], shown["endedBy"]) == ("ENDED", "USER")


def test_other_sellers_command_is_404(api: Api) -> None:
    offer = create_offer(api)["id"]
    path = f"/sale/offer-quantity-change-commands/{uuid.uuid4()}"
    api.call("PUT", path, quantity("FIXED", 2, offer))
    assert api.as_seller("1002").get(path).status == 404


def test_activation_may_overtake_a_stock_change(api: Api, market: Marketplace, clock: Clock) -> None:
    """#10251: with the fault on, ACTIVATE sent right after a stock raise runs first and fails."""
    market.faults.command_delay_seconds = 1

    def raise_then_activate() -> dict[str, Any]:
        offer = create_offer(api, stock={"available": 1, "unit": "UNIT"})["id"]
        market.buy(offer)  # sold out: ENDED
        api.call("PUT", f"/sale/offer-quantity-change-commands/{uuid.uuid4()}", quantity("FIXED", 3, offer))
        path = f"/sale/offer-publication-commands/{uuid.uuid4()}"
        api.call("PUT", path, {"publication": {"action": "ACTIVATE"}, "offerCriteria": criteria(offer)})
        clock.advance(2)
        return dict(api.get(f"{path}/tasks").body["tasks"][0])

    assert raise_then_activate()["status"] == "SUCCESS"
    market.faults.activation_overtakes_rate = 1.0
    overtaken = raise_then_activate()
    assert overtaken["status"] == "FAIL"
    assert overtaken["errors"][0]["code"] == "AvailableStockMustEqualToOneOrBeGreaterThanOne"  # #10699
