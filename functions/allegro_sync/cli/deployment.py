"""Where the deployment lives, for any operator command: every topology resource as the Lambdas see it.

The CLI reuses the functions' own adapters (`*_from_env`, `custody()`), so it needs the same environment
variables (`TABLE_*`, `QUEUE_*_URL`, `SECRET_*`). They come, per variable, from:
1. the process environment (an operator may point at anything explicitly);
2. the outputs of the CloudFormation stack `--stack` (env `ALLEGRO_SYNC_STACK`, default `AllegroSync`):
   output keys are the env var names without underscores (infra/naming.py `output_key`);
3. with `AWS_ENDPOINT_URL` set and no readable stack: the local runtime's names (`allegro-sync local up`).
`accounts_cmd.find_deployment` keeps its narrower contract (custody settings + API URL).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from allegro_sync.topology import TOPOLOGY, Topology, dlq_env, queue_env, secret_env, table_env

STACK_ENV = "ALLEGRO_SYNC_STACK"
DEFAULT_STACK = "AllegroSync"


class DeploymentNotFound(LookupError):
    """No environment, no readable stack, no local runtime: the operator must say where to work."""


def resource_variables(topology: Topology = TOPOLOGY) -> list[str]:
    """Every env var name a function (or an operator command, for the DLQs) needs to find a resource."""
    return (
        [table_env(t.name) for t in topology.tables]
        + [queue_env(q.name) for q in topology.queues]
        + [dlq_env(q.name) for q in topology.queues]
        + [secret_env(s.name) for s in topology.secrets]
    )


def _output_key(env_var: str) -> str:
    """Same rule as infra/naming.py `output_key` (infra is not part of the installed package)."""
    return env_var.replace("_", "")


def find_environment(stack: str | None = None, topology: Topology = TOPOLOGY) -> dict[str, str]:
    """The env-var mapping for ALL topology resources (only what is known; explicit env vars win)."""
    names = resource_variables(topology)
    found = {n: os.environ[n] for n in names if os.environ.get(n)}
    if len(found) == len(names):
        return found
    stack_name = stack or os.environ.get(STACK_ENV) or DEFAULT_STACK
    try:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    except (ClientError, BotoCoreError, IndexError, KeyError) as exc:
        if os.environ.get("AWS_ENDPOINT_URL"):
            return _local_runtime(topology) | found
        if all(n in found for n in names if not n.endswith("_DLQ_URL")):
            return found  # every function variable given: only the DLQs (operator-only) are unknown
        raise DeploymentNotFound(
            f"cannot find the deployment: stack {stack_name!r} is not readable ({type(exc).__name__}); "
            "deploy it, pass --stack, or set the functions' TABLE_*/QUEUE_*_URL/SECRET_* variables"
        ) from None
    from_stack = {n: outputs[_output_key(n)] for n in names if _output_key(n) in outputs}
    return from_stack | found


def export(
    stack: str | None = None, environ: MutableMapping[str, str] | None = None, topology: Topology = TOPOLOGY
) -> dict[str, str]:
    """Fill the missing resource variables into the process environment (what the adapters read)."""
    target = os.environ if environ is None else environ
    found = find_environment(stack, topology)
    for name, value in found.items():
        target.setdefault(name, value)
    return found


def _local_runtime(topology: Topology) -> dict[str, str]:
    from allegro_sync.local.provision import queue_name, secret_name, table_name

    env = {table_env(t.name): table_name(t.name) for t in topology.tables}
    env |= {secret_env(s.name): secret_name(s.name, is_prefix=s.is_prefix) for s in topology.secrets}
    sqs = boto3.client("sqs")
    for queue in topology.queues:
        try:
            env[queue_env(queue.name)] = sqs.get_queue_url(QueueName=queue_name(queue))["QueueUrl"]
            dlq = queue_name(queue, dead_letter=True)
            env[dlq_env(queue.name)] = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
        except (ClientError, BotoCoreError):
            continue  # not provisioned (is `allegro-sync local up` running?); commands that need it say so
    return env
