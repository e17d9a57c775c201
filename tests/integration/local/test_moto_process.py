"""moto in a process of its own (the soak's AWS): it serves like the in-process server, until stopped."""

from __future__ import annotations

import boto3
import httpx
import pytest

from allegro_sync.local import provision
from allegro_sync.local.moto_server import MotoProcess


def test_moto_in_its_own_process_serves_aws_until_it_is_stopped() -> None:
    moto = MotoProcess().start()
    try:
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=moto.endpoint,
            region_name="eu-central-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        provision.create_table(dynamodb, "t")
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "sku#1"}, "sk": {"S": "state"}})
        assert dynamodb.get_item(TableName="t", Key={"pk": {"S": "sku#1"}, "sk": {"S": "state"}})["Item"]
    finally:
        moto.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{moto.endpoint}/moto-api/", timeout=2)
