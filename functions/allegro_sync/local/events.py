"""Pure builders for the events AWS hands a Lambda function, and for turning HTTP answers back into HTTP.

Kept free of I/O so the shapes can be unit-tested against the documented formats: a handler that works
on these events locally must receive byte-for-byte the same structure from SQS, EventBridge and an
HTTP API (payload format 2.0) in AWS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

ACCOUNT_ID = "123456789012"  # moto's default account: ARNs must match what moto reports.
API_ID = "local"

# Content types an HTTP API (payload format 2.0) passes to Lambda as a UTF-8 string; every other body,
# a missing Content-Type and `application/x-www-form-urlencoded` included, arrives base64-encoded with
# `isBase64Encoded: true`. AWS documents only the mechanism ("If the content type of the request is binary,
# the body is base64-encoded": "Create AWS Lambda proxy integrations for HTTP APIs", payload format
# structure); the list itself was measured against real AWS in ministackorg/ministack PR #766 (and
# denoland/deno_registry2#33 saw form posts arrive base64). HTTP APIs have no `binaryMediaTypes`.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def sqs_record(message: Mapping[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS ReceiveMessage result as Lambda's event source mapping presents it (camelCase keys)."""
    attributes = {key: str(value) for key, value in message.get("Attributes", {}).items()}
    message_attributes = {
        name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
    }
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody")
        or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        **(
            {"md5OfMessageAttributes": message["MD5OfMessageAttributes"]}
            if "MD5OfMessageAttributes" in message
            else {}
        ),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        raw = value["BinaryValue"]
        converted["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
    return converted


def sqs_event(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Records": list(records)}


def scheduled_event(*, rule_name: str, region: str, when: datetime | None = None) -> dict[str, Any]:
    """An EventBridge "Scheduled Event", as a `rate(N minutes)` rule delivers it."""
    fired_at = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": fired_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


@dataclass(frozen=True)
class HttpRequest:
    """A parsed incoming HTTP request, independent of the server library that received it."""

    method: str
    path: str
    raw_query: str = ""
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    host: str = "localhost"


def is_text(content_type: str | None) -> bool:
    """Whether an HTTP API hands this body to Lambda as text (see `_TEXT_TYPES`); False means base64."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return media_type.startswith(_TEXT_TYPES) if media_type else False


def http_api_v2_event(
    request: HttpRequest,
    *,
    route_key: str,
    path_parameters: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload-format-2.0 event.

    Like API Gateway: header names lower-cased and repeated headers joined with commas, cookies moved
    out of the headers into `cookies`, repeated query keys joined with commas, binary bodies base64.
    """
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for pair in request.raw_query.split("&") if request.raw_query else ():
        key, _, value = pair.partition("=")
        key, value = _unquote(key), _unquote(value)
        query[key] = f"{query[key]},{value}" if key in query else value
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0],
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(moment.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if request.body:
        if is_text(headers.get("content-type")):
            try:
                event["body"] = request.body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(request.body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    return event


def _unquote(text: str) -> str:
    return unquote_plus(text)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def json_error(status: int, message: str) -> HttpResponse:
    """API Gateway's own error shape: `{"message": "..."}`."""
    return HttpResponse(
        status, [("content-type", "application/json")], json.dumps({"message": message}).encode()
    )


def http_api_v2_response(result: Any) -> HttpResponse:
    """Turn a handler's return value into HTTP as an HTTP API (format 2.0) does.

    A dict with `statusCode` is a structured response; anything else that serialises to JSON is
    the shortcut "200, application/json, body = the value". A malformed structured response is a
    502, which is what API Gateway answers when the integration response cannot be mapped.
    """
    if isinstance(result, dict) and "statusCode" in result:
        return _structured(result)
    if result is None:
        return HttpResponse(200, [("content-type", "application/json")], b"")
    body = result if isinstance(result, str) else json.dumps(result)
    return HttpResponse(200, [("content-type", "application/json")], body.encode())


def _structured(result: Mapping[str, Any]) -> HttpResponse:
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return json_error(502, "Internal Server Error")
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in _as_list(result.get("cookies")))
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(str(raw))
    else:
        body = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
    return HttpResponse(status, headers, body)


def _as_list(value: Any) -> Iterable[Any]:
    if value is None:
        return ()
    return value if isinstance(value, list | tuple) else (value,)
