"""`Settings.from_environ`: what a function is configured with, read once, and the only reader of the
environment in the package; the rate guard the composition root builds from it."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import boto3
import pytest

from allegro_sync.adapters.dynamodb.rate_limit import FALLBACK_RPM_BUDGET, DynamoBlockedUntilStore
from allegro_sync.bootstrap import Application
from allegro_sync.contracts.allegro_errors import AllegroRateLimited
from allegro_sync.local.provision import create_table
from allegro_sync.settings import NotWired, Settings, exported
from allegro_sync.topology import queue_env, secret_env, table_env

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "allegro_sync"
QUEUE_URL = "http://127.0.0.1:5000/123456789012/orders.fifo"


def test_resources_are_found_by_their_logical_names() -> None:
    settings = Settings.from_environ(
        {
            table_env("ledger"): "stack-ledger-1",
            table_env("control"): "stack-control-1",
            queue_env("orders"): QUEUE_URL,
            secret_env("accounts"): "stack/accounts/",
            secret_env("app-credentials"): "stack/app",
            "SOMETHING_ELSE": "ignored",
        }
    )
    assert settings.table("ledger") == "stack-ledger-1"
    assert settings.table("control") == "stack-control-1"
    assert settings.queue("orders") == QUEUE_URL
    assert settings.secret("accounts") == "stack/accounts/"
    assert settings.secret("app-credentials") == "stack/app"


def test_a_resource_the_function_was_not_given_names_the_variable_and_the_function() -> None:
    settings = Settings.from_environ({"AWS_LAMBDA_FUNCTION_NAME": "order-worker", table_env("orders"): "o"})
    with pytest.raises(NotWired, match="order-worker has no table 'ledger' \\(TABLE_LEDGER is not set\\)"):
        settings.table("ledger")
    with pytest.raises(NotWired, match="QUEUE_SHOP_OUTBOX_URL"):
        settings.queue("shop-outbox")
    with pytest.raises(NotWired, match="SECRET_WEBHOOK_SIGNING"):
        settings.secret("webhook-signing")


def test_blank_variables_count_as_unset_and_defaults_apply() -> None:
    settings = Settings.from_environ(
        {table_env("ledger"): "", "ALLEGRO_RPM_BUDGET": " ", "OFFER_SETTINGS": ""}
    )
    with pytest.raises(NotWired):
        settings.table("ledger")
    assert settings.allegro_rpm_budget is None
    assert settings.order_poll_run_seconds == 0.0  # one poll per invocation: the tick chain brings the next
    assert settings.order_poll_interval_seconds == 5.0
    assert settings.webhook_replay_window_seconds == 300
    assert settings.metrics_namespace == "AllegroSync"


def test_numbers_and_seller_settings_are_typed() -> None:
    settings = Settings.from_environ(
        {
            "ALLEGRO_RPM_BUDGET": "300",
            "ORDER_POLL_RUN_SECONDS": "12.5",
            "WEBHOOK_REPLAY_WINDOW_SECONDS": "60",
            "ALLEGRO_ENVIRONMENT": "Sandbox",
            "ORDER_STOCK_COUNT_AT": "READY_FOR_PROCESSING",
            "ORDER_BUYER_DATA_DAYS": "45",
        }
    )
    assert settings.allegro_rpm_budget == 300
    assert settings.order_poll_run_seconds == 12.5
    assert settings.webhook_replay_window_seconds == 60
    assert settings.allegro_environment == "sandbox"
    assert settings.order_stock_count_at == "READY_FOR_PROCESSING"
    assert settings.order_buyer_data_days == 45
    assert Settings.from_environ({}).order_buyer_data_days == 30


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ALLEGRO_RPM_BUDGET", "lots", "ALLEGRO_RPM_BUDGET must be an integer.*'lots'"),
        ("ALLEGRO_RPM_BUDGET", "0", "ALLEGRO_RPM_BUDGET must be an integer of at least 1.*'0'"),
        ("ALLEGRO_RPM_BUDGET", "-5", "ALLEGRO_RPM_BUDGET must be an integer"),
        ("ORDER_POLL_RUN_SECONDS", "soon", "ORDER_POLL_RUN_SECONDS must be a number.*'soon'"),
        ("ORDER_POLL_INTERVAL_SECONDS", "nan", "ORDER_POLL_INTERVAL_SECONDS must be a number.*'nan'"),
        ("WEBHOOK_REPLAY_WINDOW_SECONDS", "5m", "WEBHOOK_REPLAY_WINDOW_SECONDS must be a number"),
        ("WEBHOOK_SECRET_MAX_AGE_SECONDS", "-1", "WEBHOOK_SECRET_MAX_AGE_SECONDS must be a number"),
        ("ORDER_BUYER_DATA_DAYS", "7", "ORDER_BUYER_DATA_DAYS must be whole days from 12.*'7'"),
    ],
)
def test_a_bad_number_is_refused_naming_the_variable_and_the_value(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_environ({variable: value})


def test_a_function_without_a_budget_gets_a_small_one_and_a_process_local_record() -> None:
    guard = Application(Settings.from_environ({})).rate_guard()
    assert guard.bucket is not None
    assert guard.bucket.rate == FALLBACK_RPM_BUDGET / 60
    guard.record_block(60)
    with pytest.raises(AllegroRateLimited):
        guard.check()


def test_the_guard_uses_the_budget_and_shares_blocks_in_the_control_table(aws: None) -> None:
    create_table(boto3.client("dynamodb"), "control-test")
    env = {table_env("control"): "control-test", "ALLEGRO_RPM_BUDGET": "300"}
    app = Application(Settings.from_environ(env))
    guard = app.rate_guard()
    assert guard is app.rate_guard()  # one per function instance, whatever account it serves
    assert guard.bucket is not None
    assert guard.bucket.rate == 5.0
    guard.record_block(60)
    assert DynamoBlockedUntilStore("control-test").read_blocked_until() > 0


def test_exported_values_are_put_back_exactly_as_they_were(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLEGRO_SYNC_TEST_KEPT", "before")
    monkeypatch.delenv("ALLEGRO_SYNC_TEST_NEW", raising=False)
    monkeypatch.setenv("ALLEGRO_SYNC_TEST_DROPPED", "profile")
    seen: dict[str, str | None] = {}

    def command_that_fails() -> None:
        with exported(
            {"ALLEGRO_SYNC_TEST_KEPT": "during", "ALLEGRO_SYNC_TEST_NEW": "new"},
            unset=["ALLEGRO_SYNC_TEST_DROPPED"],
        ):
            for name in ("KEPT", "NEW", "DROPPED"):
                seen[f"ALLEGRO_SYNC_TEST_{name}"] = os.environ.get(f"ALLEGRO_SYNC_TEST_{name}")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        command_that_fails()
    assert seen == {
        "ALLEGRO_SYNC_TEST_KEPT": "during",
        "ALLEGRO_SYNC_TEST_NEW": "new",
        "ALLEGRO_SYNC_TEST_DROPPED": None,
    }
    assert os.environ["ALLEGRO_SYNC_TEST_KEPT"] == "before"
    assert "ALLEGRO_SYNC_TEST_NEW" not in os.environ
    assert os.environ["ALLEGRO_SYNC_TEST_DROPPED"] == "profile"


# -- only settings.py reads the environment --------------------------------------------------------

_ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def environment_readers(path: Path) -> list[str]:
    """Where `path` touches the process environment: `os.environ`, `os.getenv(...)`,
    `from os import environ`, whatever name `os` was imported as."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    os_names = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names |= {alias.asname or alias.name for alias in node.names if alias.name == "os"}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            imported = [a.name for a in node.names if a.name in _ENVIRONMENT_NAMES]
            found += [(node.lineno, f"from os import {name}") for name in imported]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in _ENVIRONMENT_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        ):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


def test_the_scan_finds_every_way_of_reading_the_environment(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nimport os as o\nfrom os import environ, getenv\n"
        "a = os.environ['A']\nb = os.environ.get('B')\nc = os.getenv('C')\nd = o.environ\n"
        "text = 'os.environ in a string is fine'\n"
    )
    assert environment_readers(sample) == [
        "line 3: from os import environ",
        "line 3: from os import getenv",
        "line 4: os.environ",
        "line 5: os.environ",
        "line 6: os.getenv",
        "line 7: o.environ",
    ]


def test_no_shipped_module_but_settings_reads_the_environment() -> None:
    """Configuration is read once, in `settings.py`; a module reading os.environ itself would make the
    local runtime's functions share one process's variables again."""
    offenders = {
        str(path.relative_to(PACKAGE)): readers
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "settings.py" and (readers := environment_readers(path))
    }
    report = "\n".join(f"{name}: {', '.join(where)}" for name, where in offenders.items())
    assert not offenders, f"modules reading the environment outside settings.py:\n{report}"
