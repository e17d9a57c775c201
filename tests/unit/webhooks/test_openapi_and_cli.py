"""The served OpenAPI file is the generated one, and the CLI signs what the handler accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
from openapi_spec_validator import validate
from typer.testing import CliRunner

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.http_request import openapi_document
from allegro_sync.adapters.shop.openapi import build_openapi, render
from allegro_sync.cli.main import app

ROOT = Path(__file__).resolve().parents[3]


def test_the_packaged_document_is_what_the_models_generate() -> None:
    assert openapi_document() == render(), (
        "regenerate: python -m allegro_sync.adapters.shop.openapi > "
        "functions/allegro_sync/handlers/webhooks_openapi.json"
    )


def test_it_is_valid_openapi_3_1() -> None:
    document = build_openapi()

    validate(document)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/webhooks/shop", "/webhooks/woocommerce", "/openapi.json"}


def _validator(name: str) -> jsonschema.Draft202012Validator:
    document = build_openapi()
    schemas = document["components"]["schemas"]
    root = {"$defs": schemas, **schemas[name]}
    text = json.dumps(root).replace("#/components/schemas/", "#/$defs/")
    return jsonschema.Draft202012Validator(json.loads(text))


def test_the_documented_body_schema_accepts_the_examples_and_rejects_bad_ones() -> None:
    delivery = _validator("GenericDelivery")
    for example in ("generic-upsert.json", "generic-batch.json"):
        assert (
            list(delivery.iter_errors(json.loads((ROOT / "docs/webhook-examples" / example).read_text())))
            == []
        )

    assert list(delivery.iter_errors({"type": "stock.set", "sku": "A", "stock": -1}))
    assert list(delivery.iter_errors({"type": "stock.set", "stock": 1}))


def test_the_error_shape_is_documented() -> None:
    error = _validator("Error")

    assert error.is_valid(
        {"error": {"code": "x", "message": "y", "details": [{"field": "f", "problem": "p"}]}}
    )
    assert not error.is_valid({"message": "Not found"})


def test_sign_prints_curl_headers_that_verify_and_never_the_secret(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"type": "stock.set", "sku": "A-1", "stock": 2}\n')

    done = CliRunner().invoke(
        app,
        ["webhooks", "sign", str(body), "--delivery-id", "cli-1", "--timestamp", "1800000000"],
        env={"ALLEGRO_SYNC_WEBHOOK_SECRET": "very-secret-value", "COLUMNS": "300"},
    )

    assert done.exit_code == 0, done.output
    assert "very-secret-value" not in done.output
    found = dict(re.findall(r"-H '([^:]+): ([^']*)'", done.output))
    assert found[signing.DELIVERY_HEADER] == "cli-1"
    assert signing.matches(
        ["very-secret-value"], found[signing.SIGNATURE_HEADER], 1800000000, "cli-1", body.read_bytes()
    )
    assert f"--data-binary @{body}" in done.output


def test_sign_without_a_secret_says_how_to_give_one(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text("{}")

    done = CliRunner().invoke(app, ["webhooks", "sign", str(body)], env={"COLUMNS": "300"})

    assert done.exit_code == 2
    assert "ALLEGRO_SYNC_WEBHOOK_SECRET" in done.output
