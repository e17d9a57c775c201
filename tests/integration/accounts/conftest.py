"""Moto-backed account custody: a control table, the two secrets' names, a KMS key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from allegro_sync.adapters import token_store
from allegro_sync.adapters.token_store import AccountsSettings

PREFIX = "allegro-sync/accounts/"
APP_SECRET = "allegro-sync/app-credentials"


def create_control_table(name: str = "control") -> Any:
    dynamodb = boto3.resource("dynamodb")
    table = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    return table


@pytest.fixture
def settings(aws: None) -> Iterator[AccountsSettings]:
    create_control_table()
    key = boto3.client("kms").create_key(Description="accounts")["KeyMetadata"]["Arn"]
    token_store.reset()
    yield AccountsSettings(
        control_table="control",
        accounts_secret_prefix=PREFIX,
        app_credentials_secret=APP_SECRET,
        kms_key_id=key,
    )
    token_store.reset()
