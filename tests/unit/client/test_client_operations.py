"""The helpers that hide Allegro's asynchronous parts and its pagination."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from allegro_sync.contracts.allegro import (
    AddShipment,
    PriceIn,
    PriceModification,
    PriceRange,
    ShipmentLineItem,
)
from allegro_sync.contracts.allegro_errors import AllegroOperationPending, AllegroRateLimited, InvalidCommand
from tests.fixtures.clock import FakeClock
from tests.unit.client.fakes import FakeAllegro, allegro_error, make_client, reply

OPERATION = "/sale/product-offers/77/operations/op-1"


def test_create_follows_202_until_303_then_returns_the_offer() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    allegro.script(
        "POST",
        "/sale/product-offers",
        reply(202, {"id": "77"}, {"location": f"https://api.test{OPERATION}", "retry-after": "2"}),
    )
    running = {"offer": {"id": "77"}, "operation": {"id": "op-1", "status": "IN_PROGRESS"}}
    allegro.script(
        "GET",
        OPERATION,
        reply(202, running),
        reply(303, None, {"location": "https://api.test/sale/product-offers/77"}),
    )
    allegro.script(
        "GET", "/sale/product-offers/77", reply(200, {"id": "77", "publication": {"status": "ACTIVE"}})
    )
    offer = make_client(allegro, clock=clock).create_product_offer({"name": "Kubek ceramiczny biały"})
    assert offer.publication is not None
    assert offer.publication.status == "ACTIVE"
    assert [(r.method, r.url.path) for r in allegro.requests] == [
        ("POST", "/sale/product-offers"),
        ("GET", OPERATION),
        ("GET", OPERATION),
        ("GET", "/sale/product-offers/77"),
    ]
    assert clock.sleeps[0] == 2.0  # Allegro's Retry-After is honoured


def test_create_with_201_returns_at_once() -> None:
    allegro = FakeAllegro()
    allegro.script("POST", "/sale/product-offers", reply(201, {"id": "5", "name": "Kubek"}))
    assert make_client(allegro).create_product_offer({"name": "Kubek"}).id == "5"
    assert len(allegro.requests) == 1


def test_operation_that_never_finishes_is_bounded() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    allegro.script("POST", "/sale/product-offers", reply(202, {"id": "77"}, {"location": OPERATION}))
    allegro.route("GET", OPERATION, lambda _: reply(202, {"operation": {"status": "IN_PROGRESS"}}))
    with pytest.raises(AllegroOperationPending) as caught:
        make_client(allegro, clock=clock, max_wait_seconds=10).create_product_offer({"name": "x"})
    assert caught.value.offer_id == "77"
    assert caught.value.location == OPERATION
    assert sum(clock.sleeps) <= 10


def test_patch_202_is_followed_too() -> None:
    allegro = FakeAllegro()
    allegro.script("PATCH", "/sale/product-offers/77", reply(202, {"id": "77"}, {"location": OPERATION}))
    allegro.script("GET", OPERATION, reply(303))
    allegro.script("GET", "/sale/product-offers/77", reply(200, {"id": "77", "stock": {"available": 0}}))
    offer = make_client(allegro).patch_product_offer("77", {"stock": {"available": 0}})
    assert offer.stock is not None
    assert offer.stock.available == 0


class CommandAllegro(FakeAllegro):
    """Allegro's batch commands: tasks stay empty for `lag` polls, then report per-offer status."""

    def __init__(self, kind: str, *, lag: int = 1, failing: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.kind = kind
        self.lag = lag
        self.failing = failing
        self.commands: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        match = re.fullmatch(rf"/sale/{self.kind}/([^/]+)(/tasks)?", request.url.path)
        if request.method == "PUT" and match and not match.group(2):
            if match.group(1) in self.commands:
                return allegro_error(409, "CommandAlreadyExists")
            self.commands[match.group(1)] = json.loads(request.content)
            return reply(201, {"id": match.group(1), "taskCount": {"total": 0, "success": 0, "failed": 0}})
        if request.method == "GET" and match and match.group(2):
            command_id = match.group(1)
            self.polls[command_id] = self.polls.get(command_id, 0) + 1
            if self.polls[command_id] <= self.lag:
                return reply(200, {"tasks": []})
            offers = self.commands[command_id]["offerCriteria"][0]["offers"]
            tasks = [
                {
                    "offer": {"id": o["id"]},
                    "status": "FAIL" if o["id"] in self.failing else "SUCCESS",
                    "message": "The offer does not exist." if o["id"] in self.failing else None,
                }
                for o in offers
            ]
            return reply(200, {"tasks": tasks})
        return reply(404)


def test_quantity_command_splits_into_1000s_with_fresh_ids_and_reports_each_offer() -> None:
    allegro = CommandAllegro("offer-quantity-change-commands", failing=frozenset({"o-1500"}))
    ids = [f"o-{i}" for i in range(2500)]
    results = make_client(allegro).change_quantity(ids, "FIXED", 5)
    assert len(allegro.commands) == 3
    sizes = [len(c["offerCriteria"][0]["offers"]) for c in allegro.commands.values()]
    assert sizes == [1000, 1000, 500]
    first = next(iter(allegro.commands.values()))
    assert first["modification"] == {"changeType": "FIXED", "value": 5}
    assert first["offerCriteria"][0]["type"] == "CONTAINS_OFFERS"
    assert [r.offer_id for r in results] == ids
    failed = [r for r in results if r.status == "FAIL"]
    assert [(r.offer_id, r.message) for r in failed] == [("o-1500", "The offer does not exist.")]
    assert sum(r.status == "SUCCESS" for r in results) == 2499
    assert len({r.command_id for r in results}) == 3


def test_empty_tasks_right_after_the_put_are_polled_again() -> None:
    allegro = CommandAllegro("offer-publication-commands", lag=3)
    clock = FakeClock()
    results = make_client(allegro, clock=clock).change_publication(["1", "2"], "ACTIVATE")
    assert [r.status for r in results] == ["SUCCESS", "SUCCESS"]
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert next(iter(allegro.commands.values()))["publication"] == {"action": "ACTIVATE"}


def test_offers_without_a_final_status_come_back_pending() -> None:
    allegro = CommandAllegro("offer-publication-commands", lag=10_000)
    results = make_client(allegro, max_wait_seconds=5).change_publication(["1"], "END")
    assert [r.status for r in results] == ["PENDING"]


def test_duplicate_offer_ids_are_sent_once() -> None:
    allegro = CommandAllegro("offer-quantity-change-commands", lag=0)
    results = make_client(allegro).change_quantity(["1", "1", "2"], "GAIN", -1)
    assert [r.offer_id for r in results] == ["1", "2"]


def test_retried_put_answered_409_counts_as_accepted() -> None:
    allegro = CommandAllegro("offer-price-change-commands", lag=0)
    original = allegro.__call__
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if request.method == "PUT" and calls["n"] == 0:
            calls["n"] += 1
            raise httpx.ReadTimeout("lost the answer", request=request)  # Allegro did store the command
        return response

    client = make_client(FakeAllegro(), http=httpx.Client(transport=httpx.MockTransport(flaky)))
    modification = PriceModification(type="FIXED_PRICE", price=PriceIn(amount="19.99"))
    results = client.change_price(["9"], modification)
    assert [r.status for r in results] == ["SUCCESS"]
    body = next(iter(allegro.commands.values()))
    assert body["modification"] == {"type": "FIXED_PRICE", "price": {"amount": "19.99", "currency": "PLN"}}


def test_fixed_quantity_below_one_is_refused_before_calling_allegro() -> None:
    allegro = FakeAllegro()
    with pytest.raises(InvalidCommand, match=r"stock': \{'available': 0"):
        make_client(allegro).change_quantity(["1"], "FIXED", 0)
    assert allegro.requests == []


def test_price_modification_must_match_its_type() -> None:
    with pytest.raises(ValueError, match="FIXED_PRICE takes exactly `price`"):
        PriceModification(type="FIXED_PRICE", percentage="5")
    with pytest.raises(ValueError, match="amount"):
        PriceIn(amount="19,99")


def test_empty_command_is_refused() -> None:
    with pytest.raises(InvalidCommand):
        make_client(FakeAllegro()).change_publication([], "END")


def test_price_automation_assignment_posts_one_command_per_chunk_and_waits_for_tasks() -> None:
    allegro = FakeAllegro()
    posted: list[dict[str, Any]] = []

    def post(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return reply(201, {"id": posted[-1]["id"]})

    def tasks(request: httpx.Request) -> httpx.Response:
        offers = posted[-1]["offerCriteria"][0]["offers"]
        return reply(200, {"tasks": [{"offer": o, "status": "SUCCESS"} for o in offers]})

    allegro.route("POST", "/sale/offer-price-automation-commands", post)
    original = allegro.__call__

    def routed(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tasks"):
            allegro.requests.append(request)
            return tasks(request)
        return original(request)

    client = make_client(allegro, http=httpx.Client(transport=httpx.MockTransport(routed)))
    results = client.assign_price_automation(
        ["a", "b"], "rule-1", PriceRange(min_price=PriceIn(amount="10.00"), max_price=PriceIn(amount="20.00"))
    )
    assert [r.status for r in results] == ["SUCCESS", "SUCCESS"]
    body = posted[0]
    assert re.fullmatch(r"[0-9a-f-]{36}", body["id"])
    assert body["modification"]["set"][0]["rule"] == {"id": "rule-1"}
    assert body["modification"]["set"][0]["configuration"]["priceRange"]["minPrice"]["amount"] == "10.00"


def test_inverted_price_range_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="not a valid range"):
        make_client(FakeAllegro()).assign_price_automation(
            ["a"], "r", PriceRange(min_price=PriceIn(amount="30.00"), max_price=PriceIn(amount="20.00"))
        )


def test_iter_offers_walks_offset_pages_of_1000() -> None:
    allegro = FakeAllegro()
    total = 2300

    def offers(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        page = [{"id": str(i)} for i in range(offset, min(offset + limit, total))]
        return reply(200, {"offers": page, "count": len(page), "totalCount": total})

    allegro.route("GET", "/sale/offers", offers)
    ids = [o.id for o in make_client(allegro).iter_offers(external_ids=["SKU-1", "SKU-2"])]
    assert ids == [str(i) for i in range(total)]
    assert [r.url.params["offset"] for r in allegro.requests] == ["0", "1000", "2000"]
    assert allegro.requests[0].url.params.get_list("external.id") == ["SKU-1", "SKU-2"]


def test_product_search_follows_page_ids() -> None:
    allegro = FakeAllegro()
    allegro.script(
        "GET",
        "/sale/products",
        reply(200, {"products": [{"id": "p1", "name": "A"}], "nextPage": {"id": "cursor-2"}}),
        reply(200, {"products": [{"id": "p2", "name": "B"}]}),
    )
    products = list(make_client(allegro).iter_products("5901234123457"))
    assert [p.id for p in products] == ["p1", "p2"]
    assert allegro.requests[0].url.params["mode"] == "GTIN"
    assert "page.id" not in allegro.requests[0].url.params
    assert allegro.requests[1].url.params["page.id"] == "cursor-2"


def test_order_events_are_read_from_the_last_id_until_a_short_page() -> None:
    allegro = FakeAllegro()

    def events(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("from", "0"))
        stop = min(start + int(request.url.params["limit"]), 1500)
        return reply(
            200,
            {
                "events": [
                    {"id": str(i + 1), "type": "BOUGHT", "occurredAt": "2026-01-01T00:00:00Z", "order": {}}
                    for i in range(start, stop)
                ]
            },
        )

    allegro.route("GET", "/order/events", events)
    got = list(make_client(allegro).iter_order_events("0"))
    assert len(got) == 1500
    assert [r.url.params["from"] for r in allegro.requests] == ["0", "1000"]


def test_image_upload_goes_to_the_upload_host() -> None:
    allegro = FakeAllegro()
    allegro.route("POST", "/sale/images", lambda _: reply(201, {"location": "https://img/1.jpg"}))
    client = make_client(allegro)
    assert client.upload_image(url="https://shop/1.jpg").location == "https://img/1.jpg"
    client.upload_image(data=b"\xff\xd8jpeg", content_type="image/jpeg")
    by_url, raw = allegro.requests
    assert by_url.url.host == raw.url.host == "upload.test"
    assert json.loads(by_url.content) == {"url": "https://shop/1.jpg"}
    assert raw.headers["content-type"] == "image/jpeg"
    assert raw.content == b"\xff\xd8jpeg"
    with pytest.raises(InvalidCommand):
        client.upload_image()


def test_fulfillment_sends_the_revision_and_a_stale_one_surfaces_as_conflict() -> None:
    allegro = FakeAllegro()
    allegro.script("PUT", "/order/checkout-forms/cf-1/fulfillment", reply(204), allegro_error(409, "STALE"))
    client = make_client(allegro)
    client.set_fulfillment("cf-1", "SENT", revision="r1")
    sent = allegro.requests[0]
    assert sent.url.params["checkoutForm.revision"] == "r1"
    assert json.loads(sent.content) == {"status": "SENT"}
    with pytest.raises(Exception, match="STALE"):
        client.set_fulfillment("cf-1", "SENT", revision="r0")


def test_shipment_body_uses_spec_names() -> None:
    allegro = FakeAllegro()
    allegro.route("POST", "/order/checkout-forms/cf-1/shipments", lambda _: reply(201, {"id": "s1"}))
    make_client(allegro).add_shipment(
        "cf-1", AddShipment(carrier_id="INPOST", waybill="123", line_items=[ShipmentLineItem(id="li-1")])
    )
    assert json.loads(allegro.requests[0].content) == {
        "carrierId": "INPOST",
        "waybill": "123",
        "lineItems": [{"id": "li-1"}],
    }


def test_a_202_without_body_still_finds_the_offer_through_its_location() -> None:
    allegro = FakeAllegro()
    allegro.script("POST", "/sale/product-offers", reply(202, None, {"location": OPERATION}))
    allegro.script("GET", OPERATION, reply(303))
    allegro.script("GET", "/sale/product-offers/77", reply(200, {"id": "77"}))
    assert make_client(allegro).create_product_offer({"name": "x"}).id == "77"


def test_not_waiting_returns_the_accepted_offer_id() -> None:
    allegro = FakeAllegro()
    allegro.script("POST", "/sale/product-offers", reply(202, {"name": "x"}, {"location": OPERATION}))
    assert make_client(allegro).create_product_offer({"name": "x"}, wait=False).id == "77"
    assert len(allegro.requests) == 1


def test_more_than_100_external_ids_are_asked_100_at_a_time() -> None:
    allegro = FakeAllegro()

    def offers(request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get_list("external.id")
        page = [{"id": f"offer-{sku}", "external": {"id": sku}} for sku in wanted]
        return reply(200, {"offers": page, "count": len(page), "totalCount": len(page)})

    allegro.route("GET", "/sale/offers", offers)
    skus = [f"SKU-{i}" for i in range(250)]
    found = list(make_client(allegro).iter_offers(external_ids=skus))
    assert [o.external.id for o in found if o.external] == skus
    assert [len(r.url.params.get_list("external.id")) for r in allegro.requests] == [100, 100, 50]


def test_checkout_forms_back_fill_walks_pages_of_100() -> None:
    allegro = FakeAllegro()
    total = 230

    def forms(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        page = [
            {"id": f"cf-{i}", "status": "READY_FOR_PROCESSING"}
            for i in range(offset, min(offset + 100, total))
        ]
        return reply(200, {"checkoutForms": page, "count": len(page), "totalCount": total})

    allegro.route("GET", "/order/checkout-forms", forms)
    found = list(make_client(allegro).iter_checkout_forms(updated_at_gte="2026-01-01T00:00:00Z"))
    assert len(found) == total
    assert [r.url.params["offset"] for r in allegro.requests] == ["0", "100", "200"]
    assert allegro.requests[0].url.params["updatedAt.gte"] == "2026-01-01T00:00:00Z"


def test_a_batch_stopped_by_a_block_reports_the_chunks_already_done() -> None:
    allegro = CommandAllegro("offer-quantity-change-commands", lag=0)
    original = allegro.__call__

    def blocked_after_first(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and allegro.commands:
            allegro.requests.append(request)
            return reply(429)
        return original(request)

    client = make_client(FakeAllegro(), http=httpx.Client(transport=httpx.MockTransport(blocked_after_first)))
    with pytest.raises(AllegroRateLimited) as caught:
        client.change_quantity([str(i) for i in range(1500)], "FIXED", 2)
    assert len(caught.value.completed) == 1000
    assert {r.status for r in caught.value.completed} == {"SUCCESS"}
