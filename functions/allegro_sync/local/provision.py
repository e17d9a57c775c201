"""Create the topology's AWS resources in a moto server and compute each function's environment.

This is the local twin of the CDK stack: the same tables, queues (with their DLQs and redrive
policies) and secrets, and the same environment variable *names* for every function, so a handler
that runs here finds its resources in AWS the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import boto3

from allegro_sync.topology import (
    Function,
    Queue,
    Topology,
    bucket_env,
    queue_env,
    secret_env,
    table_env,
    topic_env,
)

PREFIX = "allegro-sync"
REGION = "eu-central-1"

# Marks a secret the local runtime created as an empty placeholder, so code (and a person reading
# it in the moto dashboard) can tell "not configured yet" from a real value.
PLACEHOLDER_SECRET: dict[str, Any] = {
    "configured": False,
    "note": "placeholder created by the allegro-sync local runtime: not configured",
}

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


@dataclass(frozen=True)
class QueueWiring:
    name: str
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str
    fifo: bool
    self_renewing: bool = False  # a tick chain: never empty (topology `Queue.self_renewing`)


@dataclass(frozen=True)
class Wiring:
    """Physical names of everything provisioned, keyed by the topology's logical names."""

    endpoint: str
    region: str
    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, QueueWiring] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)  # issue 15: label PDFs
    topics: dict[str, str] = field(default_factory=dict)  # issue 15, item 4: name -> topic ARN
    # The key a function must encrypt with when it creates secrets under a prefix (as in the stack).
    kms_key_arn: str | None = None


def client(service: str, endpoint: str, region: str = REGION) -> Any:
    """A boto3 client for the local moto endpoint with fake credentials, whatever the process env says."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
    )


def table_name(logical: str) -> str:
    return f"{PREFIX}-{logical}"


def queue_name(queue: Queue, *, dead_letter: bool = False) -> str:
    base = f"{PREFIX}-{queue.name}{'-dlq' if dead_letter else ''}"
    return f"{base}.fifo" if queue.fifo else base


def secret_name(logical: str, *, is_prefix: bool) -> str:
    return f"{PREFIX}/{logical}/" if is_prefix else f"{PREFIX}/{logical}"


def create_table(dynamodb: Any, name: str, ttl_attribute: str | None = None) -> str:
    """A table of the topology's one key shape (string pk/sk, on demand), with its TTL; returns its name."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    if ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
        )
    return name


def provision(topology: Topology, endpoint: str, region: str = REGION) -> Wiring:
    """Create every table, queue (+DLQ) and secret of the topology; return where they are."""
    wiring = Wiring(endpoint=endpoint, region=region)
    dynamodb = client("dynamodb", endpoint, region)
    for table in topology.tables:
        wiring.tables[table.name] = create_table(dynamodb, table_name(table.name), table.ttl_attribute)
    sqs = client("sqs", endpoint, region)
    for queue in topology.queues:
        wiring.queues[queue.name] = _create_queue(
            sqs, region, queue, topology.visibility_timeout_seconds(queue.name)
        )
    if any(secret.is_prefix for secret in topology.secrets):
        key = client("kms", endpoint, region).create_key(Description=f"{PREFIX} seller account secrets")
        wiring = replace(wiring, kms_key_arn=key["KeyMetadata"]["Arn"])
    secrets = client("secretsmanager", endpoint, region)
    for secret in topology.secrets:
        name = secret_name(secret.section_of or secret.name, is_prefix=secret.is_prefix)
        if not secret.is_prefix and secret.section_of is None:  # a section lives in the secret holding it
            # Per-account secrets under a prefix are created by the connect flow, not up front.
            secrets.create_secret(
                Name=name, Description=secret.purpose, SecretString=json.dumps(PLACEHOLDER_SECRET)
            )
        wiring.secrets[secret.name] = name
    if topology.buckets:  # issue 15: label PDFs
        s3 = client("s3", endpoint, region)
        for bucket in topology.buckets:
            wiring.buckets[bucket.name] = bucket_name(bucket.name)
            where = {} if region == "us-east-1" else {"LocationConstraint": region}
            s3.create_bucket(Bucket=wiring.buckets[bucket.name], CreateBucketConfiguration=where)
    if topology.topics:  # issue 15, item 4: buyer messages to the seller
        sns = client("sns", endpoint, region)
        for topic in topology.topics:
            wiring.topics[topic.name] = sns.create_topic(Name=f"{PREFIX}-{topic.name}")["TopicArn"]
    return wiring


def bucket_name(logical: str) -> str:
    return f"{PREFIX}-{logical}".lower()


def _create_queue(sqs: Any, region: str, queue: Queue, visibility_timeout: int) -> QueueWiring:
    fifo_attributes = {"FifoQueue": "true"} if queue.fifo else {}
    dedup = (
        {"ContentBasedDeduplication": str(queue.content_based_deduplication).lower()} if queue.fifo else {}
    )
    dlq_url = sqs.create_queue(
        QueueName=queue_name(queue, dead_letter=True),
        Attributes={**fifo_attributes, "MessageRetentionPeriod": str(queue.dlq_retention_days * 24 * 3600)},
    )["QueueUrl"]
    dlq_arn = _arn(region, dlq_url)
    url = sqs.create_queue(
        QueueName=queue_name(queue),
        Attributes={
            **fifo_attributes,
            **dedup,
            "VisibilityTimeout": str(visibility_timeout),
            "MessageRetentionPeriod": str(queue.retention_days * 24 * 3600),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}
            ),
        },
    )["QueueUrl"]
    return QueueWiring(queue.name, url, _arn(region, url), dlq_url, dlq_arn, queue.fifo, queue.self_renewing)


def _arn(region: str, url: str) -> str:
    """`http://host/<account>/<name>` -> `arn:aws:sqs:<region>:<account>:<name>`, without a round trip."""
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def resource_environment(function: Function, wiring: Wiring) -> dict[str, str]:
    """The variables naming a function's resources: only what the topology says it may touch."""
    env = {table_env(name): wiring.tables[name] for name in function.tables}
    env.update({queue_env(name): wiring.queues[name].url for name in function.queues})
    env.update({bucket_env(name): wiring.buckets[name] for name in function.buckets})
    env.update({topic_env(name): wiring.topics[name] for name in function.topics})
    for name in function.secrets:
        env[secret_env(name)] = wiring.secrets[name]
        is_prefix = wiring.secrets[name].endswith("/")  # see secret_name
        if wiring.kms_key_arn and function.creates_secrets(name) and is_prefix:
            env[kms_key_env(name)] = wiring.kms_key_arn
    return env


def kms_key_env(secret: str) -> str:
    """Same name as `infra.naming.kms_key_env` (the package cannot import infra; a test pins them equal)."""
    return f"{secret_env(secret)}_KMS_KEY_ID"


def lambda_environment(function: Function) -> dict[str, str]:
    """What the Lambda runtime itself sets and what Powertools reads to name logs and metrics."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": f"{PREFIX}-{function.name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "POWERTOOLS_METRICS_FUNCTION_NAME": function.name,
    }


def function_environment(
    function: Function, wiring: Wiring, common: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Everything a handler sees: common settings, Lambda's own vars, its resources, its static settings."""
    return {
        **(common or {}),
        **lambda_environment(function),
        **resource_environment(function, wiring),
        **function.environment,
    }
