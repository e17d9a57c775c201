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


def test_offer_settings_are_read_validated_and_reach_only_the_functions_that_declare_them(
    tmp_path: Any, synth_dir: Any
) -> None:
    from allegro_sync.topology import TOPOLOGY
    from tests.infra.conftest import synthesize

    good = tmp_path / "offer-settings.json"
    good.write_text(
        '{"responsible_producer": {"type": "NAME", "name": "Sklep Sp. z o.o."}, '
        '"safety_information": "Chronić przed dziećmi."}',
        encoding="utf-8",
    )
    assert "Sklep Sp. z o.o." in _from({"offerSettingsFile": str(good)}).deploy_settings["OFFER_SETTINGS"]

    synth = synthesize(synth_dir / "offer-settings", TOPOLOGY, {"offerSettingsFile": str(good)})
    for function in TOPOLOGY.functions:
        env = synth.properties(synth.stack.functions[function.name])["Environment"]["Variables"]
        assert ("OFFER_SETTINGS" in env) == ("OFFER_SETTINGS" in function.deploy_settings), function.name
    assert any("OFFER_SETTINGS" in f.deploy_settings for f in TOPOLOGY.functions)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"responsible_producer": {"type": "NAME"}, "colour": "red"}', "not valid offer settings"),
        ("not json", "not valid offer settings"),
    ],
)
def test_bad_offer_settings_stop_the_synth(tmp_path: Any, content: str, message: str) -> None:
    bad = tmp_path / "offer-settings.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        _from({"offerSettingsFile": str(bad)})
    with pytest.raises(ValueError, match="offerSettingsFile"):
        _from({"offerSettingsFile": str(tmp_path / "missing.json")})


def test_a_repricing_feed_in_s3_reaches_the_repricer_with_a_read_grant_on_that_object_only(
    synth_dir: Any,
) -> None:
    from allegro_sync.topology import TOPOLOGY
    from tests.infra.conftest import synthesize

    url = "s3://moj-sklep-ceny/konkurencja/ceny.csv"
    assert _from({"repricingFeedUrl": url}).deploy_settings["REPRICING_FEED_URL"] == url
    synth = synthesize(synth_dir / "feed", TOPOLOGY, {"repricingFeedUrl": url})
    for function in TOPOLOGY.functions:
        env = synth.properties(synth.stack.functions[function.name])["Environment"]["Variables"]
        declared = "REPRICING_FEED_URL" in function.deploy_settings
        assert (env.get("REPRICING_FEED_URL") == url) == declared, function.name
        grants = [  # the labels bucket's own grants: tests/infra/test_labels_bucket.py
            s
            for s in synth.role_statements(function.name)
            if s["Action"] == "s3:GetObject" and "BucketLabels" not in str(s["Resource"])
        ]
        assert grants == (
            [
                {
                    "Action": "s3:GetObject",
                    "Effect": "Allow",
                    "Resource": "arn:aws:s3:::moj-sklep-ceny/konkurencja/ceny.csv",
                }
            ]
            if declared
            else []
        )


@pytest.mark.parametrize("url", ["ftp://x/y", "s3://", "http://example.com/feed.json", "https://"])
def test_a_feed_url_that_cannot_work_stops_the_synth(url: str) -> None:
    with pytest.raises(ValueError, match="repricingFeedUrl"):
        _from({"repricingFeedUrl": url})


def test_when_a_sale_takes_stock_is_a_checked_deploy_setting_for_the_order_worker_only() -> None:
    from allegro_sync.topology import TOPOLOGY

    assert _from({"orderStockCountAt": "ready_for_processing"}).deploy_settings == {
        "ORDER_STOCK_COUNT_AT": "READY_FOR_PROCESSING"
    }
    with pytest.raises(ValueError, match="orderStockCountAt"):
        _from({"orderStockCountAt": "PAID"})
    receivers = [f.name for f in TOPOLOGY.functions if "ORDER_STOCK_COUNT_AT" in f.deploy_settings]
    assert receivers == ["order_worker"]


def test_the_shop_reconciliation_runs_every_15_minutes_unless_the_seller_sets_another_rate() -> None:
    from allegro_sync.topology import TOPOLOGY

    [trigger] = TOPOLOGY.function("shop_reconciler").triggers
    assert _from({}).rate_minutes(trigger) == 15
    settings = _from({"shopReconcileMinutes": "5", "shopReconcileOverlapSeconds": "600"})
    assert settings.rate_minutes(trigger) == 5
    assert settings.deploy_settings["SHOP_RECONCILE_OVERLAP_SECONDS"] == "600"
    with pytest.raises(ValueError, match="shopReconcileMinutes must be between 1 and 1440"):
        _from({"shopReconcileMinutes": "0"})


def test_how_long_buyer_data_stays_is_a_checked_deploy_setting_for_the_order_worker_only() -> None:
    from allegro_sync.topology import TOPOLOGY

    assert _from({}).deploy_settings.get("ORDER_BUYER_DATA_DAYS") is None  # 30 days
    assert _from({"buyerDataDays": "14"}).deploy_settings["ORDER_BUYER_DATA_DAYS"] == "14"
    # Shorter than a queued order can wait for its buyer's address (4 days queued + 7 in the DLQ): refused.
    for days in ("11", "400", "two weeks"):
        with pytest.raises(
            ValueError, match="buyerDataDays: ORDER_BUYER_DATA_DAYS must be whole days from 12"
        ):
            _from({"buyerDataDays": days})
    receivers = [f.name for f in TOPOLOGY.functions if "ORDER_BUYER_DATA_DAYS" in f.deploy_settings]
    assert receivers == ["order_worker"]


def test_the_label_link_life_reaches_the_shop_notifier_checked_at_synth() -> None:
    """Issue 15: `-c labelLinkSeconds=N` (the shop's presigned label link); a value SigV4 cannot sign stops
    the synth."""
    assert _from({"labelLinkSeconds": 7200}).deploy_settings["LABEL_LINK_SECONDS"] == "7200"
    with pytest.raises(ValueError, match="labelLinkSeconds"):
        _from({"labelLinkSeconds": "forever"})
