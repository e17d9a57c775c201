"""Least privilege, proven on the synthesized template: each function's role may call exactly the DynamoDB,
Secrets Manager and SQS actions its topology entry declares, on exactly those resources.

Generic over the topology: a new function (or a new table use) passes only once it is declared there. The
local runtime enforces the same declaration on every call (`allegro_sync/local/iam.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allegro_sync.local.iam import CONSUME_ACTIONS, SEND_ACTIONS
from allegro_sync.topology import (
    TOPOLOGY,
    QueueTrigger,
    ScheduleTrigger,
    bucket_actions,
    secret_actions,
    table_actions,
    topic_actions,
)
from tests.infra.conftest import Synth, synthesize

pytestmark = pytest.mark.infra

CHECKED = ("dynamodb:", "secretsmanager:", "sqs:", "s3:", "sns:")


@pytest.fixture(scope="module")
def shipped(synth_dir: Path) -> Synth:
    return synthesize(synth_dir / "least-privilege", TOPOLOGY)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resource_name(synth: Synth, resource: Any) -> str:
    """A statement's resource as the topology names it: `table ledger`, `queue orders`, `secret accounts*`."""
    names = {synth.logical_id(t): f"table {n}" for n, t in synth.stack.tables.items()}
    names |= {synth.logical_id(p.queue): f"queue {n}" for n, p in synth.stack.queues.items()}
    names |= {synth.logical_id(s): f"secret {n}" for n, s in synth.stack.secrets.items()}
    names |= {synth.logical_id(b): f"bucket {n}" for n, b in synth.stack.buckets.items()}
    names |= {synth.logical_id(t): f"topic {n}" for n, t in synth.stack.topics.items()}  # issue 15, item 4
    if synth.stack.schedule_dlq is not None:
        names[synth.logical_id(synth.stack.schedule_dlq)] = "queue schedule-dlq"
    if isinstance(resource, dict):
        ref = resource.get("Ref") or (resource.get("Fn::GetAtt") or [None])[0]
        if ref in names:
            return names[ref]
        if "Fn::Join" in resource:
            text = "".join(p if isinstance(p, str) else "" for p in resource["Fn::Join"][1])
            for secret in TOPOLOGY.secrets:
                if secret.is_prefix and f"/{secret.name}/*" in text:
                    return f"secret {secret.name}*"
            inner = [_resource_name(synth, p) for p in resource["Fn::Join"][1] if isinstance(p, dict)]
            return next((n for n in inner if n != "?"), "?")
    return "?"


def granted(synth: Synth, function: str) -> set[tuple[str, str]]:
    """(action, resource) for every DynamoDB/Secrets Manager/SQS action the role is allowed."""
    found: set[tuple[str, str]] = set()
    for statement in synth.role_statements(function):
        assert statement["Effect"] == "Allow"
        actions = [a for a in _list(statement["Action"]) if a.startswith(CHECKED)]
        for resource in _list(statement["Resource"]):
            name = _resource_name(synth, resource)
            if name.startswith("table ") and isinstance(resource, dict) and "Fn::Join" in resource:
                continue  # CDK's `<table arn>/index/*` twin of the table grant: this stack has no index
            found.update((action, name) for action in actions)
    return found


def declared(function_name: str) -> set[tuple[str, str]]:
    function = TOPOLOGY.function(function_name)
    expected: set[tuple[str, str]] = set()
    for name, grant in function.tables.items():
        expected.update((a, f"table {name}") for a in table_actions(grant))
    for name, grant in function.secrets.items():
        suffix = "*" if TOPOLOGY.secret(name).is_prefix else ""
        held = TOPOLOGY.stored_secret(name).name  # issue 21: a section is granted as the secret holding it
        expected.update((a, f"secret {held}{suffix}") for a in secret_actions(grant))
    for name in function.sends_to:
        expected.update((a, f"queue {name}") for a in SEND_ACTIONS)
    for name, actions in function.buckets.items():  # issue 15
        expected.update((a, f"bucket {name}") for a in bucket_actions(actions))
    for name, actions in function.topics.items():  # issue 15, item 4
        expected.update((a, f"topic {name}") for a in topic_actions(actions))
    for trigger in function.triggers:
        if isinstance(trigger, QueueTrigger):
            expected.update((a, f"queue {trigger.queue}") for a in CONSUME_ACTIONS)
        if isinstance(trigger, ScheduleTrigger):  # its failed async runs go to the schedule DLQ
            expected.update((a, "queue schedule-dlq") for a in SEND_ACTIONS)
    return expected


@pytest.mark.parametrize("function", [f.name for f in TOPOLOGY.functions])
def test_each_role_grants_exactly_what_its_topology_entry_declares(shipped: Synth, function: str) -> None:
    actual = granted(shipped, function)
    expected = declared(function)
    assert actual - expected == set(), f"{function}: granted but not declared"
    assert expected - actual == set(), f"{function}: declared but not granted"


def test_only_the_oauth_flow_may_create_a_seller_account_secret(shipped: Synth) -> None:
    creators = {
        f.name
        for f in TOPOLOGY.functions
        if ("secretsmanager:CreateSecret", "secret accounts*") in granted(shipped, f.name)
    }
    assert creators == {"oauth"}


def test_no_function_may_scan_batch_write_or_update_a_secrets_metadata(shipped: Synth) -> None:
    broad = {"dynamodb:BatchWriteItem", "dynamodb:DescribeTable", "secretsmanager:UpdateSecret"}
    for function in TOPOLOGY.functions:
        assert {a for a, _ in granted(shipped, function.name)} & broad == set(), function.name
    scanners = {
        f.name for f in TOPOLOGY.functions if any(a == "dynamodb:Scan" for a, _ in granted(shipped, f.name))
    }
    assert scanners == {"order_worker"}  # the catalog, to find a sold offer's SKUs


def test_every_log_group_is_encrypted_with_the_stacks_key(shipped: Synth) -> None:
    """Logs carry order numbers and buyer logins' ids: they are kept under the seller's own key."""
    key = {"Fn::GetAtt": [shipped.logical_id(shipped.stack.key), "Arn"]}
    groups = shipped.of_type("AWS::Logs::LogGroup")
    assert groups
    assert all(g["Properties"].get("KmsKeyId") == key for g in groups.values())
    statements = shipped.properties(shipped.stack.key)["KeyPolicy"]["Statement"]
    logs = [s for s in statements if "logs." in str(s["Principal"])]
    assert len(logs) == 1
    assert "kms:EncryptionContext:aws:logs:arn" in logs[0]["Condition"]["ArnLike"]


def test_the_configuration_is_one_secret(shipped: Synth) -> None:
    """Issue 21: app credentials, webhook signing and shop credentials are sections of one secret."""
    assert set(shipped.stack.secrets) == {"config"}
