"""A topology with every kind of trigger, access and secret, shaped like the system the design describes.

The shipped TOPOLOGY grows over time; this one makes sure the stack handles every combination now.
"""

from __future__ import annotations

from allegro_sync.topology import (
    Access,
    Function,
    MetricAlarm,
    Queue,
    QueueTrigger,
    RouteTrigger,
    ScheduleTrigger,
    Secret,
    Table,
    Topology,
)

RW = Access.READ_WRITE
R = Access.READ

FULL = Topology(
    tables=(
        Table("control", "cursors, leases, accounts"),
        Table("catalog", "products"),
        Table("orders", "orders"),
        Table("idempotency", "powertools", ttl_attribute="expiration"),
        Table("archive", "no TTL", ttl_attribute=None),
    ),
    queues=(
        Queue("shop-events", "fifo per SKU"),
        Queue("orders", "fifo per checkout form", max_receive_count=3, retention_days=4),
        Queue("shop-outbox", "standard", fifo=False, max_receive_count=8),
        Queue("unconsumed", "nobody reads this yet", fifo=False),
    ),
    secrets=(
        Secret("app-credentials", "client id and secret"),
        Secret("webhook-signing", "HMAC"),
        Secret("accounts", "per seller", is_prefix=True),
    ),
    functions=(
        Function(
            "health",
            "GET /health",
            timeout_seconds=5,
            memory_mb=128,
            triggers=(RouteTrigger("GET", "/health"),),
        ),
        Function(
            "oauth",
            "authorization code flow",
            triggers=(RouteTrigger("GET", "/oauth/start"), RouteTrigger("GET", "/oauth/callback")),
            tables={"control": RW},
            secrets={"app-credentials": R, "accounts": RW},
        ),
        Function(
            "shop_webhook",
            "accepts shop webhooks",
            triggers=(RouteTrigger("POST", "/webhooks/shop"),),
            sends_to=("shop-events",),
            secrets={"webhook-signing": R},
            environment={"WEBHOOK_MAX_BYTES": "65536"},
        ),
        Function(
            "catalog_worker",
            "publishes offers",
            timeout_seconds=60,
            memory_mb=512,
            reserved_concurrency=5,
            triggers=(QueueTrigger("shop-events", batch_size=5),),
            tables={"catalog": RW, "control": R, "idempotency": RW},
            secrets={"app-credentials": R, "accounts": R},
            allegro_rpm=600,
        ),
        Function(
            "order_poller",
            "polls order events",
            timeout_seconds=60,
            reserved_concurrency=1,
            triggers=(ScheduleTrigger(1, "poll Allegro order events"),),
            tables={"control": RW},
            sends_to=("orders",),
            secrets={"accounts": R},
        ),
        Function(
            "order_worker",
            "applies orders",
            timeout_seconds=45,
            triggers=(QueueTrigger("orders", batch_size=1),),
            tables={"orders": RW, "catalog": R},
            sends_to=("shop-outbox",),
        ),
        Function(
            "outbox_worker",
            "delivers to the shop",
            triggers=(QueueTrigger("shop-outbox", batch_size=20, max_batching_window_seconds=5),),
            tables={"orders": R},
        ),
        Function(
            "token_refresher",
            "refreshes tokens",
            triggers=(ScheduleTrigger(30), ScheduleTrigger(720, "twice a day safety net")),
            tables={"control": RW},
            secrets={"accounts": RW, "app-credentials": R},
        ),
    ),
    alarms=(MetricAlarm("SomethingOdd", "odd things happened", threshold=3, period_minutes=15),),
)
