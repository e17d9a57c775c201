"""Names shared by the stack, its outputs and the operator CLI.

Kept in one module so the convention has exactly one definition: the CLI mirrors `output_key` to find
a deployed stack's tables, queues and secrets under the same env-var contract the Lambdas use.
"""

from __future__ import annotations

import re

from allegro_sync.topology import Secret, queue_env, secret_env, table_env

DEFAULT_STACK_NAME = "AllegroSync"
# Secrets Manager names start with this prefix; a second deployment in the same account and region
# (e.g. a sandbox next to production) picks another one with `-c namePrefix=...`.
DEFAULT_NAME_PREFIX = "allegro-sync"

API_URL_OUTPUT = "APIURL"
ALARM_TOPIC_OUTPUT = "ALARMTOPICARN"
# Scheduled runs EventBridge could not deliver or that failed every async retry (no topology queue).
SCHEDULE_DLQ_OUTPUT = "SCHEDULEDLQURL"


def secret_name(prefix: str, secret: Secret) -> str:
    """Physical secret name, e.g. `allegro-sync/app-credentials`, or for a prefix family
    `allegro-sync/accounts/` (each seller account's secret is `allegro-sync/accounts/<account id>`)."""
    base = f"{prefix}/{secret.section_of or secret.name}"  # a section: the secret that holds it
    return f"{base}/" if secret.is_prefix else base


def output_key(env_var: str) -> str:
    """CloudFormation output key for a resource: its env var without underscores, e.g. `TABLECONTROL`.

    Output keys must be alphanumeric; dropping underscores keeps them readable and reversible enough
    for the CLI, which computes the same key from `table_env`/`queue_env`/`secret_env`.
    """
    return env_var.replace("_", "")


def table_output_key(table: str) -> str:
    return output_key(table_env(table))


def queue_output_key(queue: str) -> str:
    return output_key(queue_env(queue))


def dlq_output_key(queue: str) -> str:
    """The dead-letter queue URL of `queue`, e.g. `QUEUESHOPEVENTSDLQURL` (for replaying messages)."""
    return output_key(queue_env(queue)).removesuffix("URL") + "DLQURL"


def secret_output_key(secret: str) -> str:
    return output_key(secret_env(secret))


def kms_key_env(secret: str) -> str:
    """Env var carrying the KMS key ARN a function must use when it creates secrets under a prefix."""
    return f"{secret_env(secret)}_KMS_KEY_ID"


def construct_id(name: str) -> str:
    """`shop-events` / `order_poller` -> `ShopEvents` / `OrderPoller`: stable, readable logical ids."""
    return "".join(part.capitalize() for part in re.split(r"[-_]", name) if part)
