"""`allegro-sync local seller add|confirm|buy|shop` without a running `local up`: one clear line, exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from allegro_sync.cli.main import app


@pytest.mark.parametrize(
    "args",
    [
        ("local", "seller", "add", "sklep1"),
        ("local", "confirm", "ABC123", "--login", "sklep1"),
        ("local", "buy", "7700000001"),
        ("local", "shop"),
    ],
)
def test_local_commands_without_a_session_say_how_to_start_one(args: tuple[str, ...], tmp_path: Path) -> None:
    env = {"ALLEGRO_SYNC_LOCAL_SESSION": str(tmp_path / "none.json")}
    result = CliRunner().invoke(app, list(args), env=env)

    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: no local session: start one with `allegro-sync local up` (in another terminal)"
    )


def test_a_session_file_whose_local_up_is_gone_is_ignored(tmp_path: Path) -> None:
    stale = tmp_path / "stale.json"
    stale.write_text(
        '{"pid": 999999999, "aws_endpoint_url": "http://127.0.0.1:1", "region": "eu-central-1", '
        '"api_url": "http://127.0.0.1:2", "allegro_url": "http://127.0.0.1:3", '
        '"shop_url": "http://127.0.0.1:4", '
        '"shop_signing_secret": "x", "client_id": "c", "client_secret": "s"}',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["local", "shop"], env={"ALLEGRO_SYNC_LOCAL_SESSION": str(stale)})

    assert result.exit_code == 1
    assert "no local session" in result.output
