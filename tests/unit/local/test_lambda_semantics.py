"""Pure pieces of the local runtime: Lambda's reading of batch responses, API Gateway's mapping."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from allegro_sync.local import LocalRuntime
from allegro_sync.local.events import HttpRequest, http_api_v2_event, http_api_v2_response, sqs_record
from allegro_sync.local.gateway import compile_path
from allegro_sync.local.poller import failed_item_ids, fifo_violations
from allegro_sync.topology import TOPOLOGY

IDS = ["a", "b", "c"]


@pytest.mark.parametrize(
    ("result", "failed", "whole"),
    [
        (None, set(), False),
        ({}, set(), False),
        ({"batchItemFailures": []}, set(), False),
        ({"batchItemFailures": None}, set(), False),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}, False),
        ({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}]}, {"a", "c"}, False),
        # Lambda treats a malformed answer as a failure of the whole batch.
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, set(IDS), True),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, set(IDS), True),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, set(IDS), True),
        ({"batchItemFailures": [{"id": "a"}]}, set(IDS), True),
        ({"batchItemFailures": "a"}, set(IDS), True),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(
    result: Any, failed: set[str], whole: bool
) -> None:
    assert failed_item_ids(result, IDS) == (failed, whole)


def _record(message_id: str, group: str) -> dict[str, Any]:
    return {"messageId": message_id, "attributes": {"MessageGroupId": group}}


def test_a_success_after_a_failure_in_the_same_group_is_an_order_violation() -> None:
    records = [_record("1", "A"), _record("2", "B"), _record("3", "A"), _record("4", "B")]

    violations = fifo_violations("q", records, failed={"1"})

    assert [(v.group, v.failed_message_id, v.processed_after) for v in violations] == [("A", "1", "3")]
    assert fifo_violations("q", records, failed={"1", "3"}) == []


def test_sqs_record_converts_the_receive_message_shape_to_the_lambda_shape() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh",
        "Body": "hello",
        "MD5OfBody": "5d41402abc4b2a76b9719d911017c592",
        "Attributes": {"ApproximateReceiveCount": "2", "MessageGroupId": "SKU-1"},
        "MessageAttributes": {
            "kind": {"DataType": "String", "StringValue": "stock"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    }

    record = sqs_record(
        message, queue_arn="arn:aws:sqs:eu-central-1:123456789012:q.fifo", region="eu-central-1"
    )

    assert record["messageId"] == "m-1"
    assert record["receiptHandle"] == "rh"
    assert record["attributes"] == {"ApproximateReceiveCount": "2", "MessageGroupId": "SKU-1"}
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "stock",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["raw"]["binaryValue"] == base64.b64encode(b"\x00\x01").decode()
    assert (record["eventSource"], record["eventSourceARN"]) == (
        "aws:sqs",
        "arn:aws:sqs:eu-central-1:123456789012:q.fifo",
    )


def test_path_templates_match_single_segments_and_greedy_proxies() -> None:
    one = compile_path("/oauth/{step}")
    greedy = compile_path("/files/{proxy+}")

    assert (m := one.match("/oauth/callback")) is not None
    assert m.groupdict() == {"step": "callback"}
    assert one.match("/oauth/a/b") is None
    assert (g := greedy.match("/files/a/b.txt")) is not None
    assert g.groupdict() == {"proxy": "a/b.txt"}


def test_an_event_without_query_body_or_cookies_omits_those_keys() -> None:
    event = http_api_v2_event(HttpRequest("GET", "/health", headers=[("Host", "x")]), route_key="GET /health")

    assert "queryStringParameters" not in event
    assert "body" not in event
    assert "cookies" not in event
    assert event["headers"] == {"host": "x"}


def test_a_text_body_that_is_not_utf8_is_sent_base64() -> None:
    request = HttpRequest("POST", "/x", headers=[("content-type", "text/plain")], body=b"\xff\xfe")

    event = http_api_v2_event(request, route_key="POST /x")

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"


def test_structured_responses_keep_status_headers_cookies_and_binary_bodies() -> None:
    response = http_api_v2_response(
        {
            "statusCode": 302,
            "headers": {"location": "/next"},
            "cookies": ["a=1"],
            "body": base64.b64encode(b"\x00").decode(),
            "isBase64Encoded": True,
        }
    )

    assert response.status == 302
    assert ("location", "/next") in response.headers
    assert ("set-cookie", "a=1") in response.headers
    assert response.body == b"\x00"


def test_anything_else_is_json_200_and_a_bad_status_code_is_502() -> None:
    shortcut = http_api_v2_response(["a", 1])
    broken = http_api_v2_response({"statusCode": "abc"})

    assert (shortcut.status, json.loads(shortcut.body)) == (200, ["a", 1])
    assert ("content-type", "application/json") in shortcut.headers
    assert broken.status == 502


def test_the_runtime_refuses_bad_settings_before_starting_anything() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        LocalRuntime(TOPOLOGY, time_scale=0)
    with pytest.raises(ValueError, match="not in the topology: \\['ghost'\\]"):
        LocalRuntime(TOPOLOGY, handler_modules={"ghost": "tests.nothing"})
