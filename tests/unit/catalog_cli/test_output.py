"""What the CLI prints: words, not internal names; JSON for scripts; no log lines between tables; help
text on every command."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from rich.console import Console
from typer.main import get_command
from typer.testing import CliRunner

from allegro_sync.cli import catalog_cmd, output
from allegro_sync.cli.main import app
from tests.unit.catalog.test_publishing import World, upsert

LONG_NAME = "Czajnik bardzo długi ze stali nierdzewnej " + "z filtrem kamienia i podświetleniem " * 5


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> World:
    """A product whose title Allegro's 75 characters cut, published; `products status` reads this world."""
    world = World()
    world.publisher.handle(upsert(name=LONG_NAME))
    world.publisher.handle(upsert(minutes=1, name=LONG_NAME, stock=3))
    wide = Console(width=400, color_system=None)
    monkeypatch.setattr(catalog_cmd, "console", wide)
    monkeypatch.setattr(output, "console", wide)
    deployment = SimpleNamespace(
        catalog=lambda: world.catalog,
        change_log=lambda: world.changes,
        stock_ledger=lambda: world.ledger,  # the shop's stock level is read there
        shop_refusals=lambda: SimpleNamespace(latest=lambda sku: None),  # the shop sent nothing refused
    )
    monkeypatch.setattr(catalog_cmd, "_application", lambda stack: deployment)
    return world


def test_products_status_shows_the_shortening_as_a_warning_and_changes_in_words(published: World) -> None:
    result = CliRunner().invoke(app, ["products", "status", "SONY"])

    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.replace("│", " ").split())
    assert "PUBLISHED" in flat
    assert "warning, shortened: title cut to Allegro's 75 characters" in flat
    assert "name 'Czajnik bardzo długi" in flat  # the create, in words
    for internal in ("None", "LookupError", "{'old'"):
        assert internal not in result.output


def test_products_status_json_is_one_document_for_scripts(published: World) -> None:
    result = CliRunner().invoke(app, ["products", "status", "SONY", "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    [link] = document["accounts"]
    assert (link["account"], link["status"], link["price"]) == ("shop1", "PUBLISHED", "120.00")
    assert link["warnings"][0].startswith("shortened: title cut to Allegro's 75 characters")
    assert document["changes"][-1]["action"] == "create"
    assert Decimal(document["price"]) == Decimal("100.00")


def test_log_lines_stay_off_the_terminal_unless_verbose(
    published: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A use case that logs while a command runs (as the functions' Powertools loggers do)."""
    original = catalog_cmd.output.print_json

    def logging_print(data: Any) -> None:
        Logger(
            service=f"cli-output-{uuid.uuid4().hex}", logger_handler=logging.StreamHandler(sys.stdout)
        ).warning("something the functions log")
        original(data)

    monkeypatch.setattr(catalog_cmd.output, "print_json", logging_print)

    quiet = CliRunner().invoke(app, ["products", "status", "SONY", "--json"])
    verbose = CliRunner().invoke(app, ["--verbose", "products", "status", "SONY", "--json"])

    assert quiet.exit_code == verbose.exit_code == 0
    assert "something the functions log" not in quiet.output
    json.loads(quiet.output)  # nothing but the document
    assert '"message":"something the functions log"' in verbose.output
    assert logging.root.manager.disable == logging.NOTSET  # the command put logging back


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group below `group` (click's, as typer vendors it), with its path."""
    found = []
    for name, command in sorted(group.commands.items()):
        found.append(((*path, name), command))
        if hasattr(command, "commands"):
            found.extend(_commands(command, (*path, name)))
    return found


def test_every_command_has_help_text_and_help_works() -> None:
    commands = _commands(get_command(app))
    assert len(commands) > 30
    for path, command in commands:
        assert (command.help or command.short_help or "").strip(), f"{' '.join(path)} has no help text"
        for param in command.params:
            assert getattr(param, "help", None) or param.name == "help", f"{' '.join(path)}: {param.name}"
        result = CliRunner().invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Traceback" not in result.output
