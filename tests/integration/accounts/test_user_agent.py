"""Every API call, `/me` included, names the application `accounts set-app` stored (#13126); OAuth calls
send none of it (they are exempt, #13321)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allegro_sync.emulator import DEFAULT_USER_AGENT
from allegro_sync.emulator.server import Recorder
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.integration


def test_every_api_call_sends_the_registered_application(stack: Stack, tmp_path: Path) -> None:
    recording = tmp_path / "allegro.jsonl"
    stack.emulator.app.recorder = Recorder(recording)
    stack.connect({"shop1": "seller-one"})  # the device flow, then GET /me for the account's login

    stack.app("catalog_worker").allegro("shop1").list_offers(limit=1)

    exchanges = [json.loads(line) for line in recording.read_text().splitlines()]
    api = [e for e in exchanges if not e["path"].startswith("/auth/oauth/")]
    assert {e["path"] for e in api} == {"/me", "/sale/offers"}
    assert {e["request_headers"].get("user-agent") for e in api} == {DEFAULT_USER_AGENT}
