"""The webhook API's OpenAPI 3.1 document, generated from the very models that validate deliveries.

`python -m allegro_sync.adapters.shop.openapi > functions/allegro_sync/handlers/webhooks_openapi.json`
regenerates the packaged file that `GET /openapi.json` serves; a test fails when the two differ.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from allegro_sync import __version__
from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.generic import MAX_EVENTS, BatchIn, EventIn

REF = "#/components/schemas/{model}"


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)

    field: str = Field(description="The offending field (`events[0].price`), header, or `(body)`.")
    problem: str


class ErrorInfo(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str = Field(
        description="Stable, machine-readable: missing_signature, invalid_signature, stale_timestamp, "
        "future_timestamp, invalid_timestamp, invalid_delivery_id, unsupported_media_type, body_too_large, "
        "malformed_json, schema_violation, unknown_event_type, unknown_topic, missing_delivery_id, "
        "not_configured, temporarily_unavailable."
    )
    message: str
    details: list[ErrorDetail]


class Error(BaseModel):
    """Every refusal. Nothing of a refused delivery is queued or stored."""

    model_config = ConfigDict(defer_build=True)

    error: ErrorInfo


class RefusedItem(BaseModel):
    model_config = ConfigDict(defer_build=True)

    sku: str = Field(description="The SKU (control characters shown as \\xNN escapes).")
    reason: str = Field(description="Why its data was not taken; also shown by `products status SKU`.")


class Accepted(BaseModel):
    """Safely queued (`queued`), queued before (`duplicate`), nothing to sync (`ignored`), signed but
    nothing in it can be taken (`refused`, WooCommerce: resending cannot fix it, and WooCommerce disables
    a webhook after more than 5 failed answers), or not queued because AWS kept failing (`deferred`,
    WooCommerce only: the shop reconciliation applies it; the generic contract answers 503 instead)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["queued", "duplicate", "ignored", "refused", "deferred"]
    delivery: str | None = Field(default=None, description="The de-duplication key of the delivery.")
    events: int | None = Field(default=None, ge=0, description="Shop events the delivery carries.")
    reason: str | None = Field(default=None, description="Why a delivery was not (wholly) queued.")
    refused: list[RefusedItem] | None = Field(
        default=None, description="Products whose data was not taken (price or stock out of bounds...)."
    )
    error: ErrorInfo | None = Field(default=None, description="A `refused` delivery's error.")


class Pong(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: Literal["pong"]


GenericBody = Annotated[
    EventIn | BatchIn, Field(description=f"One event, or up to {MAX_EVENTS} in `events`.")
]


def _schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    body = TypeAdapter(GenericBody).json_schema(ref_template=REF)
    defs = body.pop("$defs", {})
    for model in (Error, Accepted, Pong):  # RefusedItem, ErrorInfo come in as their $defs
        schema = model.model_json_schema(ref_template=REF)
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
    defs["GenericDelivery"] = body
    defs["GatewayError"] = {  # API Gateway's own answer, before our handler runs
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string"}},
        "title": "GatewayError",
    }
    return {"$ref": REF.format(model="GenericDelivery")}, defs


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }


def build_openapi() -> dict[str, Any]:
    body_ref, schemas = _schemas()
    signed_headers = [
        {
            "name": signing.DELIVERY_HEADER,
            "in": "header",
            "required": True,
            "description": "Unique per delivery, the same on a retry. De-duplicated for 14 days.",
            "schema": {"type": "string", "pattern": signing.DELIVERY_ID.pattern},
        },
        {
            "name": signing.TIMESTAMP_HEADER,
            "in": "header",
            "required": True,
            "description": "Unix time (seconds) of signing; refused outside ±300 s (configurable).",
            "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
        },
        {
            "name": signing.SIGNATURE_HEADER,
            "in": "header",
            "required": True,
            "description": "`v1=` + hex(HMAC-SHA256(secret, `<timestamp>.<delivery id>.` + raw body)); "
            "several comma-separated values are accepted during a secret rotation.",
            "schema": {"type": "string"},
        },
    ]
    common_errors = {
        "400": _error("Malformed JSON, or an unknown event type / topic."),
        "401": _error("Missing or wrong signature, or a timestamp outside the replay window."),
        "413": {
            "description": "The body is over the limit: 256 KiB generic, 1 MiB WooCommerce (an `Error`); a "
            "body over what API Gateway passes to Lambda is refused by API Gateway itself (`GatewayError`).",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": REF.format(model="Error")},
                            {"$ref": REF.format(model="GatewayError")},
                        ]
                    }
                }
            },
        },
        "415": _error("The body is not application/json."),
        "422": _error("The body violates the contract; `details` lists every field and why."),
        "503": _error("Not configured yet, or the queue was unreachable: nothing was queued, send it again."),
    }
    accepted = {
        "description": "Queued (or already queued earlier: a duplicate, or nothing to sync).",
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Accepted")}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "allegro-sync shop webhooks",
            "version": __version__,
            "description": "How a shop tells allegro-sync about its products. See docs/webhooks.md for the "
            "signing scheme with Python and PHP examples.",
        },
        "paths": {
            "/webhooks/shop": {
                "post": {
                    "operationId": "postShopWebhook",
                    "summary": "Generic signed delivery: product.upsert/delete, stock.set, price.set",
                    "parameters": signed_headers,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": body_ref}}},
                    "responses": {"202": accepted, **common_errors},
                }
            },
            "/webhooks/woocommerce": {
                "post": {
                    "operationId": "postWooCommerceWebhook",
                    "summary": "WooCommerce's native product webhooks (created/updated/deleted/restored)",
                    "description": "Body: WooCommerce's REST product JSON, signed in "
                    "`X-WC-Webhook-Signature` (base64 HMAC-SHA256 of the raw body). The unsigned ping "
                    "(`webhook_id=N`) sent when a webhook is saved is answered 200.",
                    "parameters": [
                        {
                            "name": "X-WC-Webhook-Topic",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "X-WC-Webhook-Signature",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "X-WC-Webhook-Delivery-ID",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The ping WooCommerce sends when a webhook is saved.",
                            "content": {"application/json": {"schema": {"$ref": REF.format(model="Pong")}}},
                        },
                        "202": accepted,
                        **common_errors,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
                }
            },
        },
        "components": {"schemas": schemas},
    }


def render() -> str:
    return json.dumps(build_openapi(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
