"""Where the deployment lives, for any operator command: its `Settings`, and the `Application` over them.

An operator command runs the functions' own use cases, so it needs what a function gets: its tables,
queues and secrets (`TABLE_*`, `QUEUE_*_URL`, `SECRET_*`, plus the DLQs). They come, per variable, from:
1. the process environment (`Settings.from_environ()`: an operator may point at anything explicitly);
2. the outputs of the CloudFormation stack `--stack` (env `ALLEGRO_SYNC_STACK`, default `AllegroSync`):
   output keys are the env var names without underscores (infra/naming.py `output_key`), plus `APIURL`
   and the accounts' KMS key;
3. with `AWS_ENDPOINT_URL` set and no readable stack: the local runtime's names (`allegro-sync local up`).
`application(stack)` turns the result into the `bootstrap.Application` every command works with.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Annotated

import typer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from allegro_sync.bootstrap import Application
from allegro_sync.custody import RECOVERY_QUEUE
from allegro_sync.settings import API_URL_ENV, KMS_KEY_ENV, Settings
from allegro_sync.topology import TOPOLOGY, Topology, bucket_env, dlq_env, queue_env, secret_env, table_env

DEFAULT_STACK = "AllegroSync"
API_URL_OUTPUT = "APIURL"  # infra/naming.py API_URL_OUTPUT
LOCAL_API_URL = "http://127.0.0.1:8080"  # `allegro-sync local up`'s default gateway
# A command's own Allegro budget: a few reads (a review reads every offer once), far below Allegro's
# 9,000/min for the whole Client ID; an operator never waits on the 60/min fallback.
CLI_RPM_BUDGET = 300
# The `--stack` option of every operator command that works on a deployment.
StackOption = Annotated[str | None, typer.Option(help="CloudFormation stack name (env ALLEGRO_SYNC_STACK).")]


class DeploymentNotFound(LookupError):
    """No environment, no readable stack, no local runtime: the operator must say where to work."""


def resource_variables(topology: Topology = TOPOLOGY) -> list[str]:
    """Every env var name a function (or an operator command, for the DLQs) needs to find a resource."""
    return (
        [table_env(t.name) for t in topology.tables]
        + [queue_env(q.name) for q in topology.queues]
        + [dlq_env(q.name) for q in topology.queues]
        + [secret_env(s.name) for s in topology.secrets]
        + [bucket_env(b.name) for b in topology.buckets]
    )


def function_variables(function: str, topology: Topology = TOPOLOGY, *, secrets: bool = True) -> list[str]:
    """The resource variables `function` runs with (provision.py `resource_environment`, without KMS);
    without its `secrets` for a command that reads its tables but never calls Allegro. The token-recovery
    queue is not required: an operator's refresh without it falls back to the scheduled refresher."""
    spec = topology.function(function)
    return (
        [table_env(t) for t in spec.tables]
        + [queue_env(q) for q in spec.sends_to if q != RECOVERY_QUEUE]
        + ([secret_env(s) for s in spec.secrets] if secrets else [])
    )


def _output_key(env_var: str) -> str:
    """Same rule as infra/naming.py `output_key` (infra is not part of the installed package)."""
    return env_var.replace("_", "")


def _variables(settings: Settings) -> dict[str, str]:
    """The resource variables `settings` already knows, under the functions' names."""
    return (
        {table_env(name): value for name, value in settings.tables.items()}
        | {queue_env(name): value for name, value in settings.queues.items()}
        | {dlq_env(name): value for name, value in settings.dead_letter_queues.items()}
        | {secret_env(name): value for name, value in settings.secrets.items()}
        | {bucket_env(name): value for name, value in settings.buckets.items()}
    )


