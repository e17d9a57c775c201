"""`--record FILE`: one JSON line per exchange, secrets masked, and checkable against the full spec."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from allegro_sync.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_USER_AGENT,
    Emulator,
    audit,
)
from allegro_sync.emulator.admin import EmulatorAdmin
from allegro_sync.emulator.validation import validator_for
from tests.integration.emulator.conftest import AUTH, MEDIA, device_login

UA = {"User-Agent": DEFAULT_USER_AGENT}  # Allegro refuses API calls without one (#13126)

pytestmark = pytest.mark.integration

KEYS = set(audit.KEYS)  # every recorded exchange has exactly the audit's fields
REPO = Path(__file__).resolve().parents[3]
FULL_SPEC = REPO.parent / "shared" / "allegro-api" / "openapi.yaml"


def record_session(path: Path) -> list[str]:
    """A device-flow login, a refresh, API calls and an admin call; returns the secrets that were used."""
    with Emulator(record=path) as emulator, httpx.Client(base_url=emulator.base_url, headers=UA) as http:
        admin = EmulatorAdmin(emulator.base_url)
        admin.create_seller("sklep-abc")
        device, tokens = device_login(http, admin, "sklep-abc")
        refreshed = http.post(
            "/auth/oauth/token",
            params={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=AUTH,
        ).json()
        headers = {"Authorization": f"Bearer {refreshed['access_token']}", "Accept": MEDIA}
        http.get("/order/events", params={"limit": "10"}, headers=headers)
        http.get("/me", headers=headers)
        admin.close()
        assert emulator.violations == []
    return [
        DEFAULT_CLIENT_SECRET,
        device["device_code"],
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
    ]


def test_recording_has_one_line_per_exchange_with_exact_keys_and_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    secrets = record_session(path)
    text = path.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]

    assert [(x["method"], x["path"]) for x in lines] == [
        ("POST", "/auth/oauth/device"),
        ("POST", "/auth/oauth/token"),
        ("POST", "/auth/oauth/token"),
        ("GET", "/order/events"),
        ("GET", "/me"),
    ]  # admin calls are never recorded
    assert all(set(line) == KEYS for line in lines)
    assert lines[3]["query"] == {"limit": ["10"]}
    assert lines[1]["request_body"]["device_code"] == "***"
    assert lines[1]["response_body"]["access_token"] == "***"
    assert lines[2]["query"]["refresh_token"] == ["***"]
    assert lines[3]["request_headers"]["authorization"] == "***"
    assert lines[0]["request_headers"]["authorization"] == "***"  # Basic client credentials
    assert "trace-id" in lines[3]["response_headers"]
    for secret in secrets:
        assert secret not in text


def test_authorization_code_in_the_redirect_is_masked(tmp_path: Path) -> None:
    path = tmp_path / "code.jsonl"
    with (
        Emulator(record=path, auto_approve=True) as emulator,
        httpx.Client(base_url=emulator.base_url, headers=UA) as http,
    ):
        emulator.create_seller("sklep-abc")
        answer = http.get(
            "/auth/oauth/authorize",
            params={"response_type": "code", "client_id": DEFAULT_CLIENT_ID, "state": "s"},
        )
        code = answer.headers["location"].split("code=")[1].split("&")[0]
    line = json.loads(path.read_text(encoding="utf-8"))
    assert code not in json.dumps(line)
    assert "code=***" in line["response_headers"]["Location"]
    assert "state=s" in line["response_headers"]["Location"]


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not FULL_SPEC.is_file(), reason="the official spec is not checked out beside the repo")
def test_validate_recording_passes_a_clean_recording_and_catches_a_wrong_response(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "session.jsonl"
    record_session(path)
    script = load_script("validate_recording")

    assert script.main([str(path)]) == 0
    clean = capsys.readouterr().out
    assert "3 OAuth skipped" in clean
    assert "0 violations" in clean

    broken = json.loads(path.read_text(encoding="utf-8").splitlines()[3])
    broken["status"] = 200
    broken["response_body"] = {"events": [{"id": 1}]}
    bad_path = tmp_path / "bad.jsonl"
    bad_path.write_text(json.dumps(broken) + "\n", encoding="utf-8")
    assert script.main([str(bad_path)]) == 1
    caught = capsys.readouterr().out
    assert "events/0/id" in caught
    assert "1 violations" in caught


def test_validate_recording_flags_a_line_without_the_agreed_keys() -> None:
    script = load_script("validate_recording")
    line = json.dumps({"method": "GET", "path": "/me", "status": 200})
    report = script.check([line], validator_for())
    assert [v.kind for v in report.violations] == ["format"]
