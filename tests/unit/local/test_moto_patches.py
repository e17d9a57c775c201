"""moto without whole-table copies per transaction must still roll a failed transaction back whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from allegro_sync.local import moto_patches, provision


@pytest.fixture
def table() -> Iterator[Any]:
    moto_patches.apply()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-central-1")
        provision.create_table(dynamodb, "t")
        for n in range(50):
            dynamodb.put_item(
                TableName="t", Item={"pk": {"S": f"sku#{n}"}, "sk": {"S": "state"}, "v": {"N": "1"}}
            )
        yield dynamodb


def key(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"sku#{n}"}, "sk": {"S": "state"}}


def set_v(n: int, v: str) -> dict[str, Any]:
    """A transaction's update of item n's `v`."""
    return {
        "Update": {
            "TableName": "t",
            "Key": key(n),
            "UpdateExpression": "SET v = :v",
            "ExpressionAttributeValues": {":v": {"N": v}},
        }
    }


def value(dynamodb: Any, n: int) -> str | None:
    item = dynamodb.get_item(TableName="t", Key=key(n)).get("Item")
    return None if item is None else str(item["v"]["N"])


def test_a_failed_condition_undoes_the_update_put_and_delete_before_it(table: Any) -> None:
    with pytest.raises(ClientError, match="TransactionCanceled"):
        table.transact_write_items(
            TransactItems=[
                set_v(1, "2"),
                {"Put": {"TableName": "t", "Item": {**key(100), "v": {"N": "7"}}}},
                {"Delete": {"TableName": "t", "Key": key(2)}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": key(3),
                        "ConditionExpression": "v = :x",
                        "ExpressionAttributeValues": {":x": {"N": "9"}},
                    }
                },
            ]
        )
    assert (value(table, 1), value(table, 100), value(table, 2), value(table, 3)) == ("1", None, "1", "1")


def test_a_transaction_that_holds_is_applied_whole(table: Any) -> None:
    table.transact_write_items(
        TransactItems=[
            set_v(1, "2"),
            {
                "Put": {
                    "TableName": "t",
                    "Item": {**key(100), "v": {"N": "7"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )
    assert (value(table, 1), value(table, 100), value(table, 49)) == ("2", "7", "1")
    assert table.scan(TableName="t", Select="COUNT")["Count"] == 51


def test_moto_finds_a_requests_backend_without_listing_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's server listed its package directory (~170 `isdir` calls) for every request, under its one
    application lock: every AWS call of every local function waited on it."""
    moto_patches.apply()
    app = DomainDispatcherApplication(create_backend_app)

    def listing(path: str) -> list[str]:
        raise AssertionError(f"moto listed {path} to route a request")

    monkeypatch.setattr(os, "listdir", listing)
    assert app.get_backend_for_host("dynamodb") == "dynamodb"
    assert app.get_backend_for_host("sqs") == "sqs"
    assert app.get_backend_for_host("no-such-service") is None
