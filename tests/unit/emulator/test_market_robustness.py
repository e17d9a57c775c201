"""Bad input gets a clear error and changes nothing: random JSON thrown at every write endpoint."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allegro_sync.emulator.marketplace import Marketplace
from allegro_sync.emulator.types import Clock, EmulatorRequest
from tests.unit.emulator.conftest import SELLER, offer_body

KEYS = [
    "name",
    "category",
    "id",
    "productSet",
    "product",
    "idType",
    "parameters",
    "values",
    "valuesIds",
    "rangeValue",
    "sellingMode",
    "price",
    "amount",
    "currency",
    "stock",
    "available",
    "unit",
    "description",
    "sections",
    "items",
    "type",
    "content",
    "url",
    "images",
    "external",
    "publication",
    "status",
    "modification",
    "changeType",
    "value",
    "offerCriteria",
    "offers",
    "action",
    "set",
    "remove",
    "marketplace",
    "rule",
    "configuration",
    "priceRange",
    "minPrice",
    "maxPrice",
    "offer",
    "carrierId",
    "waybill",
    "lineItems",
    "percentage",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from(["", "x", "1", "0", "ACTIVE", "FIXED", "101"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=12,
)


def _world() -> tuple[Marketplace, str, str]:
    market = Marketplace(Clock(), rng=random.Random(3))
    market.add_seller(SELLER)
    request = EmulatorRequest("POST", "/sale/product-offers", body=offer_body(), seller_id=SELLER)
    response = market.handle(request)
    assert response is not None
    offer_id = response.body["id"]
    form_id = market.buy(offer_id)
    return market, offer_id, form_id


def _fingerprint(market: Marketplace, offer_id: str, form_id: str) -> str:
    state = market.state
    return json.dumps(
        [
            market.offer(offer_id),
            market.snapshot(),
            len(state.offer_events),
            state.checkout_forms[form_id].revision,
            sorted(state.rules),
        ],
        sort_keys=True,
        default=str,
    )


OFFER = "7700000001"  # the first offer id of a fresh marketplace
CRITERIA = [{"type": "CONTAINS_OFFERS", "offers": [{"id": OFFER}]}]
PLN = {"amount": "10.00", "currency": "PLN"}
# A valid body per write endpoint; each example breaks one or two nodes of it.
TEMPLATES: list[tuple[str, str, Any]] = [
    ("POST", "/sale/product-offers", offer_body()),
    (
        "PATCH",
        "/sale/product-offers/{offer}",
        {
            "stock": {"available": 3},
            "sellingMode": {"price": PLN},
            "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
            "publication": {"status": "ENDED"},
            "description": {"sections": [{"items": [{"type": "TEXT", "content": "<p>a</p>"}]}]},
        },
    ),
    (
        "PUT",
        "/sale/offer-quantity-change-commands/{uuid}",
        {"modification": {"changeType": "FIXED", "value": 3}, "offerCriteria": CRITERIA},
    ),
    (
        "PUT",
        "/sale/offer-price-change-commands/{uuid}",
        {"modification": {"type": "FIXED_PRICE", "price": PLN}, "offerCriteria": CRITERIA},
    ),
    (
        "PUT",
        "/sale/offer-publication-commands/{uuid}",
        {"publication": {"action": "END"}, "offerCriteria": CRITERIA},
    ),
    (
        "POST",
        "/sale/offer-price-automation-commands",
        {
            "modification": {
                "set": [
                    {
                        "marketplace": {"id": "allegro-pl"},
                        "rule": {"id": "x"},
                        "configuration": {
                            "priceRange": {"type": "MARKETPLACE_CURRENCY", "minPrice": PLN, "maxPrice": PLN}
                        },
                    }
                ]
            },
            "offerCriteria": CRITERIA,
        },
    ),
    (
        "POST",
        "/sale/price-automation/rules",
        {
            "name": "Reguła",
            "type": "FOLLOW_BY_MARKET_MIN_PRICE",
            "configuration": {"changeByPercentage": {"operation": "ADD", "value": "1"}},
        },
    ),
    (
        "POST",
        "/pricing/offer-fee-preview",
        {"offer": {"name": "Oferta", "category": {"id": "101"}, "sellingMode": {"price": PLN}}},
    ),
    ("POST", "/order/checkout-forms/{form}/shipments", {"carrierId": "INPOST", "waybill": "W1"}),
    ("PUT", "/order/checkout-forms/{form}/fulfillment", {"status": "SENT"}),
    ("POST", "/sale/images", {"url": "https://shop.example/1.jpg"}),
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(node))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


WRONG_TYPES: st.SearchStrategy[Any] = st.sampled_from(
    ["x", "", 0, -1, 1.5, True, None, [], ["x"], [{}], {}, {"id": []}]
)


@pytest.mark.parametrize(("method", "template", "body"), TEMPLATES, ids=[f"{m} {t}" for m, t, _ in TEMPLATES])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_broken_bodies_never_crash_and_rejections_change_nothing(
    method: str, template: str, body: Any, data: st.DataObject
) -> None:
    for _ in range(data.draw(st.integers(1, 2))):
        value = data.draw(st.one_of(WRONG_TYPES, json_values))
        body = _replaced(body, data.draw(st.sampled_from(_paths(body))), value)
    market, offer_id, form_id = _world()
    assert offer_id == OFFER
    path = template.format(offer=offer_id, form=form_id, uuid=uuid.uuid4())
    before = _fingerprint(market, offer_id, form_id)
    request = EmulatorRequest(method, path, body=body, raw_body=json.dumps(body).encode(), seller_id=SELLER)
    response = market.handle(request)
    assert response is not None
    assert response.status < 500
    if response.status >= 400:
        errors = response.body["errors"]
        assert errors
        assert all(e["code"] and e["message"] for e in errors)
        market.process_due()
        assert _fingerprint(market, offer_id, form_id) == before
