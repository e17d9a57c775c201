"""Schemathesis fuzzes every operation of the served OpenAPI document through the local HTTP gateway:
no generated request may get a 5xx, every answer must match its documented status, type and schema, and
the queue must say the same as the answer.

Each generated request is signed over the exact bytes sent (a `requests` auth hook), with a fresh
timestamp and delivery id, so it reaches the body parser instead of stopping at the signature check.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi import checks

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.adapters.shop.openapi import build_openapi
from allegro_sync.local import LocalRuntime
from tests.integration.webhooks.conftest import SECRET, WOO_SECRET, Webhooks

pytestmark = pytest.mark.integration

# Schemathesis's own list of rejections, plus 413: a body over the limit is refused before anything else in
# it is looked at, which is a rejection too.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
# Examples + fuzzing; the exhaustive "coverage" phase alone takes most of a minute here.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
    }
)
schema = schemathesis.openapi.from_dict(build_openapi(), config=CONFIG)

# Not the handler's to answer: unknown methods are routed by API Gateway (404, as the local gateway does).
# A schema-valid request may still be refused for what a schema cannot say (an `occurred_at` in the
# future, a duplicate): the queue assertion below is the oracle for acceptance instead.
NOT_OURS = [checks.unsupported_method, checks.allow_header_conformance, checks.positive_data_acceptance]


def sign(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Sign the body as sent (bytes, whatever schemathesis serialised): generic scheme or WooCommerce's."""
    body = request.body or b""
    raw = body.encode() if isinstance(body, str) else body
    if request.path_url.startswith("/webhooks/shop"):
        request.headers.update(signing.signed_headers(SECRET, uuid.uuid4().hex, raw, int(time.time())))
    elif request.path_url.startswith("/webhooks/woocommerce"):
        request.headers["X-WC-Webhook-Signature"] = wc.sign(WOO_SECRET, raw)
    return request


def _not_judgeable(case: schemathesis.Case) -> list[Any]:
    """`negative_data_rejection` where it cannot judge: WooCommerce answers signed junk 2xx "refused" on
    purpose (it would disable the webhook otherwise), and a request whose only negative part was a header
    is no longer negative once `sign` has rewritten the signing headers."""
    components = case.meta.components if case.meta is not None else {}
    negative = {location for location, info in components.items() if info.mode.is_negative}
    if case.path == "/webhooks/woocommerce" or negative <= {ParameterLocation.HEADER}:
        return [checks.negative_data_rejection]
    return []


@pytest.fixture(scope="module")
def hooks(webhook_runtime: LocalRuntime) -> Webhooks:
    found = Webhooks(webhook_runtime)
    found.set_secret({"secret": SECRET, "woocommerce": WOO_SECRET})
    return found


@pytest.fixture(scope="module")
def base_url(webhook_runtime: LocalRuntime, hooks: Webhooks) -> str:
    return webhook_runtime.start_gateway()


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_documented_operation_answers_as_documented(
    case: schemathesis.Case, base_url: str, hooks: Webhooks
) -> None:
    hooks.consume()
    session = requests.Session()
    session.auth = sign

    response = case.call(base_url=base_url, session=session, timeout=30)

    case.validate_response(response, excluded_checks=[*NOT_OURS, *_not_judgeable(case)])
    queued = hooks.queued()
    try:
        answer: Any = response.json()
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    if response.status_code == 202 and answer.get("status") == "queued":
        assert len(queued) == answer["events"] >= 1, answer  # valid input: its events are on the queue
    else:
        assert queued == [], (response.status_code, answer)  # invalid input: nothing queued
