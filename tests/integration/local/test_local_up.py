"""`allegro-sync local up` as an operator runs it: a foreground process serving until Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from allegro_sync.local.provision import client

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("allegro-sync"))
ANY_PORTS = ("--port", "0", "--aws-port", "0", "--emulator-port", "0", "--shop-port", "0")


def test_local_up_prints_its_urls_serves_http_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [CLI, "local", "up", *ANY_PORTS, "--time-scale", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        http = next(line.split()[2] for line in lines if line.startswith("HTTP API"))
        aws = next(line.split()[2] for line in lines if line.startswith("AWS"))
        allegro = next(line.split()[1] for line in lines if line.startswith("Allegro"))

        health = httpx.get(f"{http}/health", timeout=10)
        queues = client("sqs", aws).list_queues()["QueueUrls"]

        assert (health.status_code, health.json()["status"]) == (200, "ok")
        assert f"{aws}/123456789012/allegro-sync-shop-events.fifo" in queues
        # The emulator answers like Allegro: an unauthenticated call is refused, not unreachable.
        assert httpx.get(f"{allegro}/sale/offers", timeout=10).status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "stopping" in out


def test_local_up_with_a_busy_port_says_so_in_one_line_and_exits_non_zero() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(  # noqa: S603 - our own CLI
            [CLI, "local", "up", *ANY_PORTS[:-2], "--shop-port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is in use (local shop (--shop-port)): stop what uses it, or pass "
        "another port"
    ]
