"""Schemathesis fuzzes every operation of the served OpenAPI document through the local HTTP gateway:
no generated request may get a 5xx, and every answer must match its documented status, type and schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from allegro_sync.adapters.shop.openapi import build_openapi
from allegro_sync.local import LocalRuntime
from tests.integration.webhooks.conftest import SECRET, WOO_SECRET, Webhooks

pytestmark = pytest.mark.integration

# Examples + fuzzing; the exhaustive "coverage" phase alone takes most of a minute here.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
)
schema = schemathesis.openapi.from_dict(build_openapi(), config=CONFIG)

# Not the handler's to answer: unknown methods are routed by API Gateway (404, as the local gateway does),
# and a schema-valid request is still refused (401) without a real HMAC, which no generator can forge.
NOT_OURS = [checks.unsupported_method, checks.allow_header_conformance, checks.positive_data_acceptance]


@pytest.fixture(scope="module")
def base_url(webhook_runtime: LocalRuntime) -> str:
    hooks = Webhooks(webhook_runtime)
    hooks.set_secret({"secret": SECRET, "woocommerce": WOO_SECRET})
    return webhook_runtime.start_gateway()


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_documented_operation_answers_as_documented(case: schemathesis.Case, base_url: str) -> None:
    response = case.call(base_url=base_url, timeout=30)

    case.validate_response(response, excluded_checks=NOT_OURS)
