"""The local runtime refuses, as IAM would, every AWS call a function's topology entry does not grant."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from allegro_sync.local.runtime import LocalRuntime
from allegro_sync.topology import Function, Queue, Secret, Table, Topology, Uses
from tests.fixtures.local import MakeLocalRuntime

pytestmark = pytest.mark.integration

GRANTS = Topology(
    tables=(Table("ledger", "read only here"),),
    queues=(Queue("outbox", "another function's", fifo=False),),
    secrets=(Secret("accounts", "one per seller", is_prefix=True),),
    functions=(
        Function(
            "prober",
            "reads one table item and one secret family, nothing else",
            tables={"ledger": Uses("GetItem")},
            secrets={"accounts": Uses("GetSecretValue")},
        ),
    ),
)


@pytest.fixture
def runtime(make_local_runtime: MakeLocalRuntime) -> LocalRuntime:
    return make_local_runtime(GRANTS, handler_modules={"prober": "tests.integration.local.handlers.prober"})


def test_a_granted_call_goes_through(runtime: LocalRuntime) -> None:
    assert runtime.invoke("prober", {"do": "read"}) == {"done": "read"}
    assert runtime.invoker.iam.denied == []
    assert ("prober", "dynamodb:GetItem", "table ledger") in runtime.invoker.iam.used


@pytest.mark.parametrize(
    ("do", "action"),
    [
        ("write", "dynamodb:PutItem"),
        ("scan", "dynamodb:Scan"),
        ("create-secret", "secretsmanager:CreateSecret"),
        ("send", "sqs:SendMessage"),
    ],
)
def test_an_undeclared_call_is_denied_naming_what_to_declare(
    runtime: LocalRuntime, do: str, action: str
) -> None:
    event = {"do": do, "queue_url": runtime.wiring.queues["outbox"].url}
    with pytest.raises(ClientError) as denied:
        runtime.invoke("prober", event)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"prober may not {action}" in str(denied.value)
    assert "topology" in str(denied.value)
    assert [d.action for d in runtime.invoker.iam.denied] == [action]


def test_outside_an_invocation_the_application_is_an_operators_tool(runtime: LocalRuntime) -> None:
    """Tests, the demo and the benches seed data through a function's application, as an admin would."""
    app = runtime.application("prober")
    app.aws_client("dynamodb").put_item(
        TableName=app.settings.table("ledger"), Item={"pk": {"S": "sku#1"}, "sk": {"S": "ledger"}}
    )
    assert runtime.invoker.iam.denied == []
