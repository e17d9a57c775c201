"""The local runtime wires exactly what the topology declares, with the stack's variable names."""

from __future__ import annotations

import json
import os
import re

import pytest

from allegro_sync.local import LocalRuntime
from allegro_sync.local.provision import PLACEHOLDER_SECRET, kms_key_env
from allegro_sync.settings import NotWired, Settings
from allegro_sync.topology import TOPOLOGY, Topology, queue_env, secret_env, table_env
from tests.fixtures.local import MakeLocalRuntime
from tests.integration.local.handlers import recorder
from tests.integration.local.topologies import MODULES, QUEUES

pytestmark = pytest.mark.integration

RESOURCE_VAR = re.compile(r"^(TABLE_|QUEUE_|SECRET_)")


def assert_resources_match(runtime: LocalRuntime, topology: Topology) -> None:
    dynamodb, sqs, secrets = (
        runtime.client("dynamodb"),
        runtime.client("sqs"),
        runtime.client("secretsmanager"),
    )
    assert sorted(runtime.wiring.tables) == sorted(t.name for t in topology.tables)
    for table in topology.tables:
        name = runtime.wiring.tables[table.name]
        described = dynamodb.describe_table(TableName=name)["Table"]
        assert {(k["AttributeName"], k["KeyType"]) for k in described["KeySchema"]} == {
            ("pk", "HASH"),
            ("sk", "RANGE"),
        }
        assert all(a["AttributeType"] == "S" for a in described["AttributeDefinitions"])
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if table.ttl_attribute:
            assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", table.ttl_attribute)
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"
    assert sorted(runtime.wiring.queues) == sorted(q.name for q in topology.queues)
    for queue in topology.queues:
        wired = runtime.wiring.queues[queue.name]
        attributes = sqs.get_queue_attributes(QueueUrl=wired.url, AttributeNames=["All"])["Attributes"]
        dlq = sqs.get_queue_attributes(QueueUrl=wired.dlq_url, AttributeNames=["All"])["Attributes"]
        assert attributes["QueueArn"] == wired.arn
        assert dlq["QueueArn"] == wired.dlq_arn
        assert int(attributes["VisibilityTimeout"]) == topology.visibility_timeout_seconds(queue.name)
        assert int(attributes["MessageRetentionPeriod"]) == queue.retention_days * 86400
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": wired.dlq_arn,
            "maxReceiveCount": queue.max_receive_count,
        }
        assert (attributes.get("FifoQueue") == "true") is queue.fifo
        assert (dlq.get("FifoQueue") == "true") is queue.fifo
        if queue.fifo:
            assert attributes["ContentBasedDeduplication"] == str(queue.content_based_deduplication).lower()
    for secret in topology.secrets:
        name = runtime.wiring.secrets[secret.name]
        if secret.is_prefix:
            assert name.endswith("/")
            assert secrets.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"] == []
        else:
            value = json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])
            assert value == PLACEHOLDER_SECRET
            assert value["configured"] is False


def assert_environments_match(runtime: LocalRuntime, topology: Topology) -> None:
    prefix_secrets = {s.name for s in topology.secrets if s.is_prefix}
    for function in topology.functions:
        env = runtime.environment(function.name)
        expected = {table_env(t) for t in function.tables}
        expected |= {queue_env(q) for q in function.queues}
        expected |= {secret_env(s) for s in function.secrets}
        expected |= {
            kms_key_env(s) for s in function.secrets if s in prefix_secrets and function.creates_secrets(s)
        }
        assert {k for k in env if RESOURCE_VAR.match(k)} == expected, function.name
        for name in function.tables:
            assert env[table_env(name)] == runtime.wiring.tables[name]
        for name in function.queues:
            assert env[queue_env(name)] == runtime.wiring.queues[name].url
        for name in function.secrets:
            assert env[secret_env(name)] == runtime.wiring.secrets[name]
        assert function.environment.items() <= env.items(), function.name
        assert env["AWS_ENDPOINT_URL"] == runtime.wiring.endpoint
        assert env["POWERTOOLS_SERVICE_NAME"] == "allegro-sync"
        assert env["POWERTOOLS_METRICS_FUNCTION_NAME"] == function.name
        assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(function.memory_mb)


