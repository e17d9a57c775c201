"""Errors an operator meets before anything works: one line on stderr, exit code 1, never a traceback.

All through the real CLI; "the local stack is down" is a closed port on 127.0.0.1.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from allegro_sync.cli.main import app
from allegro_sync.topology import secret_env, table_env

CATALOG = "sku,name,price,category_path\nOK-1,Czajnik elektryczny stalowy,129.99,Dom > Czajniki\n"


@pytest.fixture
def closed_port() -> str:
    """An endpoint where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run(env: dict[str, str | None], *args: str) -> Result:
    # One attempt per call: botocore would otherwise retry a refused connection for seconds.
    return CliRunner().invoke(app, list(args), env={"AWS_MAX_ATTEMPTS": "1", **env})


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_an_endpoint_without_a_region_says_to_set_one(closed_port: str) -> None:
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": closed_port,
        "AWS_REGION": None,
        "AWS_DEFAULT_REGION": None,
    }
    assert one_error_line(run(env, "accounts", "list")) == (
        "error: no AWS region: set AWS_REGION (e.g. eu-central-1); the local runtime needs one too"
    )


@pytest.mark.parametrize(
    "command", [("status",), ("accounts", "list"), ("dlq", "list"), ("mappings", "list")]
)
def test_with_the_local_stack_down_no_deployment_is_found_and_status_exits_1(
    closed_port: str, command: tuple[str, ...]
) -> None:
    assert one_error_line(run({"AWS_ENDPOINT_URL": closed_port}, *command)) == (
        f"error: cannot find the deployment: nothing answers at {closed_port} (AWS_ENDPOINT_URL): "
        "is `allegro-sync local up` running?"
    )


def test_the_stack_going_down_under_a_command_is_one_line(closed_port: str) -> None:
    """The deployment is named explicitly (no stack read), so the command itself meets the dead endpoint."""
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": closed_port,
        table_env("control"): "allegro-sync-control",
        secret_env("accounts"): "allegro-sync/accounts/",
        secret_env("app-credentials"): "allegro-sync/app-credentials",
    }
    assert one_error_line(run(env, "accounts", "list")) == (
        f"error: nothing answers at {closed_port}/: is `allegro-sync local up` running? "
        "(AWS_ENDPOINT_URL points at it)"
    )


def test_a_catalog_import_with_the_stack_down_is_one_line(closed_port: str, tmp_path: Path) -> None:
    file = tmp_path / "katalog.csv"
    file.write_text(CATALOG, encoding="utf-8")
    line = one_error_line(run({"AWS_ENDPOINT_URL": closed_port}, "catalog", "import", str(file)))
    assert line.startswith("error: cannot find the deployment: nothing answers at")


def test_no_credentials_is_one_line(closed_port: str) -> None:
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": closed_port,
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SECURITY_TOKEN": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    assert one_error_line(run(env, "accounts", "list")).startswith("error: no AWS credentials: ")
