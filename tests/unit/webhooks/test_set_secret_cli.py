"""`allegro-sync webhooks set-secret`: rotation keeps the old secret valid until told otherwise, and the
value never reaches the terminal."""

from __future__ import annotations

import json

import boto3
import pytest
from typer.testing import CliRunner

from allegro_sync.adapters.config_secret import WEBHOOK_SIGNING, section_text
from allegro_sync.adapters.shop.signing_secret import SigningSecrets
from allegro_sync.cli.main import app
from allegro_sync.local.provision import PLACEHOLDER_SECRET
from allegro_sync.topology import secret_env

NAME = "allegro-sync/config"  # issue 21: the section `webhook-signing` of the configuration secret


@pytest.fixture
def secret(aws: None) -> str:
    boto3.client("secretsmanager").create_secret(Name=NAME, SecretString=json.dumps(PLACEHOLDER_SECRET))
    return NAME


def run(*args: str, value: str | None = None) -> tuple[int, str]:
    # The operator's shell: which secret (as the Lambda gets it) and, optionally, the new value.
    env = {
        "COLUMNS": "300",
        secret_env("webhook-signing"): NAME,
        **({"ALLEGRO_SYNC_WEBHOOK_SECRET": value} if value else {}),
    }
    done = CliRunner().invoke(app, ["webhooks", "set-secret", *args], env=env)
    return done.exit_code, done.output


def stored() -> SigningSecrets:
    return SigningSecrets.parse(
        section_text(
            boto3.client("secretsmanager").get_secret_value(SecretId=NAME)["SecretString"], WEBHOOK_SIGNING
        )
    )


def test_a_first_secret_replaces_the_placeholder(secret: str) -> None:
    code, output = run(value="first-secret-0123456789")

    assert code == 0, output
    assert stored().generic == ["first-secret-0123456789"]
    assert "first-secret" not in output


def test_a_rotation_keeps_the_previous_secret_until_dropped(secret: str) -> None:
    run(value="first-secret-0123456789")
    run(value="second-secret-0123456789")

    assert stored().generic == ["second-secret-0123456789", "first-secret-0123456789"]

    code, output = run("--drop-previous")

    assert code == 0, output
    assert stored().generic == ["second-secret-0123456789"]


def test_the_woocommerce_secret_is_set_apart(secret: str) -> None:
    run(value="generic-secret-0123456789")
    run("--woocommerce", value="woo-secret-0123456789")

    assert (stored().generic, stored().woocommerce) == (
        ["generic-secret-0123456789"],
        ["woo-secret-0123456789"],
    )


def test_a_short_secret_is_refused_and_nothing_changes(secret: str) -> None:
    code, output = run(value="short")

    assert code == 2
    assert "16 characters" in output
    assert json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=NAME)["SecretString"]) == (
        PLACEHOLDER_SECRET
    )


def test_the_other_sections_of_the_configuration_stay(secret: str) -> None:
    """Issue 21: one secret holds the app's, the shop's and the signing configuration; setting one keeps
    the others as they were."""
    shop = {"kind": "generic", "url": "http://127.0.0.1:9/orders", "signing_secret": "shop-secret-0123456789"}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=NAME, SecretString=json.dumps({"shop-credentials": shop})
    )

    code, output = run(value="first-secret-0123456789")

    assert code == 0, output
    whole = json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=NAME)["SecretString"])
    assert whole["shop-credentials"] == shop
    assert stored().generic == ["first-secret-0123456789"]
