"""The admin API and its client drive an emulator in another thread or process; the CLI runs one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from allegro_sync.cli.emulator_cmd import parse_faults, serve
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_USER_AGENT, Emulator
from allegro_sync.emulator.admin import EmulatorAdmin, EmulatorAdminError
from tests.integration.emulator.conftest import AUTH, MEDIA, device_login

UA = {"User-Agent": DEFAULT_USER_AGENT}  # Allegro refuses API calls without one (#13126)

pytestmark = pytest.mark.integration


@pytest.fixture
def admin(emulator: Emulator) -> Iterator[EmulatorAdmin]:
    client = EmulatorAdmin(emulator.base_url)
    yield client
    client.close()


def test_admin_creates_sellers_and_tokens_that_the_api_accepts(
    emulator: Emulator, admin: EmulatorAdmin
) -> None:
    assert admin.health()
    seller_id = admin.create_seller("sklep-abc")
    tokens = admin.issue_tokens("sklep-abc")
    assert emulator.oauth.authenticate(tokens["access_token"]).seller_id == seller_id
    with pytest.raises(EmulatorAdminError, match="already exists"):
        admin.create_seller("sklep-abc")


def test_admin_advances_the_clock(emulator: Emulator, admin: EmulatorAdmin) -> None:
    before = emulator.clock.now()
    now = admin.advance(3600)
    assert (now - before).total_seconds() >= 3600
    assert datetime.fromisoformat(admin.state()["now"]) >= now
    with pytest.raises(EmulatorAdminError, match="seconds"):
        admin.advance(-5)


def test_admin_faults_change_at_run_time_and_bad_ones_change_nothing(
    emulator: Emulator, admin: EmulatorAdmin
) -> None:
    assert admin.set_faults(requests_per_minute=20, error_rate=0.25)["requests_per_minute"] == 20
    assert emulator.limits.error_rate == 0.25
    with pytest.raises(EmulatorAdminError, match="unknown"):
        admin.set_faults(requests_per_minute=5, bogus=1)
    assert admin.faults()["requests_per_minute"] == 20


def test_admin_approves_a_device_code_and_counts_refreshes(emulator: Emulator, admin: EmulatorAdmin) -> None:
    admin.create_seller("sklep-abc")
    with httpx.Client(base_url=emulator.base_url, headers=UA) as http:
        _, pair = device_login(http, admin, "sklep-abc")
        http.post(
            "/auth/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
            auth=AUTH,
        )
        assert admin.refreshes("sklep-abc") == {"attempts": 1, "successes": 1}
        admin.disconnect("sklep-abc")
        answer = http.get("/me", headers={"Authorization": f"Bearer {pair['access_token']}", "Accept": MEDIA})
        assert answer.status_code == 401
    with pytest.raises(EmulatorAdminError, match="unknown user code"):
        admin.deny_device("no-such-code")


def test_unknown_admin_route_is_404(admin: EmulatorAdmin) -> None:
    with pytest.raises(EmulatorAdminError, match="404"):
        admin._call("GET", "/nothing")


def test_serve_announces_the_url_and_stops_on_request() -> None:
    lines: list[str] = []
    stop = threading.Event()
    instance = Emulator(0)
    worker = threading.Thread(
        target=serve, args=(instance,), kwargs={"sellers": ["sklep-abc"], "stop": stop, "echo": lines.append}
    )
    worker.start()
    try:
        for _ in range(200):
            if any("Allegro emulator on" in line for line in lines):
                break
            threading.Event().wait(0.01)
        admin = EmulatorAdmin(instance.base_url)
        assert admin.health()
        assert admin.issue_tokens("sklep-abc")["access_token"]
        admin.close()
    finally:
        stop.set()
        worker.join(timeout=5)
    assert any(line.startswith("seller sklep-abc: id ") for line in lines)
    assert any(DEFAULT_CLIENT_ID in line for line in lines)


def test_cli_runs_the_emulator_until_interrupted() -> None:
    command = [
        str(Path(sys.executable).parent / "allegro-sync"),
        "emulator",
        "--port",
        "0",
        "--seller",
        "sklep-abc",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(  # noqa: S603 - our own console script
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            assert process.stdout is not None
            url = ""
            for _ in range(10):
                line = process.stdout.readline()
                if "Allegro emulator on" in line:
                    url = line.split(" on ")[1].split()[0]
                    break
            assert url.startswith("http://127.0.0.1:")
            assert httpx.get(f"{url}/__emulator/health", timeout=5).json() == {"ok": True}
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
    assert process.returncode == 0


def test_admin_state_shows_marketplace_counts_and_buying_an_unknown_offer_is_refused(
    emulator: Emulator, admin: EmulatorAdmin
) -> None:
    admin.create_seller("sklep-abc")
    state = admin.state()
    assert state["marketplace"]["sellers"] == 1
    assert state["default_client_id"] == DEFAULT_CLIENT_ID
    with pytest.raises(EmulatorAdminError, match="400"):
        admin.buy("no-such-offer")
    with pytest.raises(EmulatorAdminError, match="quantity"):
        admin.buy("no-such-offer", 0)
    assert admin.state()["marketplace"]["checkout_forms"] == 0


def test_cli_fault_pairs_are_parsed_and_malformed_ones_refused() -> None:
    assert parse_faults(["patch_conflict_rate=0.2", " latency_ms = 5 "]) == {
        "patch_conflict_rate": "0.2",
        "latency_ms": "5",
    }
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_faults(["error_rate"])


def test_the_admin_root_lists_every_route_a_developer_can_call(emulator: Emulator) -> None:
    answer = httpx.get(emulator.base_url + "/__emulator/", timeout=10)
    assert answer.status_code == 200
    routes = answer.json()["routes"]
    assert "POST /__emulator/sellers" in routes
    assert "POST /__emulator/device/approve" in routes
    assert "POST /__emulator/buy" in routes
    assert "GET /__emulator/offers/{id}" in routes
    assert answer.json()["default_client_id"] == DEFAULT_CLIENT_ID
