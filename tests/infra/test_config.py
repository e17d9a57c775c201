"""Context flags: defaults for a seller's production stack, clear errors for typos."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import Settings

pytestmark = pytest.mark.infra


def _from(context: dict[str, Any]) -> Settings:
    return Settings.from_context(context.get)


def test_defaults_are_a_production_stack_that_keeps_data() -> None:
    settings = _from({})
    assert settings.stack_name == "AllegroSync"
    assert settings.name_prefix == "allegro-sync"
    assert settings.allegro_environment == "production"
    assert settings.destroy_data_on_delete is False
    assert settings.alarm_email is None


def test_cli_strings_are_parsed() -> None:
    settings = _from(
        {
            "allegroEnvironment": "sandbox",
            "logLevel": "debug",
            "logRetentionDays": "90",
            "apiThrottleRate": "5",
            "apiThrottleBurst": 10,
            "destroyDataOnDelete": "true",
            "alarmEmail": "ops@example.com",
        }
    )
    assert (settings.allegro_environment, settings.log_level, settings.log_retention_days) == (
        "sandbox",
        "DEBUG",
        90,
    )
    assert (settings.api_throttle_rate, settings.api_throttle_burst) == (5, 10)
    assert settings.destroy_data_on_delete is True
    assert settings.alarm_email == "ops@example.com"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"allegroEnvironment": "staging"}, "allegroEnvironment must be one of"),
        ({"logRetentionDays": "13"}, "logRetentionDays 13 is not one of"),
        ({"apiThrottleRate": "fast"}, "apiThrottleRate must be a whole number"),
        ({"apiThrottleBurst": "0"}, "must be positive"),
        ({"destroyDataOnDelete": "yes"}, "destroyDataOnDelete must be true or false"),
        ({"alarmEmail": "ops"}, "not an e-mail address"),
        ({"namePrefix": "Allegro/Sync"}, "namePrefix"),
        ({"stackName": "1stack"}, "stackName"),
        ({"logLevel": "LOUD"}, "logLevel must be one of"),
    ],
)
def test_bad_context_is_refused_by_name(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _from(context)
