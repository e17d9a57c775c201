"""Small topologies for the local runtime's own tests: short queues, test handlers."""

from __future__ import annotations

from typing import Any

from allegro_sync.topology import (
    Access,
    Function,
    Queue,
    QueueTrigger,
    RouteTrigger,
    ScheduleTrigger,
    Secret,
    Table,
    Topology,
)

HANDLERS = "tests.integration.local.handlers"


def consumer(name: str, description: str, queue: str, **options: Any) -> Function:
    """A test worker on `queue`, ten messages a batch, writing what it processed to the ledger table."""
    triggers = (QueueTrigger(queue, batch_size=10),)
    return Function(name, description, triggers=triggers, tables={"ledger": Access.READ_WRITE}, **options)


QUEUES = Topology(
    tables=(Table("ledger", "what the workers processed"), Table("leases", "unused", ttl_attribute=None)),
    queues=(
        Queue("plain", "standard queue", fifo=False, max_receive_count=3),
        Queue("ordered", "FIFO queue, group = SKU", max_receive_count=3),
        Queue("careless", "FIFO queue consumed by a handler that ignores order", max_receive_count=2),
        Queue("outbox", "nobody consumes it", fifo=False),
    ),
    secrets=(
        Secret("app-credentials", "client id and secret"),
        Secret("accounts", "one per seller", is_prefix=True),
    ),
    functions=(
        consumer(
            "flaky",
            "standard queue consumer",
            "plain",
            timeout_seconds=10,
            sends_to=("outbox",),
            secrets={"accounts": Access.READ_WRITE, "app-credentials": Access.READ},
            environment={"SHOP_NAME": "test-shop"},
        ),
        consumer("fifo_worker", "FIFO consumer", "ordered", timeout_seconds=20),
        consumer("careless_fifo", "FIFO consumer that keeps going after a failure", "careless"),
        Function(
            "recorder",
            "HTTP and schedule target that records its events",
            timeout_seconds=3,
            memory_mb=512,
            triggers=(
                RouteTrigger("POST", "/echo/{name}"),
                RouteTrigger("GET", "/echo/special"),
                RouteTrigger("GET", "/plain"),
                RouteTrigger("GET", "/boom"),
                ScheduleTrigger(rate_minutes=1),
            ),
            secrets={"accounts": Access.READ},
        ),
    ),
)

MODULES = {f.name: f"{HANDLERS}.{f.name}" for f in QUEUES.functions}
