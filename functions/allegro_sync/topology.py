"""The one declarative description of the deployed system.

Both the CDK stack (`infra/`) and the local runtime (`allegro_sync.local`) are generated from
`TOPOLOGY`, so the wiring in AWS and the wiring on a laptop cannot drift apart. Adding a function
means one `Function` entry here plus its handler module under `allegro_sync.handlers`.

Naming contract shared by both worlds: a function finds its resources through environment
variables named by `table_env`, `queue_env` and `secret_env`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeVar

# Lambda needs the queue's visibility timeout to be at least six times the function timeout
# (AWS guidance for SQS event sources), so a message is not handed to a second invocation
# while the first still works on it.
VISIBILITY_TIMEOUT_FACTOR = 6

# Allegro blocks the whole Client ID for a minute past 9,000 requests/minute (all sellers together).
ALLEGRO_CLIENT_RPM_LIMIT = 9_000
ALLEGRO_RPM_BUDGET_ENV = "ALLEGRO_RPM_BUDGET"
ALLEGRO_BURST_RPM_ENV = "ALLEGRO_BURST_RPM"


class Access(StrEnum):
    """Shorthand grants (every read, or every read and write action); the shipped topology names exact
    actions with `Uses` instead."""

    READ = "read"
    READ_WRITE = "read_write"


# The IAM actions a function may be granted on a table or a secret, without the service prefix. Each
# shorthand expands to a fixed set; `Uses` picks exactly the calls a function makes.
TABLE_READ_ACTIONS = ("GetItem", "BatchGetItem", "Query", "Scan", "ConditionCheckItem", "DescribeTable")
TABLE_WRITE_ACTIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
SECRET_READ_ACTIONS = ("GetSecretValue", "DescribeSecret")
# Only a function granted CreateSecret may add a secret to a prefix family (the oauth flow).
SECRET_WRITE_ACTIONS = ("CreateSecret", "PutSecretValue", "UpdateSecret", "TagResource")


@dataclass(frozen=True, init=False)
class Uses:
    """Exactly these IAM actions on one table or secret, e.g. `Uses("GetItem", "Query")`.

    Least privilege per function: the stack grants these and nothing else, the local runtime refuses any
    other call (`local/iam.py`), and `tests/infra/test_least_privilege.py` compares the template with it.
    """

    actions: tuple[str, ...]

    def __init__(self, *actions: str) -> None:
        if not actions:
            raise ValueError("Uses() needs at least one action; leave the resource out instead")
        object.__setattr__(self, "actions", tuple(sorted(set(actions))))


Grant = Access | Uses


def table_actions(grant: Grant) -> tuple[str, ...]:
    """The DynamoDB actions (`dynamodb:GetItem`, ...) a table grant stands for."""
    return _actions("dynamodb", grant, TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS)


def secret_actions(grant: Grant) -> tuple[str, ...]:
    """The Secrets Manager actions a secret grant stands for."""
    return _actions("secretsmanager", grant, SECRET_READ_ACTIONS, SECRET_WRITE_ACTIONS)


def writes(actions: tuple[str, ...]) -> bool:
    """Whether any of the actions stores data (so the function must encrypt with the stack's key)."""
    reads = {f"dynamodb:{a}" for a in TABLE_READ_ACTIONS} | {
        f"secretsmanager:{a}" for a in SECRET_READ_ACTIONS
    }
    return any(action not in reads for action in actions)


def _actions(service: str, grant: Grant, read: tuple[str, ...], write: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(grant, Uses):
        unknown = sorted(set(grant.actions) - {*read, *write})
        if unknown:
            raise ValueError(f"not a {service} action this project grants: {unknown}")
        names: tuple[str, ...] = grant.actions
    else:
        names = read + (write if grant is Access.READ_WRITE else ())
    return tuple(f"{service}:{name}" for name in names)


@dataclass(frozen=True)
class Table:
    """A DynamoDB table with a string partition key `pk` and sort key `sk`.

    Every table has the same key shape so repositories stay uniform; `expires_at` (epoch seconds)
    is the TTL attribute for items that must disappear on their own (OAuth state, leases).
    """

    name: str
    purpose: str
    ttl_attribute: str | None = "expires_at"


@dataclass(frozen=True)
class Queue:
    """An SQS queue with its dead-letter queue. FIFO queues keep per-group order (group = SKU, order)."""

    name: str
    purpose: str
    fifo: bool = True
    max_receive_count: int = 5
    retention_days: int = 14
    content_based_deduplication: bool = False
    # How long a failed message waits in the dead-letter queue for an operator (SQS allows 1 min-14 days).
    dlq_retention_days: int = 14
    # Its messages carry buyers' personal data: `buyers forget` looks through it and its DLQ.
    personal_data: bool = False
    # A tick chain: its consumer re-sends each message to it, delayed, so it is never empty. The local
    # runtime's `drain` neither waits for it nor runs it (`LocalRuntime.next_tick` does).
    self_renewing: bool = False
    # Issue 21 (idle): a message in its DLQ is something the seller must hear about, so a default stack
    # alarms on it; False where another path repairs the loss on its own: alarmed only with
    # `-c detailedAlarms=true` (CloudWatch bills $0.10 a month per watched metric, idle or not).
    dlq_alarm: bool = True


@dataclass(frozen=True)
class Secret:
    """A Secrets Manager secret (or a family of them under a name prefix, one per seller account)."""

    name: str
    purpose: str
    is_prefix: bool = False
    # issue 21: a section of another secret (one JSON object, a key per section; adapters/config_secret.py).
    # Functions are granted the secret that holds it; its env var names that secret.
    section_of: str | None = None


# --- issue 15, item 1 (labels): S3 buckets ----------------------------------------------------------------
# The object actions a function may be granted on a bucket (`Function.buckets`): exactly what it calls.
BUCKET_ACTIONS = ("GetObject", "PutObject", "DeleteObject")


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket: encrypted with the stack's key, no public access, objects expired after
    `expire_days` (what it holds may name a buyer: docs/privacy.md)."""

    name: str
    purpose: str
    expire_days: int = 7


def bucket_actions(actions: tuple[str, ...]) -> tuple[str, ...]:
    """The S3 actions (`s3:PutObject`, ...) a bucket grant stands for."""
    return _granted("s3", actions, BUCKET_ACTIONS)


def _granted(service: str, actions: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(actions) - set(allowed))
    if unknown or not actions:
        raise ValueError(f"not an {service} action this project grants: {unknown or 'none given'}")
    return tuple(f"{service}:{a}" for a in sorted(set(actions)))


def bucket_env(name: str) -> str:
    """Environment variable holding the physical bucket name, e.g. `BUCKET_LABELS`."""
    return f"BUCKET_{name.upper().replace('-', '_')}"


# --- issue 15, item 4 (buyer messages): SNS topics to the seller ------------------------------------------
TOPIC_ACTIONS = ("Publish",)


@dataclass(frozen=True)
class Topic:
    """An SNS topic to the seller, encrypted with the stack's key; `email_context`: the CDK context key whose
    e-mail address the stack subscribes (`-c messagesEmail=...`), none when it is not given."""

    name: str
    purpose: str
    email_context: str | None = None


def topic_actions(actions: tuple[str, ...]) -> tuple[str, ...]:
    """The SNS actions (`sns:Publish`) a topic grant stands for."""
    return _granted("sns", actions, TOPIC_ACTIONS)


def topic_env(name: str) -> str:
    """Environment variable holding the topic's ARN, e.g. `TOPIC_SELLER_MESSAGES_ARN`."""
    return f"TOPIC_{name.upper().replace('-', '_')}_ARN"


@dataclass(frozen=True)
class QueueTrigger:
    queue: str
    batch_size: int = 10
    # Standard queues may wait to fill a batch; FIFO event sources do not support a batching window.
    max_batching_window_seconds: int = 0


@dataclass(frozen=True)
class ScheduleTrigger:
    """Fires the function on a fixed rate. `rate_minutes` maps to `rate(N minutes)` in EventBridge.

    `rate_context`: the CDK context key (`-c key=N`) a seller sets another rate with; the local runtime takes
    the same key (`LocalRuntime(schedule_minutes={key: N})`).
    """

    rate_minutes: int
    description: str = ""
    rate_context: str | None = None


@dataclass(frozen=True)
class RouteTrigger:
    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str


Trigger = QueueTrigger | ScheduleTrigger | RouteTrigger


@dataclass(frozen=True)
class MetricAlarm:
    """Alarm (to the stack's SNS topic) when a business metric sums above `threshold` in a period.

    The metrics are `adapters/alarm_metrics.py`'s five (issue 21: every other count is a log field), in
    the `AllegroSync` namespace with the `service` dimension only, so one alarm covers a metric whichever
    function emits it. Dead-letter queues and the API's 5xx are alarmed without being listed here.
    """

    metric: str
    description: str
    threshold: float = 0
    period_minutes: int = 5


@dataclass(frozen=True)
class Function:
    """One Lambda function: its handler, its limits, what wakes it and what it may touch."""

    name: str
    purpose: str
    timeout_seconds: int = 30
    memory_mb: int = 256
    reserved_concurrency: int | None = None
    triggers: tuple[Trigger, ...] = ()
    # What it may do on each table and secret: a shorthand `Access` or exactly the actions it uses (`Uses`).
    tables: dict[str, Grant] = field(default_factory=dict)
    sends_to: tuple[str, ...] = ()
    secrets: dict[str, Grant] = field(default_factory=dict)
    # Seller settings given at deploy time (env var names, e.g. OFFER_SETTINGS) that this function receives;
    # CDK fills them from context, the local runtime from its `env`.
    deploy_settings: tuple[str, ...] = ()
    # Static settings for this function's environment, applied identically by CDK and the local runtime.
    environment: dict[str, str] = field(default_factory=dict)
    # Allegro requests per minute ONE concurrent instance may send (its share of the app-wide 9,000/min);
    # 0 = the function never calls Allegro. Lands in `environment` as ALLEGRO_RPM_BUDGET.
    allegro_rpm: int = 0
    # Sends to the queue it consumes on purpose (a tick chain): Lambda's recursive loop detection would
    # stop it after a few rounds, so the stack sets RecursiveLoop=Allow on this function only.
    recursive_loop: bool = False
    # Bulk work (the catalogue import): ONE instance's pace while the shared pool has room; it draws only
    # on what the latency-critical functions leave (adapters/allegro/shared_budget.py). 0 = not bulk: the
    # function paces at `allegro_rpm` and may use the pool's reserve. Lands in `environment` as
    # ALLEGRO_BURST_RPM.
    allegro_burst_rpm: int = 0
    # issue 15: S3 object actions per bucket, e.g. {"labels": ("PutObject", "GetObject")}.
    buckets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # issue 15, item 4: SNS actions per topic, e.g. {"seller-messages": ("Publish",)}.
    topics: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.allegro_rpm < 0:
            raise ValueError(f"{self.name}: allegro_rpm must be >= 0")
        if self.allegro_burst_rpm and self.allegro_burst_rpm < self.allegro_rpm:
            raise ValueError(f"{self.name}: allegro_burst_rpm must be 0 or at least allegro_rpm")
        if self.allegro_burst_rpm and not self.allegro_rpm:
            raise ValueError(f"{self.name}: a bulk Allegro caller needs allegro_rpm (its static fallback)")
        if self.allegro_rpm:
            object.__setattr__(self, "environment", {**self.environment, **self.allegro_rpm_env()})
        for grant in self.tables.values():
            table_actions(grant)  # an unknown action fails here, at import, naming itself
        for grant in self.secrets.values():
            secret_actions(grant)
        for actions in self.buckets.values():
            bucket_actions(actions)
        for actions in self.topics.values():
            topic_actions(actions)

    def creates_secrets(self, name: str) -> bool:
        """Whether this function may add secrets under `name` (it then needs the key they are made with)."""
        grant = self.secrets.get(name)
        return grant is not None and "secretsmanager:CreateSecret" in secret_actions(grant)

    @property
    def queues(self) -> tuple[str, ...]:
        """The queues named in this function's environment: those it sends to, then those it consumes
        (a consumer sets its failed records' visibility on its own queue: adapters/redelivery.py)."""
        consumed = tuple(t.queue for t in self.triggers if isinstance(t, QueueTrigger))
        return self.sends_to + tuple(q for q in consumed if q not in self.sends_to)

    def allegro_rpm_env(self) -> dict[str, str]:
        """The environment entry the Allegro client reads its per-instance request budget from."""
        burst = {ALLEGRO_BURST_RPM_ENV: str(self.allegro_burst_rpm)} if self.allegro_burst_rpm else {}
        return {ALLEGRO_RPM_BUDGET_ENV: str(self.allegro_rpm), **burst} if self.allegro_rpm else {}

    @property
    def allegro_rpm_at_full_concurrency(self) -> int | None:
        """Worst-case Allegro requests/minute of this function (None: unbounded, no reserved concurrency)."""
        if not self.allegro_rpm:
            return 0
        return None if self.reserved_concurrency is None else self.allegro_rpm * self.reserved_concurrency

    @property
    def handler(self) -> str:
        """The Lambda handler string; the module lives in `allegro_sync.handlers`."""
        return f"allegro_sync.handlers.{self.name}.handler"

    @property
    def module(self) -> str:
        return f"allegro_sync.handlers.{self.name}"


@dataclass(frozen=True)
class Topology:
    tables: tuple[Table, ...]
    queues: tuple[Queue, ...]
    secrets: tuple[Secret, ...]
    functions: tuple[Function, ...]
    alarms: tuple[MetricAlarm, ...] = ()
    buckets: tuple[Bucket, ...] = ()  # issue 15: label PDFs
    topics: tuple[Topic, ...] = ()  # issue 15, item 4: buyer messages to the seller

    def table(self, name: str) -> Table:
        return _by_name(self.tables, name)

    def queue(self, name: str) -> Queue:
        return _by_name(self.queues, name)

    def secret(self, name: str) -> Secret:
        return _by_name(self.secrets, name)

    def stored_secret(self, name: str) -> Secret:
        """The secret that holds `name`: itself, or the one it is a section of (issue 21)."""
        secret = self.secret(name)
        return self.secret(secret.section_of) if secret.section_of else secret

    def stored_secrets(self) -> tuple[Secret, ...]:
        """The secrets that exist in Secrets Manager (sections live inside one of them)."""
        return tuple(s for s in self.secrets if s.section_of is None)

    def function(self, name: str) -> Function:
        return _by_name(self.functions, name)

    def queue_consumer(self, queue_name: str) -> Function | None:
        for function in self.functions:
            if any(isinstance(t, QueueTrigger) and t.queue == queue_name for t in function.triggers):
                return function
        return None

    def visibility_timeout_seconds(self, queue_name: str) -> int:
        """Six times the consumer's timeout, or 30 s for a queue nobody consumes (yet)."""
        consumer = self.queue_consumer(queue_name)
        return VISIBILITY_TIMEOUT_FACTOR * consumer.timeout_seconds if consumer else 30

    def routes(self) -> list[tuple[RouteTrigger, Function]]:
        return [(t, f) for f in self.functions for t in f.triggers if isinstance(t, RouteTrigger)]

    def schedules(self) -> list[tuple[ScheduleTrigger, Function]]:
        return [(t, f) for f in self.functions for t in f.triggers if isinstance(t, ScheduleTrigger)]

    def allegro_rpm_total(self) -> int:
        """Worst-case Allegro requests/minute of the whole app: every caller at its concurrency cap."""
        totals = [f.allegro_rpm_at_full_concurrency for f in self.functions]
        unbounded = [f.name for f, t in zip(self.functions, totals, strict=True) if t is None]
        if unbounded:
            raise ValueError(f"functions calling Allegro need reserved_concurrency: {unbounded}")
        return sum(t or 0 for t in totals)


_Named = TypeVar("_Named", Table, Queue, Secret, Function)


def _by_name(items: tuple[_Named, ...], name: str) -> _Named:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {name!r} in the topology")


def _env_key(name: str) -> str:
    return name.upper().replace("-", "_")


def table_env(name: str) -> str:
    """Environment variable holding the physical table name, e.g. `TABLE_CONTROL`."""
    return f"TABLE_{_env_key(name)}"


def queue_env(name: str) -> str:
    """Environment variable holding the queue URL, e.g. `QUEUE_SHOP_EVENTS_URL`."""
    return f"QUEUE_{_env_key(name)}_URL"


def dlq_env(name: str) -> str:
    """Env var holding a queue's dead-letter queue URL, e.g. `QUEUE_ORDERS_DLQ_URL` (operator tools only)."""
    return queue_env(name).removesuffix("_URL") + "_DLQ_URL"


def secret_env(name: str) -> str:
    """Environment variable holding the secret's name (or name prefix), e.g. `SECRET_APP_CREDENTIALS`."""
    return f"SECRET_{_env_key(name)}"


RW = Access.READ_WRITE
R = Access.READ

# The shipped functions' grants, by what their repositories call (items are read by key or by partition,
# never scanned, unless a `Scan` is named; batch writes and DescribeTable are for the operator's CLI).
# The local runtime refuses anything else (local/iam.py), so every integration test checks these.
READS = Uses("GetItem", "Query")
ITEMS = Uses("GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem")
# A sweep (issue 21) reads a page's items 100 at a time, eventually consistent, instead of one GetItem each.
SWEEP_ITEMS = Uses(*ITEMS.actions, "BatchGetItem")
SWEEP_READS = Uses(*READS.actions, "BatchGetItem")
SECRET = Uses("GetSecretValue")
# A seller's tokens: read, and rotate in place (PutSecretValue). Only the oauth flow creates a secret.
TOKENS = Uses("GetSecretValue", "PutSecretValue")
NEW_ACCOUNTS = Uses("GetSecretValue", "PutSecretValue", "CreateSecret", "TagResource")

TOPOLOGY = Topology(
    tables=(
        Table(
            "control", "Cursors, leases, the app-wide Allegro 'blocked until' record, OAuth state, accounts"
        ),
        Table("catalog", "Shop products by SKU (versioned), offer links per account, product status"),
        Table("mappings", "Shop category -> Allegro category and parameter mappings, pricing rules"),
        Table("ledger", "Stock ledger per SKU: shop level, unconfirmed sales, what each offer should show"),
        # TTL (`expires_at`) removes what is kept only for a while: the buyer's data, shop delivery marks.
        Table("orders", "Imported orders and applied order events, for exactly-once processing"),
        Table("changes", "Every change made on Allegro, with its reason (who changed this price, and why)"),
        Table("idempotency", "Powertools idempotency records", ttl_attribute="expiration"),
    ),
    queues=(
        Queue("shop-events", "Shop webhooks, in order per SKU (group = SKU)"),
        Queue("orders", "Allegro order events, in order per checkout form (group = checkout form id)"),
        Queue(
            "shop-outbox",
            "Orders and stock changes to deliver to the shop",
            fifo=False,
            # The shop notifier brings a record back on the next tick of a probe clock whose step is the
            # largest power of two not over a quarter of the time it has been failing, 2 s to 256 s
            # (adapters/redelivery.py, D15): receives at 0, 2, 4 ... 16, then every 4 s to 32 s, every
            # 8 s to 64 s ... every 256 s from 1,024 s (41-49 in the first hour, by phase); 48 receives
            # span 54-88 min before the DLQ, about the 8 x 6 min the visibility timeout alone gave. If
            # setting the visibility fails, each retry waits the 6 min timeout instead: at most ~5 h.
            max_receive_count=48,
            # Its orders refer to the buyer's data on the orders table (the notifier reads it there; it has
            # no Allegro access); messages queued before that carried the buyer's name, address and phone,
            # so `buyers forget` still walks it. Kept no longer than a shop outage needs (docs/privacy.md).
            retention_days=4,
            dlq_retention_days=7,
            personal_data=True,
        ),
        Queue("fulfillment", "Shop order status and parcels -> the Allegro order (group = checkout form)"),
        Queue(
            "stock-changes",
            "'SKU is at ledger revision N' after an order moved it, for propagation (group = SKU)",
            dlq_alarm=False,  # issue 21: the reconciler repairs Allegro vs ledger drift every 15 min
        ),
        Queue(
            "token-recovery",
            "Delayed 'finish or redo this refresh' notes, sent before every refresh calls Allegro",
            # Standard: only standard queues delay each message on its own. A recovery is useless once
            # Allegro's 60 s grace is over, so 5 receives (5 s, 10 s, 20 s, 40 s back-off) and a day.
            fifo=False,
            retention_days=1,
            dlq_retention_days=1,
            dlq_alarm=False,  # issue 21: a refresh past the grace ends in invalid_grant: AccountDisconnected
        ),
        Queue(
            "poll-tick",
            "The order poller's tick: each one polls every account once and re-sends itself, delayed",
            # Standard: only standard queues delay each message on its own. A tick is worth nothing a
            # minute later (the watchdog starts a new chain): a day, and a day in the DLQ.
            fifo=False,
            retention_days=1,
            dlq_retention_days=1,
            self_renewing=True,
            dlq_alarm=False,  # issue 21: the watchdog starts a new chain within minutes
        ),
        Queue(
            "stock-rechecks",
            "Delayed 'read this SKU's level from the shop again' notes: a sale the ledger is in doubt about",
            # Standard: only standard queues delay each message on its own (~11 s after the shop's
            # acknowledgement). A failed read backs off 5 s, 10 s, 20 s ...; the sale stays subtracted
            # meanwhile (too little shown, never too much), so 5 receives and a day are enough.
            fifo=False,
            retention_days=1,
            dlq_retention_days=1,
            dlq_alarm=False,  # issue 21: the sale stays subtracted (safe side); the shop reconciler re-reads
        ),
    ),
    secrets=(
        Secret("app-credentials", "Allegro application client id and secret", section_of="config"),
        Secret("webhook-signing", "HMAC secret the shop signs its webhooks with", section_of="config"),
        Secret("accounts", "One secret per connected seller account, under this name prefix", is_prefix=True),
        Secret(
            "shop-credentials",
            "The shop orders go to: kind generic (url, signing_secret), woocommerce, prestashop or shopify",
            section_of="config",
        ),
        # issue 21: the three above in one secret ($0.40 a month each); the account secrets stay apart
        Secret("config", "The configuration: app-credentials, webhook-signing, shop-credentials sections"),
    ),
    functions=(
        Function(
            "health",
            "Answers GET /health so an operator (and the shop) can check the API is up",
            timeout_seconds=5,
            memory_mb=128,
            triggers=(RouteTrigger("GET", "/health"),),
        ),
        Function(
            "oauth",
            "Browser connection of a seller account: signed start link -> Allegro (PKCE) -> callback",
            timeout_seconds=15,
            triggers=(RouteTrigger("GET", "/oauth/start"), RouteTrigger("GET", "/oauth/callback")),
            tables={"control": ITEMS},
            secrets={"app-credentials": SECRET, "accounts": NEW_ACCOUNTS},
            sends_to=("token-recovery",),
        ),
        Function(
            "token_refresher",
            "Keeps every seller's tokens fresh and finishes refreshes whose refresher died (60 s grace)",
            # Every minute: a refresher that died after Allegro rotated the pair is redone inside the
            # old refresh token's 60 s grace. An idle run is one DynamoDB query.
            timeout_seconds=60,
            reserved_concurrency=1,
            triggers=(ScheduleTrigger(rate_minutes=1, description="refresh due and orphaned tokens"),),
            tables={"control": ITEMS},
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
            sends_to=("token-recovery",),
        ),
        Function(
            "token_recovery",
            "Finishes or redoes a refresh whose refresher died, inside Allegro's 60 s grace (delayed SQS)",
            timeout_seconds=60,
            reserved_concurrency=1,
            triggers=(QueueTrigger("token-recovery", batch_size=10),),
            tables={"control": ITEMS},
            sends_to=("token-recovery",),  # a recovery is a refresh: it schedules its own recovery first
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
        ),
        Function(
            "shop_webhook",
            "Shop webhooks in (generic signed JSON, WooCommerce, Shopify): verify, de-duplicate, queue",
            # A WooCommerce variation's delivery reads its parent from the shop (5 s timeout per read, a
            # few pages of variations at most); API Gateway answers the shop itself after 30 s.
            timeout_seconds=25,
            # Caps what a bulk edit in the shop (hundreds of webhooks at once) can take from the account;
            # one call is a few tens of ms, so 10 instances absorb well over 100 deliveries/s.
            reserved_concurrency=10,
            triggers=(
                RouteTrigger("POST", "/webhooks/shop"),
                RouteTrigger("POST", "/webhooks/woocommerce"),
                RouteTrigger("POST", "/webhooks/shopify"),
                RouteTrigger("GET", "/openapi.json"),
            ),
            # ledger: a delivery of shop-dated stock levels is recognised as a repeat by the ledger's level,
            # the one record of a stock change, instead of a delivery marker (docs/stock-ledger.md, "What a
            # stock change writes"; issue 21).
            tables={"idempotency": Uses("GetItem", "PutItem", "UpdateItem"), "ledger": Uses("GetItem")},
            sends_to=("shop-events",),
            secrets={"webhook-signing": SECRET, "shop-credentials": SECRET},
        ),
        Function(
            "catalog_worker",
            "Shop events -> Allegro offers (create, change only what changed, price, stock, end) per account",
            # A batch of 10 events x accounts, each a few Allegro calls plus a 202 operation followed for up
            # to 20 s; the queue's visibility timeout is 6 x this.
            timeout_seconds=120,
            memory_mb=512,
            # An instance publishes one offer at a time (~0.8 s in AWS, bench/catalog_import.py): 25 of them
            # reach Allegro's free share; one FIFO group per SKU lets a catalogue spread over all of them.
            reserved_concurrency=25,
            triggers=(QueueTrigger("shop-events", batch_size=10),),
            # GPSR (issue 16): brand -> producer mappings are read from `mappings` (Query); the producer and
            # person ids made on each account are kept in `control` (GetItem/PutItem): no new actions.
            # BatchGetItem: which links of a batch's SKUs exist, in one call
            tables={
                "catalog": Uses(*ITEMS.actions, "BatchGetItem"),
                "mappings": READS,
                "changes": ITEMS,
                "control": ITEMS,
                "ledger": ITEMS,
            },
            # stock-rechecks: a shop level that leaves a sale in doubt asks for a re-read (services/stock.py)
            sends_to=("stock-changes", "token-recovery", "stock-rechecks"),
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
            # Static share (used only while the shared pool is out of reach): 25 x 100 = the old 5 x 500.
            allegro_rpm=100,
            # Bulk: each instance as fast as it can go (3 calls per offer), the shared pool caps the sum.
            allegro_burst_rpm=600,
            deploy_settings=("OFFER_SETTINGS",),
        ),
        Function(
            "order_poller",
            "Polls each account's /order/events every few seconds and queues each order event once",
            # A poll-tick message every ORDER_POLL_INTERVAL_SECONDS (5) polls once and re-sends itself
            # (services/orders/ticks.py); the schedule is only the watchdog that re-seeds a dead chain (and
            # polls once). Two instances: a tick and the watchdog may overlap (a throttled SQS tick would
            # wait out the visibility timeout); the cursor's lease + compare-and-swap keep them from both
            # enqueueing.
            timeout_seconds=30,
            reserved_concurrency=2,
            triggers=(
                QueueTrigger("poll-tick", batch_size=1),
                ScheduleTrigger(rate_minutes=5, description="poll-tick watchdog: re-seed a dead chain"),
            ),
            tables={"control": ITEMS},
            sends_to=("orders", "token-recovery", "poll-tick"),
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
            allegro_rpm=60,  # per instance, x 2: one poll per account every 5 s is 12/min
            recursive_loop=True,
        ),
        Function(
            "order_worker",
            "Applies each Allegro order exactly once: stock ledger, order record, shop outbox, stock-changes",
            # One Allegro read per order (a batch's notices of one form are coalesced): 2 x 240/min is
            # ~8 orders/s, far above a seller's pace, and leaves the shared 9,000/min to stock pushes.
            timeout_seconds=60,
            reserved_concurrency=2,
            triggers=(QueueTrigger("orders", batch_size=10),),
            tables={
                # BatchGetItem: which forms own a new form's line items (combined payments, docs/orders.md)
                "orders": Uses(
                    "GetItem",
                    "BatchGetItem",
                    "Query",
                    "PutItem",
                    "UpdateItem",
                    "DeleteItem",
                    "ConditionCheckItem",
                ),
                "ledger": ITEMS,
                "catalog": Uses("GetItem", "Query", "Scan"),
                "control": ITEMS,
            },
            sends_to=("shop-outbox", "stock-changes", "token-recovery"),
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
            allegro_rpm=240,
            deploy_settings=("ORDER_STOCK_COUNT_AT", "ORDER_BUYER_DATA_DAYS"),
        ),
        Function(
            "shop_notifier",
            "Shop outbox -> the shop (signed JSON or WooCommerce REST), once per order state",
            # 60 s covers a batch of 10: a shop that times out (10 s) is asked once per batch, the others
            # fail at once (services/shop_probe.py). Failed deliveries back off from 2 s to ~4 min (not the
            # 6 min visibility timeout): a shop may be down ~50 min before the (alarmed) DLQ.
            timeout_seconds=60,
            reserved_concurrency=5,
            triggers=(QueueTrigger("shop-outbox", batch_size=10, max_batching_window_seconds=1),),
            tables={"orders": ITEMS, "ledger": ITEMS},
            # stock-rechecks: an acknowledgement that leaves a sale in doubt asks for a re-read of the shop
            sends_to=("stock-rechecks",),
            secrets={"shop-credentials": SECRET},
            # issue 15, item 1: presigns the shop's label link when it delivers `order.label` (GetObject)
            buckets={"labels": ("GetObject",)},
            deploy_settings=("LABEL_LINK_SECONDS",),
        ),
        Function(
            "fulfillment_intake",
            "Shop order status + tracking in (generic, WooCommerce order.updated): verify, queue per order",
            # Only queues: no Allegro credentials, and a shop's burst of updates never waits on Allegro.
            timeout_seconds=10,
            reserved_concurrency=2,
            triggers=(
                RouteTrigger("POST", "/webhooks/shop/orders"),
                RouteTrigger("POST", "/webhooks/woocommerce/orders"),
                RouteTrigger("POST", "/webhooks/shopify/orders"),
            ),
            tables={"orders": READS},
            sends_to=("fulfillment",),
            # Shopify's order updates are signed with the app's client secret, kept with its token.
            secrets={"webhook-signing": SECRET, "shop-credentials": SECRET},
        ),
        Function(
            "fulfillment_worker",
            "Queued shop order updates -> Allegro fulfillment status and parcels (revision-checked)",
            # A record is ~4 Allegro calls (form, shipments, add, PUT; 409 re-reads).
            timeout_seconds=30,
            reserved_concurrency=2,
            triggers=(QueueTrigger("fulfillment", batch_size=10),),
            tables={"orders": ITEMS, "control": ITEMS},  # orders: the fulfillment journal (issue 14, item 6)
            # shop-credentials: issue 15, a WooCommerce refund's lines are read from the shop's REST API
            secrets={"app-credentials": SECRET, "accounts": TOKENS, "shop-credentials": SECRET},
            # shop-outbox: issue 15, a stored label goes to the shop as `order.label` (services/labels.py)
            sends_to=("token-recovery", "shop-outbox"),
            # ~4 calls per update: 2 x 30/min applies ~15 updates/min; the FIFO queue absorbs bursts.
            allegro_rpm=30,
            # issue 15: a label rule's status buys the label (Put) and presigns the shop's link (Get)
            buckets={"labels": ("GetObject", "PutObject")},
        ),
        Function(
            "order_gap_scan",
            "Back-fills orders whose events were skipped or delayed (checkout forms by updatedAt)",
            timeout_seconds=120,
            reserved_concurrency=1,
            triggers=(ScheduleTrigger(rate_minutes=15, description="back-fill missed orders"),),
            # orders: one BatchGetItem per page of checkout forms (never a GetItem per form)
            # issue 15, item 3: the same run follows customer returns (no schedule of its own): the ledger
            # credits a returned line once (ITEMS: its conditional transaction), the shop outbox gets the
            # return, stock-changes the SKU's new view; orders BatchGetItem maps a returned offer to its SKU.
            tables={"orders": Uses("BatchGetItem"), "control": ITEMS, "ledger": ITEMS},
            sends_to=("orders", "token-recovery", "shop-outbox", "stock-changes"),
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
            allegro_rpm=60,  # 100 forms per page: a 15-minute window rarely needs more than a few pages
            deploy_settings=("RETURNS_RESTOCK_ON",),
        ),
        Function(
            "stock_propagator",
            "Stock changes -> every linked offer in seconds (newest revision per SKU, PATCH or batch)",
            # A batch is a few PATCHes/commands plus command-task polls; an archived offer is recreated
            # through the catalogue (its 202 operation followed for up to 20 s).
            timeout_seconds=60,
            reserved_concurrency=5,
            triggers=(QueueTrigger("stock-changes", batch_size=10),),
            # catalog/mappings: recreating an archived offer goes through the catalogue's publisher.
            tables={"ledger": ITEMS, "catalog": ITEMS, "mappings": READS, "changes": ITEMS, "control": ITEMS},
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
            sends_to=("token-recovery",),
            allegro_rpm=600,
            deploy_settings=("OFFER_SETTINGS",),  # a recreated offer carries the seller's defaults
        ),
        Function(
            "reconciler",
            "Hourly: every Allegro offer vs the stock ledger; repairs drift and records why",
            # Pages until ~30 s are left, then saves its position (control table); the next run goes on.
            timeout_seconds=300,
            reserved_concurrency=1,
            # Hourly by default (issue 21): pushes reach Allegro per change within a second; the sweep is
            # the safety net for drift no push caused (hand edits, silent FAILs), and each run reads every
            # SKU's ledger item (10,000 SKUs: ~$5 a month every 15 min, ~$1.3 hourly). -c reconcileMinutes=15
            triggers=(
                ScheduleTrigger(
                    rate_minutes=60,
                    description="repair Allegro vs ledger drift",
                    rate_context="reconcileMinutes",
                ),
            ),
            tables={
                "ledger": SWEEP_ITEMS,
                "catalog": ITEMS,
                "mappings": READS,
                "changes": ITEMS,
                "control": ITEMS,
            },
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
            sends_to=("token-recovery",),
            allegro_rpm=400,
            deploy_settings=("OFFER_SETTINGS",),  # a recreated offer carries the seller's defaults
        ),
        Function(
            "shop_reconciler",
            "Every 15 min: what changed in the shop since its cursor, queued like a webhook",
            # 10,000 products, 100 changed: 3 listing pages and ~300 DynamoDB/SQS calls, ~6 s
            # (bench/shop_reconcile). The first run reads the whole catalogue once: 100 pages and ~3 AWS calls
            # per product, several minutes at 10,000, hence Lambda's maximum. One cursor, one reader.
            timeout_seconds=900,
            reserved_concurrency=1,
            triggers=(
                ScheduleTrigger(
                    rate_minutes=15,
                    description="read what changed in the shop since the cursor",
                    rate_context="shopReconcileMinutes",
                ),
            ),
            # the webhook intake's de-duplication, its cursor, what the catalogue already applied
            tables={
                "idempotency": Uses("GetItem", "PutItem", "UpdateItem"),
                "control": ITEMS,
                "catalog": READS,
                "ledger": Uses("GetItem"),  # issue 21: the shop's level is held there alone
            },
            sends_to=("shop-events", "fulfillment"),  # fulfillment: PrestaShop's order states read back
            secrets={"shop-credentials": SECRET},
            deploy_settings=("SHOP_RECONCILE_OVERLAP_SECONDS",),
        ),
        Function(
            "stock_rechecker",
            "A sale the ledger is in doubt about: the SKU's level read from the shop, queued like a webhook",
            # One shop read (10 s timeout) and one intake write per record; at most one per Allegro sale.
            timeout_seconds=30,
            reserved_concurrency=2,
            triggers=(QueueTrigger("stock-rechecks", batch_size=10),),
            # the webhook intake's de-duplication (the read goes to shop-events like a webhook), which
            # recognises a repeated shop-dated level by the ledger's level
            tables={"idempotency": Uses("GetItem", "PutItem", "UpdateItem"), "ledger": Uses("GetItem")},
            sends_to=("shop-events",),
            secrets={"shop-credentials": SECRET},
        ),
        Function(
            "repricer",
            "Every 15 min: reprice each account inside [floor, ceiling] (feed, demand, Allegro's rules)",
            # 100,000 offers: 100 listing pages, fee previews per category band (cached 24 h) and one
            # price command per new price shared by 25+ offers, the rest (and allegro.cz/.sk/.hu prices) in
            # bulk commands of 25 (issue 16); concurrency 1 so two rounds never race on cool-downs.
            # mappings: the marketplace rules and category paths (one or three Queries a round).
            # Issue 21: a run pages (1,000 offers) until its time is short and saves where it is
            # (services/repricing/sweep.py), holding one page, not the catalogue: bench.sweeps (2026-12-06)
            # measures a traced peak of 11-12 MB at 1,000-3,000 offers and models ~580 s for a cycle over
            # 100,000 (eventually consistent reads ~220 s + the command budget): 2 runs of 600 s. 512 MB:
            # the round mostly waits on Allegro and DynamoDB, so more memory (CPU share) would bill waiting.
            timeout_seconds=600,
            memory_mb=512,
            reserved_concurrency=1,
            # `-c repriceMinutes=60` quarters the round's reads (each run reads every repriced offer's facts).
            triggers=(
                ScheduleTrigger(
                    rate_minutes=15,
                    description="reprice within the seller's bounds",
                    rate_context="repriceMinutes",
                ),
            ),
            # catalog, ledger: a round's facts in BatchGetItems, eventually consistent (CatalogFacts)
            tables={
                "mappings": READS,
                "control": ITEMS,
                "catalog": SWEEP_READS,
                "changes": ITEMS,
                "ledger": SWEEP_READS,
            },
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
            sends_to=("token-recovery",),
            allegro_rpm=300,
            deploy_settings=("REPRICING_FEED_URL",),
        ),
        # --- issue 15, item 4: buyer messages and disputes (services/buyer_messages.py) ---
        Function(
            "message_follower",
            "Every minute: new buyer messages and dispute messages -> the shop outbox and the seller's topic",
            # Its own schedule: "noticed within a minute or two" rules out the gap scan's 15 minutes, and the
            # poller's 5 s tick is latency-critical (a slow thread read would delay orders). An idle run is
            # 2 Allegro reads, 1 GetItem, 1 PutItem per account; a thread with news adds 1 read, an issue 1.
            timeout_seconds=60,
            reserved_concurrency=1,
            triggers=(
                ScheduleTrigger(
                    rate_minutes=1,
                    description="forward new buyer messages",
                    rate_context="messagesMinutes",
                ),
            ),
            tables={"control": ITEMS},  # the accounts, the cursor (compare-and-swap)
            sends_to=("shop-outbox", "token-recovery"),
            secrets={"app-credentials": SECRET, "accounts": TOKENS},
            allegro_rpm=60,
            topics={"seller-messages": ("Publish",)},
        ),
    ),
    alarms=(
        MetricAlarm(
            "AccountDisconnected",
            "Allegro disconnected a seller account (invalid_grant): run `allegro-sync accounts connect`",
        ),
        MetricAlarm(
            "OrdersNeedingAttention",
            "An Allegro order needs the seller (its form cannot be read, or a line's SKU is unknown or "
            "ambiguous): see `allegro-sync orders show ORDER` and docs/orders.md",
        ),
        MetricAlarm(  # issue 14, item 6: also a tracking number Allegro refused (`orders show ORDER`)
            "FulfillmentUpdatesDropped",
            "A shop's order update or tracking number did not reach Allegro: see `allegro-sync orders show`",
        ),
        MetricAlarm(
            "StockUnknownNotPushed",
            "The shop could not say a SKU's stock: its offers keep their old level until it does",
        ),
        MetricAlarm(
            "WebhooksRejected",
            "A shop webhook delivery was refused (bad signature, unreadable body, secret not set): the shop "
            "may disable the webhook; the log line `webhook refused` says why",
        ),
    ),
    # --- issue 15, item 1 (labels) ---
    buckets=(
        Bucket("labels", "Shipping label PDFs bought through Ship with Allegro (print the buyer's address)"),
    ),
    # --- issue 15, item 4 (buyer messages) ---
    topics=(
        Topic(
            "seller-messages",
            "A buyer wrote (message or dispute): the text, to the seller (carries buyer data)",
            email_context="messagesEmail",
        ),
    ),
)
