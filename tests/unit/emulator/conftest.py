"""Unit-test harness for the marketplace: call `Marketplace.handle` directly and check every exchange
against the project's trimmed copy of Allegro's OpenAPI spec (the same check the server runs)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from allegro_sync.emulator.marketplace import Marketplace
from allegro_sync.emulator.types import Clock, EmulatorRequest, EmulatorResponse
from allegro_sync.emulator.validation import SpecValidator

MEDIA = "application/vnd.allegro.public.v1+json"
SELLER = "1001"
OTHER_SELLER = "1002"
PRIVATE = "1003"
HEADPHONES, KETTLES, BOOKS = "101", "201", "30"
SONY = "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e01"
BOSCH = "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e03"
SHARED_EAN = "8710103760139"  # two Philips kettles share it (#8081)
NEW = {"id": "11323", "valuesIds": ["11323_1"]}


@pytest.fixture(scope="session")
def spec() -> SpecValidator:
    return SpecValidator()


class Api:
    """Sends requests as one seller; fails the test on any spec violation in either direction."""

    def __init__(self, market: Marketplace, spec: SpecValidator, seller_id: str | None) -> None:
        self.market, self.spec, self.seller_id = market, spec, seller_id

    def as_seller(self, seller_id: str | None) -> Api:
        return Api(self.market, self.spec, seller_id)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, Any] | None = None,
        raw: bytes | None = None,
        content_type: str = MEDIA,
        check_request: bool = True,
        accept: str = MEDIA,
    ) -> EmulatorResponse:
        params = {
            k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in (query or {}).items()
        }
        headers = {"accept": accept, "authorization": "Bearer test"}
        if body is not None or raw is not None:
            headers["content-type"] = content_type
        request = EmulatorRequest(
            method=method,
            path=path,
            query=params,
            headers=headers,
            body=body,
            raw_body=raw if raw is not None else (json.dumps(body).encode() if body is not None else b""),
            seller_id=self.seller_id,
        )
        response = self.market.handle(request)
        assert response is not None, f"no route for {method} {path}"
        problems = list(self.spec.request_errors(request)) if check_request else []
        encoded = response.body if isinstance(response.body, bytes) else None  # a file, e.g. a label
        if response.body is not None and encoded is None:
            encoded = json.dumps(response.body).encode()
        problems += self.spec.response_errors(request, response, encoded)
        assert not problems, "\n".join(str(p) for p in problems)
        return response

    def get(self, path: str, **query: Any) -> EmulatorResponse:
        return self.call("GET", path, query=query)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def market(clock: Clock) -> Marketplace:
    marketplace = Marketplace(clock, rng=random.Random(7))
    marketplace.add_seller(SELLER, login="sklep-testowy")
    marketplace.add_seller(OTHER_SELLER, login="inny-sklep")
    marketplace.add_seller(PRIVATE, company=False, login="osoba-prywatna")
    return marketplace


@pytest.fixture
def api(market: Marketplace, spec: SpecValidator) -> Api:
    return Api(market, spec, SELLER)


def offer_body(**overrides: Any) -> dict[str, Any]:
    """A valid headphones offer linked to the Sony product; overrides replace top-level keys."""
    body: dict[str, Any] = {
        "name": "Słuchawki Sony WH-1000XM5 czarne nowe",
        "productSet": [{"product": {"id": SONY}}],
        "category": {"id": HEADPHONES},
        "parameters": [NEW],
        "sellingMode": {"format": "BUY_NOW", "price": {"amount": "1299.00", "currency": "PLN"}},
        "stock": {"available": 5, "unit": "UNIT"},
        "external": {"id": "SKU-SONY-1"},
        "description": {
            "sections": [{"items": [{"type": "TEXT", "content": "<p>Świetne <b>słuchawki</b></p>"}]}]
        },
        "publication": {"status": "ACTIVE"},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def create_offer(api: Api, **overrides: Any) -> dict[str, Any]:
    response = api.call("POST", "/sale/product-offers", offer_body(**overrides))
    assert response.status == 201, response.body
    return dict(response.body)


def error_codes(response: EmulatorResponse) -> list[str]:
    return [e["code"] for e in response.body["errors"]]
