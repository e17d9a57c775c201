"""IAM, locally: every AWS call a function makes is checked against what its topology entry grants.

moto answers whatever it is asked, so a function that quietly started to Scan a table, write a secret or
send to a queue it was never given would pass every local test and fail only after `cdk deploy` (or,
worse, pass there too because a grant was broader than the code needed). The invoker hooks each
function's boto3 session here; a call outside the function's declared actions fails as AWS would fail it,
with an AccessDenied naming the function, the action and the resource to declare in `topology.py`.
`tests/infra/test_least_privilege.py` holds the other half: the synthesized roles grant exactly that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from allegro_sync.settings import Settings
from allegro_sync.topology import (
    Function,
    QueueTrigger,
    Topology,
    bucket_actions,
    secret_actions,
    table_actions,
    topic_actions,
)

# What an SQS event source's role may do on the queue it consumes (CDK's grant_consume_messages).
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)
SEND_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
_CHECKED = ("dynamodb", "secretsmanager", "sqs", "s3", "sns")
# Operations authorised by another action's name (IAM has no action of their own).
_SQS_ALIASES = {
    "SendMessageBatch": "SendMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "DeleteMessageBatch": "DeleteMessage",
}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Denied:
    function: str
    action: str
    resource: str

    def __str__(self) -> str:
        return (
            f"{self.function} may not {self.action} on {self.resource}: "
            "declare it in the function's topology entry (allegro_sync/topology.py)"
        )


class LocalIam:
    """The grants of every function of a topology, enforced on the boto3 sessions the invoker builds."""

    EVENT = "before-parameter-build"

    def __init__(self, topology: Topology) -> None:
        self._topology = topology
        self._lock = threading.Lock()
        self.denied: list[Denied] = []
        self.used: set[tuple[str, str, str]] = set()  # (function, action, logical resource)

    def watch(
        self, function_name: str, settings: Settings, session: Any, running: Callable[[], str | None]
    ) -> None:
        """Check the calls `session`'s clients make while `running()` names this function (register before
        its first client is built). Outside an invocation the application is an operator's tool (tests, the
        demo and the benches seed data through it), as an administrator's credentials would be."""
        function = self._topology.function(function_name)
        grants = _Grants(function, settings)

        def check(params: dict[str, Any], model: Any, **_: Any) -> None:
            service = model.service_model.endpoint_prefix
            if service not in _CHECKED or running() != function_name:
                return
            for action, physical in _required(service, model.name, params):
                logical = grants.allows(action, physical)
                if logical is None:
                    denied = Denied(function.name, action, physical)
                    with self._lock:
                        self.denied.append(denied)
                    raise ClientError(
                        {"Error": {"Code": "AccessDeniedException", "Message": f"local IAM: {denied}"}},
                        model.name,
                    )
                with self._lock:
                    self.used.add((function.name, action, logical))

        session.events.register(self.EVENT, check, unique_id=f"local-iam:{function_name}")


class _Grants:
    """One function's (action, physical resource) grants, from its topology entry and its settings."""

    def __init__(self, function: Function, settings: Settings) -> None:
        self._exact: dict[tuple[str, str], str] = {}
        self._prefixes: list[tuple[str, str, str]] = []
        for name, grant in function.tables.items():
            for action in table_actions(grant):
                self._exact[(action, settings.tables[name])] = f"table {name}"
        for name, grant in function.secrets.items():
            physical = settings.secrets[name]
            for action in secret_actions(grant):
                if physical.endswith("/"):  # a family of secrets under a prefix
                    self._prefixes.append((action, physical, f"secret {name}*"))
                else:
                    self._exact[(action, physical)] = f"secret {name}"
        self._exact.update(_bucket_grants(function, settings))  # issue 15: objects of a bucket
        for name, actions in function.topics.items():  # issue 15, item 4: publish to a topic
            self._exact.update({(a, settings.topics[name]): f"topic {name}" for a in topic_actions(actions)})
        for name in function.sends_to:
            for action in SEND_ACTIONS:
                self._exact[(action, settings.queues[name])] = f"queue {name}"
        for trigger in function.triggers:
            if isinstance(trigger, QueueTrigger):
                for action in CONSUME_ACTIONS:
                    self._exact[(action, settings.queues[trigger.queue])] = f"queue {trigger.queue}"

    def allows(self, action: str, physical: str) -> str | None:
        """The logical resource the grant is on, or None: denied."""
        found = self._exact.get((action, physical))
        if found is not None:
            return found
        for granted, prefix, logical in self._prefixes:
            if granted == action and physical.startswith(prefix):
                return logical
        return None


def _bucket_grants(function: Function, settings: Settings) -> dict[tuple[str, str], str]:
    return {
        (action, settings.buckets[name]): f"bucket {name}"
        for name, actions in function.buckets.items()
        for action in bucket_actions(actions)
    }


def _required(service: str, operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The (IAM action, physical resource) pairs one call needs."""
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            for item in params.get("TransactItems", []):
                for kind, body in item.items():
                    yield f"dynamodb:{_TRANSACT_ACTIONS.get(kind, 'GetItem')}", body["TableName"]
        elif operation in ("BatchWriteItem", "BatchGetItem"):
            for table in params.get("RequestItems", {}):
                yield f"dynamodb:{operation}", table
        else:
            yield f"dynamodb:{operation}", str(params.get("TableName", "*"))
    elif service == "secretsmanager":
        secret = str(params.get("SecretId") or params.get("Name") or "*")
        yield f"secretsmanager:{operation}", secret
        if operation == "CreateSecret" and params.get("Tags"):
            yield "secretsmanager:TagResource", secret
    elif service == "s3":
        yield f"s3:{operation}", str(params.get("Bucket", "*"))
    elif service == "sns":
        yield f"sns:{operation}", str(params.get("TopicArn", "*"))
    else:
        yield f"sqs:{_SQS_ALIASES.get(operation, operation)}", str(params.get("QueueUrl", "*"))
