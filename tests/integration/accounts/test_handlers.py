"""The oauth handler's answers when the deployment is not configured yet, on the sample events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from allegro_sync.bootstrap import Application
from allegro_sync.custody import AccountsSettings
from tests.fixtures.apps import bound_app
from tests.integration.accounts.conftest import custody_environment

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"


class Context:
    function_name = "allegro-sync-oauth"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:allegro-sync-oauth"
    aws_request_id = "req-1"


def invoke(name: str, accept: str = "text/html") -> dict[str, Any]:
    from allegro_sync.handlers.oauth import handler

    event = json.loads((EVENTS / name).read_text())
    event["headers"]["accept"] = accept
    result: dict[str, Any] = handler(event, Context())  # type: ignore[arg-type]
    return result


@pytest.fixture
def oauth_app(settings: AccountsSettings) -> Iterator[Application]:
    """The oauth function's application: custody's table and secrets, no app credentials stored yet."""
    with bound_app(custody_environment(settings)) as app:
        yield app


def test_start_without_app_credentials_says_how_to_configure(oauth_app: Application) -> None:
    answer = invoke("oauth-start.json", accept="application/json")
    assert answer["statusCode"] == 503
    body = json.loads(answer["body"])
    assert body["status"] == "error"
    assert "allegro-sync accounts set-app" in body["message"]


def test_a_link_signed_with_another_key_is_refused_with_an_html_page(oauth_app: Application) -> None:
    oauth_app.custody().app_credentials.write("cid", "csecret")
    answer = invoke("oauth-start.json")
    assert answer["statusCode"] == 400
    assert answer["headers"]["Content-Type"].startswith("text/html")
    assert "signature is not valid" in answer["body"]


def test_a_callback_with_an_unknown_state_is_refused(oauth_app: Application) -> None:
    answer = invoke("oauth-callback.json")
    assert answer["statusCode"] == 400
    assert "unknown, expired or already used state" in answer["body"]
