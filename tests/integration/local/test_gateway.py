"""The local HTTP API: real HTTP on 127.0.0.1 in, a payload-2.0 event to the handler, its answer out."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from allegro_sync.local import LocalRuntime
from tests.fixtures.local import MakeLocalRuntime
from tests.integration.local.handlers import recorder
from tests.integration.local.topologies import MODULES, QUEUES

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway(make_local_runtime: MakeLocalRuntime) -> str:
    recorder.CALLS.clear()
    runtime = make_local_runtime(QUEUES, handler_modules=MODULES, body_limit=1024)
    return runtime.start_gateway()


def test_health_answers_200_json_over_http(local_runtime: LocalRuntime) -> None:
    url = local_runtime.start_gateway()

    response = httpx.get(f"{url}/health")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["status"] == "ok"


def test_a_request_becomes_a_v2_event_and_the_structured_answer_becomes_http(gateway: str) -> None:
    response = httpx.post(
        f"{gateway}/echo/widget?size=XL&tag=a&tag=b",
        content=json.dumps({"sku": "SKU-1"}),
        headers={"Content-Type": "application/json", "X-Shop-Signature": "sig", "Cookie": "a=1; b=2"},
    )

    assert response.status_code == 201
    assert response.headers["x-echo"] == "yes"
    assert response.headers.get_list("set-cookie") == ["session=abc; HttpOnly", "theme=dark"]
    event = response.json()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /echo/{name}"
    assert event["rawPath"] == "/echo/widget"
    assert event["rawQueryString"] == "size=XL&tag=a&tag=b"
    assert event["queryStringParameters"] == {"size": "XL", "tag": "a,b"}
    assert event["pathParameters"] == {"name": "widget"}
    assert event["headers"]["x-shop-signature"] == "sig"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["headers"]["x-forwarded-port"] == gateway.rsplit(":", 1)[1]
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["requestContext"]["http"] == {
        "method": "POST",
        "path": "/echo/widget",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": event["headers"]["user-agent"],
    }
    assert json.loads(event["body"]) == {"sku": "SKU-1"}
    assert event["isBase64Encoded"] is False
    call = recorder.CALLS[-1]
    assert (call["function_name"], call["memory"]) == ("allegro-sync-recorder", 512)
    assert 0 < call["remaining_ms"] <= 3000


def test_a_binary_body_arrives_base64_encoded(gateway: str) -> None:
    payload = bytes(range(256))
    response = httpx.post(
        f"{gateway}/echo/blob", content=payload, headers={"Content-Type": "application/octet-stream"}
    )

    event = response.json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_an_exact_route_wins_over_a_parameterised_one_and_a_plain_dict_is_json_200(gateway: str) -> None:
    special = httpx.get(f"{gateway}/echo/special")
    plain = httpx.get(f"{gateway}/plain")

    assert special.json()["routeKey"] == "GET /echo/special"
    assert (plain.status_code, plain.headers["content-type"], plain.json()) == (
        200,
        "application/json",
        {"hello": "world"},
    )


def test_gateway_errors_look_like_api_gateway_and_never_reach_the_handler(gateway: str) -> None:
    unknown = httpx.get(f"{gateway}/nowhere")
    wrong_method = httpx.delete(f"{gateway}/plain")
    too_big = httpx.post(f"{gateway}/echo/x", content=b"x" * 1025)

    assert (unknown.status_code, unknown.json()) == (404, {"message": "Not Found"})
    assert wrong_method.status_code == 404
    assert (too_big.status_code, too_big.json()) == (413, {"message": "Request Entity Too Large"})
    assert recorder.CALLS == []


def test_a_handler_exception_is_a_500(gateway: str) -> None:
    response = httpx.get(f"{gateway}/boom")

    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})
    assert len(recorder.CALLS) == 1