def find_environment(
    stack: str | None = None,
    topology: Topology = TOPOLOGY,
    *,
    process: Settings | None = None,
    needed: Collection[str] | None = None,
) -> dict[str, str]:
    """The env-var mapping for ALL topology resources (only what is known; explicit variables win).

    `process` is the operator's own settings (default: this process's environment). When every variable
    in `needed` (default: all of them) is explicit, no stack is read. A readable stack also gives the API
    URL and the accounts' KMS key; the local runtime gives its gateway's URL.
    """
    process = process if process is not None else Settings.from_environ(topology=topology)
    names = resource_variables(topology)
    found = _variables(process)
    if all(n in found for n in (names if needed is None else needed)):
        return found
    stack_name = stack or process.stack_name or DEFAULT_STACK
    aws = Application(process)
    try:
        # One try: an endpoint that refuses the connection (the local stack down) is said at once, not
        # after botocore's ~12 s of retries.
        probe = aws.session().client(
            "cloudformation",
            endpoint_url=process.aws_endpoint_url,
            config=Config(retries={"total_max_attempts": 1}),
        )
        described = probe.describe_stacks(StackName=stack_name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    except (ClientError, BotoCoreError, IndexError, KeyError) as exc:
        if process.aws_endpoint_url and isinstance(exc, EndpointConnectionError):
            raise DeploymentNotFound(
                f"cannot find the deployment: nothing answers at {process.aws_endpoint_url} "
                "(AWS_ENDPOINT_URL): is `allegro-sync local up` running?"
            ) from None
        if process.aws_endpoint_url:
            return _local_runtime(aws, topology) | found
        required = [n for n in names if not n.endswith("_DLQ_URL")] if needed is None else needed
        missing = sorted(n for n in required if n not in found)
        if not missing:
            return found  # every function variable given: only the DLQs (operator-only) are unknown
        generic = "the functions' TABLE_*/QUEUE_*_URL/SECRET_* variables"
        what = generic if needed is None else ", ".join(missing)
        raise DeploymentNotFound(
            f"cannot find the deployment: stack {stack_name!r} is not readable ({type(exc).__name__}); "
            f"deploy it, pass --stack, or set {what}"
        ) from None
    from_stack = {n: outputs[_output_key(n)] for n in names if _output_key(n) in outputs}
    from_stack |= {
        n: outputs[key]
        for n, key in ((API_URL_ENV, API_URL_OUTPUT), (KMS_KEY_ENV, _output_key(KMS_KEY_ENV)))
        if outputs.get(key)
    }
    app_credentials = (from_stack | found).get(secret_env("app-credentials"))
    if KMS_KEY_ENV not in from_stack and app_credentials:
        key = _stack_key(aws, app_credentials)
        if key:
            from_stack[KMS_KEY_ENV] = key
    return from_stack | found


def find_settings(
    stack: str | None = None,
    *,
    function: str | None = None,
    needed: Collection[str] | None = None,
    process: Settings | None = None,
    topology: Topology = TOPOLOGY,
) -> Settings:
    """The operator's settings with the deployment's resources filled in (see the module docstring).

    With `function`, the settings are that function's as it runs in the deployment: only its resources,
    its static settings (e.g. its Allegro budget) unless the operator set them, and only its variables
    are `needed` when no stack is readable (default: every function variable).
    """
    process = process if process is not None else Settings.from_environ(topology=topology)
    if needed is None and function:
        needed = function_variables(function, topology)
    found = find_environment(stack, topology, process=process, needed=needed)
    resources = Settings.from_environ(found, topology=topology)
    settings = process.model_copy(
        update={
            "tables": resources.tables,
            "queues": resources.queues,
            "dead_letter_queues": resources.dead_letter_queues,
            "secrets": resources.secrets,
            "buckets": resources.buckets,
            "kms_key_id": process.kms_key_id or resources.kms_key_id,
            "api_url": process.api_url or resources.api_url,
        }
    )
    if function is None:
        return settings
    spec = topology.function(function)
    static = Settings.from_environ(spec.environment, topology=topology)
    return settings.model_copy(
        update={
            "tables": {k: v for k, v in settings.tables.items() if k in spec.tables},
            "queues": {k: v for k, v in settings.queues.items() if k in spec.sends_to},
            "dead_letter_queues": {},
            "secrets": {k: v for k, v in settings.secrets.items() if k in spec.secrets},
            "allegro_rpm_budget": settings.allegro_rpm_budget or static.allegro_rpm_budget,
        }
    )


def application(
    stack: str | None = None,
    *,
    function: str | None = None,
    needed: Collection[str] | None = None,
    rpm_budget: int | None = CLI_RPM_BUDGET,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Application:
    """The composition root over the deployment, for one command; exits with one clear line if not found.

    `function` and `needed` as for `find_settings`. `rpm_budget` is the command's own Allegro budget
    (None: the settings', e.g. `function`'s); the guard still honours the deployment's shared "blocked
    until" record in the control table.
    """
    try:
        settings = find_settings(stack, function=function, needed=needed)
    except DeploymentNotFound as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    if rpm_budget is not None:
        settings = settings.model_copy(update={"allegro_rpm_budget": rpm_budget})
    return Application(settings, now=now, sleep=sleep)


def _stack_key(aws: Application, app_credentials_secret: str) -> str | None:
    """The stack's KMS key, read off the secret the stack encrypted with it (account secrets use it too)."""
    try:
        described = aws.aws_client("secretsmanager").describe_secret(SecretId=app_credentials_secret)
    except (ClientError, BotoCoreError):
        return None
    key = described.get("KmsKeyId")
    return str(key) if key else None


def _local_runtime(aws: Application, topology: Topology) -> dict[str, str]:
    from allegro_sync.local.provision import bucket_name, queue_name, secret_name, table_name

    env = {table_env(t.name): table_name(t.name) for t in topology.tables}
    env |= {
        secret_env(s.name): secret_name(s.section_of or s.name, is_prefix=s.is_prefix)
        for s in topology.secrets
    }
    env |= {bucket_env(b.name): bucket_name(b.name) for b in topology.buckets}
    env[API_URL_ENV] = LOCAL_API_URL
    sqs = aws.aws_client("sqs")
    for queue in topology.queues:
        try:
            env[queue_env(queue.name)] = sqs.get_queue_url(QueueName=queue_name(queue))["QueueUrl"]
            dlq = queue_name(queue, dead_letter=True)
            env[dlq_env(queue.name)] = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
        except (ClientError, BotoCoreError):
            continue  # not provisioned (is `allegro-sync local up` running?); commands that need it say so
    return env