def test_the_real_topology_is_wired_as_declared(local_runtime: LocalRuntime) -> None:
    assert_resources_match(local_runtime, TOPOLOGY)
    assert_environments_match(local_runtime, TOPOLOGY)


def test_a_topology_with_every_kind_of_resource_is_wired_as_declared(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    runtime = make_local_runtime(QUEUES, handler_modules=MODULES)

    assert_resources_match(runtime, QUEUES)
    assert_environments_match(runtime, QUEUES)
    assert runtime.environment("flaky")["SHOP_NAME"] == "test-shop"
    assert runtime.environment("flaky")["SECRET_ACCOUNTS_KMS_KEY_ID"].startswith("arn:aws:kms:")


def test_a_handler_sees_only_its_own_resources_and_the_process_env_is_restored(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    recorder.CALLS.clear()
    feed = "http://127.0.0.1:9/feed"
    runtime = make_local_runtime(
        QUEUES, handler_modules=MODULES, env={"EXTRA_SETTING": "on", "REPRICING_FEED_URL": feed}
    )

    runtime.fire("recorder")

    seen: Settings = recorder.CALLS[0]["settings"]
    assert seen.secret("accounts") == runtime.wiring.secrets["accounts"]
    with pytest.raises(NotWired, match="TABLE_LEDGER"):
        seen.table("ledger")  # flaky's table: declared there, not here
    assert seen.kms_key_id is None  # read-only access gets no key
    assert runtime.environment("recorder")["EXTRA_SETTING"] == "on"  # caller overrides reach it ...
    assert seen.repricing_feed_url == feed  # ... and its settings are built from them
    assert seen.aws_endpoint_url == runtime.wiring.endpoint
    assert "SECRET_ACCOUNTS" not in os.environ
    assert os.environ["AWS_ENDPOINT_URL"] == runtime.wiring.endpoint


def test_stop_restores_the_environment_and_can_be_called_twice(make_local_runtime: MakeLocalRuntime) -> None:
    before = os.environ.get("AWS_ENDPOINT_URL")
    runtime = make_local_runtime(QUEUES, handler_modules=MODULES)
    assert os.environ["AWS_ENDPOINT_URL"] == runtime.wiring.endpoint

    runtime.stop()
    runtime.stop()

    assert os.environ.get("AWS_ENDPOINT_URL") == before
    with pytest.raises(RuntimeError, match="not started"):
        runtime.invoke("recorder", {})


def test_the_kms_variable_is_named_as_the_cdk_stack_names_it() -> None:
    naming = pytest.importorskip("infra.naming")
    assert kms_key_env("accounts") == naming.kms_key_env("accounts")


def test_helpers_name_what_is_wrong_and_put_secret_replaces_the_placeholder(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    runtime = make_local_runtime(QUEUES, handler_modules=MODULES)

    with pytest.raises(KeyError, match="no queue 'nope'"):
        runtime.send("nope", {"id": "x"})
    runtime.put_secret("app-credentials", {"client_id": "local-app", "client_secret": "s"})

    stored = runtime.client("secretsmanager").get_secret_value(
        SecretId=runtime.wiring.secrets["app-credentials"]
    )
    assert json.loads(stored["SecretString"]) == {"client_id": "local-app", "client_secret": "s"}


def test_only_one_runtime_runs_at_a_time_in_a_process(make_local_runtime: MakeLocalRuntime) -> None:
    first = make_local_runtime(QUEUES, handler_modules=MODULES)

    with pytest.raises(RuntimeError, match="another LocalRuntime is running"):
        LocalRuntime(QUEUES, handler_modules=MODULES).start()

    assert first.environment("flaky")["TABLE_LEDGER"] == first.wiring.tables["ledger"]
    assert os.environ["AWS_ENDPOINT_URL"] == first.wiring.endpoint  # the refused one changed nothing
