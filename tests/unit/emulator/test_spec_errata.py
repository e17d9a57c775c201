"""The spec errata keep validation strict where Allegro's spec contradicts Allegro's API."""

from __future__ import annotations

import json

from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse
from allegro_sync.emulator.validation import CONTRACT_PATH, validator_for

JSON = "application/vnd.allegro.public.v1+json"


def _request(method: str, path: str, body: object = None, **query: str) -> EmulatorRequest:
    return EmulatorRequest(
        method=method,
        path=path,
        query={k: [v] for k, v in query.items()},
        headers={"accept": JSON, "content-type": JSON},
        body=body,
        raw_body=b"" if body is None else json.dumps(body).encode(),
    )


def test_an_empty_checkout_form_search_is_a_valid_answer() -> None:
    validator = validator_for(CONTRACT_PATH)
    request = _request("GET", "/order/checkout-forms")
    body = {"checkoutForms": [], "count": 0, "totalCount": 0}
    empty = EmulatorResponse(200, body, {"content-type": JSON})
    assert validator.response_errors(request, empty, json.dumps(body).encode()) == []


def test_a_price_automation_command_must_still_say_set_or_remove() -> None:
    validator = validator_for(CONTRACT_PATH)
    criteria = [{"type": "CONTAINS_OFFERS", "offers": [{"id": "123"}]}]
    good = {
        "modification": {"remove": [{"marketplace": {"id": "allegro-pl"}}]},
        "offerCriteria": criteria,
    }
    neither = {"modification": {}, "offerCriteria": criteria}
    path = "/sale/offer-price-automation-commands"
    assert validator.request_errors(_request("POST", path, good)) == []
    assert validator.request_errors(_request("POST", path, neither)) != []
