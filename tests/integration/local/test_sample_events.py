"""Every function in the topology has a sample event, and `allegro-sync invoke` runs each one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allegro_sync.cli.main import app
from allegro_sync.topology import TOPOLOGY

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"
CLI = str(Path(sys.executable).with_name("allegro-sync"))

pytestmark = pytest.mark.integration


def sample_events() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for function in TOPOLOGY.functions:
        matches = sorted(EVENTS.glob(f"{function.name}.json")) + sorted(
            EVENTS.glob(f"{function.name}-*.json")
        )
        found.extend((function.name, path) for path in matches)
    return found


def test_every_topology_function_has_a_sample_event() -> None:
    covered = {name for name, _ in sample_events()}
    missing = [f.name for f in TOPOLOGY.functions if f.name not in covered]
    assert missing == [], f"add events/<function>.json for: {missing}"


def test_the_generic_shapes_are_valid_json() -> None:
    sqs = json.loads((EVENTS / "_shapes" / "sqs_fifo_batch.json").read_text())
    scheduled = json.loads((EVENTS / "_shapes" / "eventbridge_scheduled.json").read_text())

    assert all(r["attributes"]["MessageGroupId"] for r in sqs["Records"])
    assert scheduled["detail-type"] == "Scheduled Event"


@pytest.mark.parametrize(("function", "path"), sample_events(), ids=lambda v: getattr(v, "name", v))
def test_allegro_sync_invoke_runs_every_sample_event(function: str, path: Path) -> None:
    done = CliRunner().invoke(app, ["invoke", function, str(path)])

    assert done.exit_code == 0, f"{done.output}\n{done.exception!r}"
    assert json.loads(done.stdout) is not None  # stdout is only the result; handler logs go to stderr


def test_the_installed_command_runs_an_event_in_a_process_of_its_own() -> None:
    done = subprocess.run(  # noqa: S603 - our own CLI with our own file
        [CLI, "invoke", "health", str(EVENTS / "health.json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["statusCode"], json.loads(result["body"])["status"]) == (200, "ok")


def test_invoke_answers_a_clear_error_for_an_unknown_function(tmp_path: Path) -> None:
    event = tmp_path / "e.json"
    event.write_text("{}")

    done = CliRunner().invoke(app, ["invoke", "no_such_function", str(event)], env={"COLUMNS": "500"})

    assert done.exit_code == 2
    assert "unknown function 'no_such_function'" in done.output


@pytest.mark.parametrize("content", ["{not json", ""])
def test_invoke_rejects_an_event_file_that_is_not_json(tmp_path: Path, content: str) -> None:
    event = tmp_path / "bad.json"
    event.write_text(content)

    done = CliRunner().invoke(app, ["invoke", "health", str(event)], env={"COLUMNS": "500"})

    assert done.exit_code == 2
    assert "is not valid JSON" in done.output


@pytest.mark.parametrize("command", [["local", "--help"], ["local", "up", "--help"], ["invoke", "--help"]])
def test_every_command_has_help(command: list[str]) -> None:
    done = CliRunner().invoke(app, command)

    assert done.exit_code == 0
    assert "Usage" in done.output
