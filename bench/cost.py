"""Monthly AWS cost of one seller's deployment, scaled from what the soak metered.

The soak runs the real handlers through the local runtime and writes `bench/results/soak.json`: per-function
invocations and wall seconds, every boto3 call the handlers made, Allegro calls and log bytes. This module
turns that into a month for a target shop (default: 10,000 SKUs, 1,000 orders/day, 20,000 stock changes/day)
by attributing each function's usage to what drives it, then prices it with `Prices`.

Pure functions and dataclasses only (no I/O), so every rule of the model is unit-tested. Two totals are
always given: one with the Lambda seconds exactly as measured (in-process handlers against moto and the
emulator on 127.0.0.1), one with those seconds adjusted to AWS and Allegro latencies; the raw one is never
hidden, because the adjustment rests on assumptions stated in `Assumptions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveInt

from allegro_sync.adapters.alarm_metrics import ALARM_METRICS
from allegro_sync.settings import DEFAULT_POLL_INTERVAL_SECONDS
from allegro_sync.topology import QueueTrigger, ScheduleTrigger, Topology

MINUTES_PER_MONTH = 365 * 24 * 60 / 12  # 43,800: AWS bills a month as 730 hours
SECONDS_PER_MONTH = MINUTES_PER_MONTH * 60
GB = 1024**3

Driver = Literal["stock", "order", "stock+order", "schedule", "once"]

# What makes each event-driven function run (issue 9): a webhook per stock change, a sale per order.
EVENT_DRIVERS: dict[str, Driver] = {
    "shop_webhook": "stock",
    "catalog_worker": "stock",
    "order_worker": "order",
    "shop_notifier": "order",
    "fulfillment_intake": "order",
    "fulfillment_worker": "order",
    "stock_propagator": "stock+order",
    "stock_rechecker": "order",  # at most one shop read per sale the ledger is in doubt about
}
# Scheduled functions whose work per run grows with the number of SKUs (they walk every offer).
PER_SKU_SCHEDULED = frozenset({"reconciler", "repricer"})
# Scheduled functions whose calls per run grow with the orders of their window (the gap scan reads the
# checkout forms updated since its last run): over a month, their calls follow the orders.
PER_ORDER_SCHEDULED = frozenset({"order_gap_scan"})
# The order poller runs once per poll-tick (a delayed SQS message every ORDER_POLL_INTERVAL_SECONDS,
# services/orders/ticks.py) plus its watchdog schedule; each run is one poll, billed as measured.
ORDER_POLLER = "order_poller"

# DynamoDB request units per item of each data-plane operation, for items up to 1 KB (writes) / 4 KB
# (reads); strongly consistent reads (1 unit) except BatchGetItem: every caller reads eventually consistent
# (the sweeps' pages, the order worker's line owners), half a unit. Control-plane calls are free.
DYNAMODB_READ_UNITS = {
    "GetItem": 1.0,
    "Query": 1.0,
    "Scan": 1.0,
    "BatchGetItem": 0.5,
    "TransactGetItems": 2.0,
}
# A strongly consistent read's units per item (4 KB); an eventually consistent one bills half, a transaction
# is always consistent. Which reads were strongly consistent is metered per owner when the soak file has
# `consistent_reads_by_function` (`consistent_share`); without it, `DYNAMODB_READ_UNITS` above is assumed.
STRONG_READ_UNITS = {"GetItem": 1.0, "Query": 1.0, "Scan": 1.0, "BatchGetItem": 1.0, "TransactGetItems": 2.0}
DYNAMODB_WRITE_UNITS = {
    "PutItem": 1.0,
    "UpdateItem": 1.0,
    "DeleteItem": 1.0,
    "BatchWriteItem": 1.0,
    "TransactWriteItems": 2.0,
}


@dataclass(frozen=True)
class Prices:
    """AWS list prices, eu-central-1 (Frankfurt), on-demand, USD, without free tiers.

    As known on `as_of`; Lambda's Frankfurt rates equal the base (us-east-1) rates. Check them against the
    AWS Pricing Calculator before relying on a total: AWS changes prices (DynamoDB on-demand was halved
    in Nov 2024).
    """

    region: str = "eu-central-1"
    as_of: str = "2026-11-28"
    source: str = (
        "AWS public price list, eu-central-1, as known on 2026-11-28 (not fetched live: no internet here); "
        "check the AWS Pricing Calculator"
    )
    lambda_gb_second: float = 0.0000133334  # arm64 (the stack deploys ARM_64), first 6 billion GB-s
    lambda_request: float = 0.20 / 1e6
    sqs_fifo_request: float = 0.50 / 1e6
    sqs_standard_request: float = 0.40 / 1e6
    dynamodb_write_unit: float = 0.7625 / 1e6  # on-demand WRU
    dynamodb_read_unit: float = 0.1525 / 1e6  # on-demand RRU
    dynamodb_storage_gb_month: float = 0.306
    dynamodb_pitr_gb_month: float = 0.2448
    secret_month: float = 0.40
    secrets_api_call: float = 0.05 / 10_000
    kms_key_month: float = 1.00
    kms_request: float = 0.03 / 10_000
    alarm_month: float = 0.10  # standard-resolution metric alarm
    dashboard_month: float = 3.00
    custom_metric_month: float = 0.30  # first 10,000 metrics
    logs_ingest_gb: float = 0.63
    logs_store_gb_month: float = 0.0324
    http_api_request: float = 1.20 / 1e6  # HTTP API, first 300 million
    xray_trace: float = 5.00 / 1e6
    eventbridge_schedule_invocation: float = 0.0  # scheduled rules on the default bus are free

    def rows(self) -> list[tuple[str, str, str]]:
        """(item, price, unit) for the report's price table."""
        return [
            ("Lambda compute (arm64)", f"${self.lambda_gb_second:.10f}", "per GB-second"),
            ("Lambda requests", f"${self.lambda_request * 1e6:.2f}", "per million invocations"),
            ("SQS FIFO requests", f"${self.sqs_fifo_request * 1e6:.2f}", "per million (64 KB chunks)"),
            (
                "SQS standard requests",
                f"${self.sqs_standard_request * 1e6:.2f}",
                "per million (64 KB chunks)",
            ),
            ("DynamoDB on-demand writes", f"${self.dynamodb_write_unit * 1e6:.4f}", "per million WRU"),
            ("DynamoDB on-demand reads", f"${self.dynamodb_read_unit * 1e6:.4f}", "per million RRU"),
            ("DynamoDB storage", f"${self.dynamodb_storage_gb_month:.3f}", "per GB-month"),
            ("DynamoDB point-in-time recovery", f"${self.dynamodb_pitr_gb_month:.4f}", "per GB-month"),
            ("Secrets Manager secret", f"${self.secret_month:.2f}", "per secret-month"),
            ("Secrets Manager API", f"${self.secrets_api_call * 10_000:.2f}", "per 10,000 calls"),
            ("KMS customer managed key", f"${self.kms_key_month:.2f}", "per key-month"),
            ("KMS requests", f"${self.kms_request * 10_000:.2f}", "per 10,000 requests"),
            ("CloudWatch alarm", f"${self.alarm_month:.2f}", "per standard alarm-month"),
            ("CloudWatch dashboard", f"${self.dashboard_month:.2f}", "per dashboard-month"),
            ("CloudWatch custom metric", f"${self.custom_metric_month:.2f}", "per metric-month"),
            ("CloudWatch Logs ingestion", f"${self.logs_ingest_gb:.2f}", "per GB"),
            ("CloudWatch Logs storage", f"${self.logs_store_gb_month:.4f}", "per GB-month"),
            ("API Gateway HTTP API", f"${self.http_api_request * 1e6:.2f}", "per million requests"),
            ("X-Ray traces recorded", f"${self.xray_trace * 1e6:.2f}", "per million traces"),
            ("EventBridge scheduled rules", "$0.00", "scheduled rules on the default bus are free"),
        ]


# What could be checked from here (no pricing pages reachable; the docs search found these). The other
# Frankfurt rates in `Prices` are the AWS price list as the authors knew it and could not be re-checked.
PRICE_EVIDENCE = (
    "Lambda arm64 $0.0000133334 per GB-s is the base rate, and eu-central-1 is not among the regions "
    "priced differently: artillery 2.0.28, lib/platform/aws-lambda/prices.js "
    "(citing aws.amazon.com/lambda/pricing)",
    "Lambda requests $0.20 per million and the free tier of 1 M requests + 400,000 GB-s: "
    "aws.amazon.com/lambda/pricing as transcribed 2026-09-20 (api-evangelist/aws-lambda plans)",
    "DynamoDB request units (a strongly consistent read of up to 4 KB = 1 RRU, transactional = 2; a write "
    "of up to 1 KB = 1 WRU): aws.amazon.com/dynamodb/pricing/on-demand/",
    "Lambda keeps polling an idle SQS queue (5 concurrent batches, as few as 2 when it optimises): "
    "docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html",
)


@dataclass(frozen=True)
class Workload:
    """The shop the estimate is for."""

    skus: int = 10_000
    orders_per_day: float = 1_000
    stock_changes_per_day: float = 20_000
    seller_accounts: int | None = None  # None: as many as the soak ran

    def __post_init__(self) -> None:
        if self.skus <= 0 or self.orders_per_day < 0 or self.stock_changes_per_day < 0:
            raise ValueError("skus must be positive; orders and stock changes per day must not be negative")
        if self.seller_accounts is not None and self.seller_accounts <= 0:
            raise ValueError("seller_accounts must be positive")

    @property
    def stock_changes_per_month(self) -> float:
        return self.stock_changes_per_day * MINUTES_PER_MONTH / (24 * 60)

    @property
    def orders_per_month(self) -> float:
        return self.orders_per_day * MINUTES_PER_MONTH / (24 * 60)


@dataclass(frozen=True)
class Assumptions:
    """Every number the model needs that the soak cannot meter; each one is printed in the report."""

    # Duration adjustment: the soak's AWS calls go to moto over 127.0.0.1, in a process of its own since
    # 2026-12-06: 15-44 ms per call for the functions that call nothing else, their own work included (the
    # low end is taken so the adjustment removes the least; in-process moto measured 40-140 ms). Real
    # DynamoDB/SQS answer in ~5-10 ms (the high end taken).
    moto_call_seconds: float = 0.015
    aws_call_seconds: float = 0.010
    # ... while the emulator answers in a few ms and the real Allegro API in ~100-300 ms.
    emulator_call_seconds: float = 0.005
    allegro_call_seconds: float = 0.150
    # The adjusted duration never drops below this share of the measured one.
    min_adjusted_share: float = 0.2
    # Lambda allocates CPU in proportion to memory: "At 1,769 MB, a function has the equivalent of one vCPU"
    # (docs.aws.amazon.com/lambda/latest/dg/resource-model.html). The CPU model (`cpu_model_factor`) takes
    # one core of this machine for one vCPU.
    vcpu_memory_mb: int = 1769
    # Lambda's SQS pollers on an idle queue: 5 long polls of 20 s each (AWS documents 5 concurrent batches
    # when traffic is low, "as few as 2" when it can optimise: 5 is the pessimistic case).
    idle_pollers_per_queue: int = 5
    long_poll_seconds: int = 20
    # Each queue-triggered batch costs the event source one ReceiveMessage and one DeleteMessageBatch.
    esm_requests_per_batch: int = 2
    # KMS: SQS, DynamoDB and Secrets Manager reuse a data key ~5 minutes per principal and resource.
    data_key_reuse_seconds: int = 300
    kms_principals_per_queue: int = 3
    fulfillment_webhooks_per_order: float = 1.0
    api_access_log_bytes_per_request: int = 300
    # Lambda's own START, END and REPORT lines of every invocation (~350 B; `IdleTick` counts them too): the
    # soak's log text is the handlers' lines only.
    platform_log_bytes_per_invocation: int = 350
    dynamodb_storage_gb: float = 1.0
    # A scheduled function the soak never ran is priced at this duration per run (and flagged).
    unmeasured_run_seconds: float = 0.2
    # The poll-tick chain's period (ORDER_POLL_INTERVAL_SECONDS): a tick every this many seconds, all month.
    order_tick_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS
    # DynamoDB write units per shop stock change, webhook to Allegro, as `bench.stock_writes` measured them
    # from each write's item sizes (2026-12-06: 2.31 when the shop sends occurred_at, 3.28 when it does not,
    # now that a stock change writes no product item; 3.25 / 4.25 before that, 10.12 before issue 21's
    # cuts). Call counts alone cannot see item sizes, failed conditions or 2x transactions; the stock
    # path's own calls are replaced by this figure (`dynamodb_write_units`).
    stock_change_write_units: float = 2.31


# ---- the soak's metered usage (schema shared with bench/soak/result.py) ------------------------------------


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class SoakConfig(_Lenient):
    accounts: PositiveInt
    skus: PositiveInt
    # The soak counts stock changes as the shop webhooks it sent; either name is accepted.
    stock_changes: NonNegativeInt = Field(validation_alias=AliasChoices("stock_changes", "stock_webhooks"))
    orders: NonNegativeInt
    cancellations: NonNegativeInt = 0
    reprice_runs: NonNegativeInt = 0
    reconcile_runs: NonNegativeInt = 0
    order_polls: NonNegativeInt = 0
    faults: dict[str, Any] = Field(default_factory=dict)


class FunctionUsage(_Lenient):
    invocations: NonNegativeInt
    errors: NonNegativeInt = 0
    seconds: NonNegativeFloat
    # The invocations' own CPU (older soak files lack it): what the work took, without the waits of a
    # process shared by every function, the emulator and the soak.
    cpu_seconds: NonNegativeFloat | None = None
    memory_mb: PositiveInt


class CallCount(_Lenient):
    calls: NonNegativeInt
    items: NonNegativeInt


class Latency(_Lenient):
    stock_p50_s: NonNegativeFloat | None = None
    stock_p99_s: NonNegativeFloat | None = None
    order_p50_s: NonNegativeFloat | None = None
    order_p99_s: NonNegativeFloat | None = None


class SoakUsage(_Lenient):
    """`bench/results/soak.json`: what one soak run metered."""

    name: str = "soak"
    measured_at: str
    wall_seconds: NonNegativeFloat = 0.0
    converge_seconds: NonNegativeFloat = 0.0
    config: SoakConfig
    counters: dict[str, int] = Field(default_factory=dict)
    lambda_: dict[str, FunctionUsage] = Field(alias="lambda")
    aws_calls: dict[str, CallCount] = Field(default_factory=dict)
    # Calls per owner (a function, or `event-source:<function>` for the local event source's own
    # receive/delete calls) and operation; older soak files lack it.
    aws_calls_by_function: dict[str, dict[str, NonNegativeInt]] = Field(default_factory=dict)
    # Items per owner and operation (keys of a BatchGetItem, entries of a batch); older soak files lack it,
    # and each owner's items are then its share of the operation's total in proportion to its calls.
    aws_items_by_function: dict[str, dict[str, NonNegativeInt]] = Field(default_factory=dict)
    # Items read strongly consistent, per owner and operation (issue 21: eventual reads bill half); older
    # soak files lack it, and `DYNAMODB_READ_UNITS`'s assumption stands.
    consistent_reads_by_function: dict[str, dict[str, NonNegativeInt]] = Field(default_factory=dict)
    # Allegro requests per function (issue 21); older soak files lack it, and one duration factor for all
    # functions is used (`duration_factor`).
    allegro_calls_by_function: dict[str, NonNegativeInt] = Field(default_factory=dict)
    allegro_calls: NonNegativeInt = 0
    log_bytes: NonNegativeInt = 0
    latency: Latency = Field(default_factory=Latency)

    @property
    def events(self) -> int:
        """Stock changes plus orders: what the AWS call totals are scaled by."""
        return self.config.stock_changes + self.config.orders

    def owner_items(self, owner: str, op: str) -> float:
        """The items one owner's calls of `op` carried: metered per owner when the soak file has it, else
        the operation's items split between owners in proportion to their calls."""
        metered = self.aws_items_by_function.get(owner)
        if metered is not None and op in metered:
            return float(metered[op])
        calls = self.aws_calls_by_function.get(owner, {}).get(op, 0)
        total = self.aws_calls.get(op)
        return calls * total.items / total.calls if total and total.calls else float(calls)


def parse_soak(document: Mapping[str, Any]) -> SoakUsage:
    """Validate soak.json; a malformed file raises pydantic's ValidationError naming the bad field."""
    usage = SoakUsage.model_validate(document)
    for op in usage.aws_calls:
        if "." not in op:
            raise ValueError(f"aws_calls key {op!r} is not 'service.Operation'")
    return usage


# ---- the model --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionMonth:
    name: str
    driver: Driver
    memory_mb: int
    invocations: float
    seconds: float  # as measured, scaled to the month
    adjusted_seconds: float
    note: str = ""
    # The same month by the CPU model (`cpu_model_factor`); None where the soak metered no CPU.
    cpu_model_seconds: float | None = None

    @property
    def gb_seconds(self) -> float:
        return self.seconds * self.memory_mb / 1024

    @property
    def adjusted_gb_seconds(self) -> float:
        return self.adjusted_seconds * self.memory_mb / 1024

    @property
    def cpu_model_gb_seconds(self) -> float:
        """By the CPU model; the adjusted figure where there is none."""
        seconds = self.adjusted_seconds if self.cpu_model_seconds is None else self.cpu_model_seconds
        return seconds * self.memory_mb / 1024


@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    note: str = ""

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Estimate:
    workload: Workload
    prices: Prices
    assumptions: Assumptions
    functions: list[FunctionMonth]
    lines: list[Line]  # the Lambda compute line is the measured one
    adjusted_compute: Line
    duration_factor: float
    notes: list[str] = field(default_factory=list)
    reads_by_owner: dict[str, float] = field(default_factory=dict)  # RRU per owner (`read_units_by_owner`)

    @property
    def total_measured(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    @property
    def compute(self) -> Line:
        return next(line for line in self.lines if line.item == "compute")

    @property
    def total_adjusted(self) -> float:
        return self.total_measured - self.compute.monthly_usd + self.adjusted_compute.monthly_usd

    @property
    def cpu_model_compute(self) -> Line | None:
        """Lambda compute by the CPU model (`cpu_model_factor`), a second estimate beside the adjusted
        line; None when the soak metered no CPU."""
        if all(f.cpu_model_seconds is None for f in self.functions):
            return None
        gb_seconds = sum(f.cpu_model_gb_seconds for f in self.functions)
        return Line("Lambda", "compute", gb_seconds, "GB-s", self.prices.lambda_gb_second, "CPU model")

    def by_service(self, *, adjusted: bool = False) -> dict[str, float]:
        """Monthly USD per AWS service, largest first."""
        totals: dict[str, float] = {}
        for line in self.lines:
            chosen = self.adjusted_compute if adjusted and line is self.compute else line
            totals[line.service] = totals.get(line.service, 0.0) + chosen.monthly_usd
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def drivers(topology: Topology) -> dict[str, Driver]:
    """Every function of the topology and what drives its usage."""
    scheduled = {f.name for _, f in topology.schedules()}
    return {
        f.name: "schedule" if f.name in scheduled else EVENT_DRIVERS.get(f.name, "once")
        for f in topology.functions
    }


def runs_per_month(
    topology: Topology, tick_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS
) -> dict[str, float]:
    """Scheduled runs per month of each scheduled function, from its rate, plus a tick chain's ticks."""
    runs: dict[str, float] = {}
    for trigger, function in topology.schedules():
        runs[function.name] = runs.get(function.name, 0.0) + MINUTES_PER_MONTH / trigger.rate_minutes
    for name in tick_functions(topology):
        runs[name] = runs.get(name, 0.0) + ticks_per_month(tick_seconds)
    return runs


def tick_functions(topology: Topology) -> set[str]:
    """Functions consuming a self-renewing tick queue (the order poller): they run all month, idle or not."""
    return {
        f.name
        for f in topology.functions
        for t in f.triggers
        if isinstance(t, QueueTrigger) and topology.queue(t.queue).self_renewing
    }


def ticks_per_month(tick_seconds: float) -> float:
    return SECONDS_PER_MONTH / tick_seconds


def alarm_count(topology: Topology) -> int:
    """Metrics the default stack's alarms watch (CloudWatch bills an alarm per metric it uses, metric
    math included): the DLQs a seller must hear about (`Queue.dlq_alarm`), the HTTP API's 5xx, and the
    topology's business-metric alarms (infra/stack.py). The other DLQs, the schedules' DLQ and the
    per-function Errors/Throttles alarms are opt-in (`-c detailedAlarms=true`)."""
    api = 1 if topology.routes() else 0
    return sum(1 for q in topology.queues if q.dlq_alarm) + api + len(topology.alarms)


def secret_count(topology: Topology, accounts: int) -> int:
    """Stored secrets plus one per seller account under each prefix secret; a section (issue 21: the
    configuration's parts in one secret) lives in the secret that holds it and bills nothing of its own."""
    return sum(accounts if s.is_prefix else 1 for s in topology.stored_secrets())


def duration_factor(soak: SoakUsage, a: Assumptions) -> float:
    """Measured Lambda seconds -> seconds on AWS: minus moto's excess per AWS call, plus Allegro's real
    latency per Allegro call, for all functions together; each function's own (`function_factor`) when the
    soak metered Allegro calls per function."""
    measured = sum(u.seconds for u in soak.lambda_.values())
    if measured <= 0:
        return 1.0
    aws_calls = sum(c.calls for c in soak.aws_calls.values())
    adjusted = (
        measured
        - aws_calls * (a.moto_call_seconds - a.aws_call_seconds)
        + soak.allegro_calls * (a.allegro_call_seconds - a.emulator_call_seconds)
    )
    return max(a.min_adjusted_share, adjusted / measured)


def function_factor(soak: SoakUsage, a: Assumptions, name: str, default: float) -> float:
    """`duration_factor` for one function from its own calls, when the soak metered its Allegro calls: a
    function that only talks to DynamoDB must not be billed Allegro's latency for the others' calls, nor an
    Allegro-heavy one share it out; otherwise `default` (the factor of all functions together)."""
    used = soak.lambda_.get(name)
    if not soak.allegro_calls_by_function or used is None or used.seconds <= 0:
        return default
    aws, allegro = _own_calls(soak, name)
    adjusted = (
        used.seconds
        - aws * (a.moto_call_seconds - a.aws_call_seconds)
        + allegro * (a.allegro_call_seconds - a.emulator_call_seconds)
    )
    return max(a.min_adjusted_share, adjusted / used.seconds)


def cpu_model_factor(soak: SoakUsage, a: Assumptions, name: str, memory_mb: int) -> float | None:
    """Measured seconds -> seconds on AWS by the CPU model: the invocations' own CPU (metered per thread, so
    without the waits of the soak's shared process) slowed to the function's CPU share (`vcpu_memory_mb`),
    plus each AWS and Allegro call at its modelled latency. Not a bound either way: back-off sleeps and
    waits on Allegro's asynchronous commands are billed in AWS and are not in it (the wall-time adjustment
    keeps them, with the shared process's waits), while CPU-heavy work at little memory takes longer than
    on the soak's core. None when the soak metered no CPU for the function."""
    used = soak.lambda_.get(name)
    if used is None or used.cpu_seconds is None or used.seconds <= 0:
        return None
    aws, allegro = _own_calls(soak, name)
    share = max(1.0, a.vcpu_memory_mb / memory_mb)
    modelled = used.cpu_seconds * share + aws * a.aws_call_seconds + allegro * a.allegro_call_seconds
    return modelled / used.seconds


def _own_calls(soak: SoakUsage, name: str) -> tuple[int, int]:
    """(AWS calls, Allegro calls) the function itself made in the soak."""
    return sum(soak.aws_calls_by_function.get(name, {}).values()), soak.allegro_calls_by_function.get(name, 0)


def _event_scale(driver: Driver, soak: SoakUsage, w: Workload) -> float:
    if driver == "stock":
        return w.stock_changes_per_month / soak.config.stock_changes if soak.config.stock_changes else 0.0
    if driver == "order":
        return w.orders_per_month / soak.config.orders if soak.config.orders else 0.0
    if driver == "stock+order":
        return (w.stock_changes_per_month + w.orders_per_month) / soak.events if soak.events else 0.0
    return 1.0  # "once": as often in a month as in the soak (an account connection, a health check)


def function_months(
    soak: SoakUsage, topology: Topology, w: Workload, a: Assumptions, overall: float
) -> list[FunctionMonth]:
    """Each topology function's month: event-driven ones scaled by their driver, scheduled ones per run."""
    runs = runs_per_month(topology, a.order_tick_seconds)
    months = []
    for name, driver in drivers(topology).items():
        # Billed at the stack's memory: the soak runs handlers in-process, so its durations do not depend on
        # the memory it recorded, and a topology change must show in the month without a new soak.
        memory = topology.function(name).memory_mb
        used = soak.lambda_.get(name)
        factor = function_factor(soak, a, name, overall)
        cpu_factor = cpu_model_factor(soak, a, name, memory)
        if driver != "schedule":
            scale = _event_scale(driver, soak, w)
            invocations = (used.invocations if used else 0) * scale
            seconds = (used.seconds if used else 0.0) * scale
            note = "" if used else "not run in the soak"
            by_cpu = None if cpu_factor is None else seconds * cpu_factor
            months.append(
                FunctionMonth(name, driver, memory, invocations, seconds, seconds * factor, note, by_cpu)
            )
            continue
        notes = []
        if used is not None and used.invocations > 0:
            per_run = used.seconds / used.invocations
        else:
            per_run = a.unmeasured_run_seconds
            notes.append(f"not run in the soak: {a.unmeasured_run_seconds:g} s per run assumed")
        if name in PER_SKU_SCHEDULED:
            per_run *= sweep_scale(soak, w)
            notes.append(f"per-run time x {w.skus:,}/{soak.config.skus:,} SKUs")
            accounts = w.seller_accounts or soak.config.accounts
            if accounts != soak.config.accounts:
                notes.append(f"x {accounts}/{soak.config.accounts} seller accounts")
        adjusted_per_run = per_run * factor
        monthly_runs = runs[name]
        if name in tick_functions(topology):
            notes.append(f"watchdog runs + a poll-tick every {a.order_tick_seconds:g} s, one poll each")
        if name == ORDER_POLLER and used is not None and used.invocations > 0:
            months.append(
                _poller_month(soak, w, used, runs=monthly_runs, factor=factor, memory=memory, notes=notes)
            )
            continue
        months.append(
            FunctionMonth(
                name,
                driver,
                memory,
                monthly_runs,
                per_run * monthly_runs,
                adjusted_per_run * monthly_runs,
                "; ".join(notes),
                None if cpu_factor is None else per_run * cpu_factor * monthly_runs,
            )
        )
    unknown = sorted(set(soak.lambda_) - {f.name for f in topology.functions})
    if unknown:
        raise ValueError(f"soak.json names functions the topology does not have: {unknown}")
    return months


EVENT_SOURCE_PREFIX = "event-source:"


def owner_scale(owner: str, soak: SoakUsage, topology: Topology, w: Workload) -> float:
    """Soak -> month for the AWS calls one owner made: a scheduled function by its runs (and, for the
    sweeps, by SKUs: they walk every offer; the gap scan by orders: it reads its window's checkout forms),
    an event-driven one by what drives it. The local event
    source's own calls scale by nothing: the SQS lines price AWS's event source per batch instead."""
    if owner.startswith(EVENT_SOURCE_PREFIX):
        return 0.0
    driver = drivers(topology).get(owner)
    if driver is None:  # not a function of the topology: scaled like the events, the old way
        return (w.stock_changes_per_month + w.orders_per_month) / soak.events if soak.events else 0.0
    if driver != "schedule":
        return _event_scale(driver, soak, w)
    if owner in PER_ORDER_SCHEDULED or owner == ORDER_POLLER:  # the poller: its calls beyond idle ticks
        return _event_scale("order", soak, w)
    used = soak.lambda_.get(owner)
    if used is None or used.invocations == 0:
        return 0.0
    scale = runs_per_month(topology)[owner] / used.invocations
    return scale * sweep_scale(soak, w) if owner in PER_SKU_SCHEDULED else scale


SECRET_READ = "secretsmanager.GetSecretValue"
# A warm instance answers a secret from Powertools' cache for this long (adapters/secrets.py
# DEFAULT_MAX_AGE_SECONDS, settings.DEFAULT_SECRET_MAX_AGE_SECONDS).
SECRET_CACHE_SECONDS = 300


def secret_reads_ceiling(topology: Topology, name: str, accounts: int) -> float:
    """The most secret reads a scheduled function can make in a month: each instance (at most its reserved
    concurrency) keeps every secret it is granted (one per seller account under a prefix) for the cache
    age, however often it runs. A short soak starts an instance cold, so its reads per run, scaled by a
    one-minute schedule's runs, would otherwise bill a cold start every minute."""
    function = topology.function(name)
    stored = {topology.stored_secret(s).name: topology.stored_secret(s).is_prefix for s in function.secrets}
    secrets = sum(accounts if is_prefix else 1 for is_prefix in stored.values())
    instances = function.reserved_concurrency or 1
    return secrets * instances * SECONDS_PER_MONTH / SECRET_CACHE_SECONDS


def sweep_scale(soak: SoakUsage, w: Workload) -> float:
    """A sweep's work per run, the workload's over the soak's: it walks every offer of every connected
    account (each account lists its own offers), so SKUs x seller accounts. A run reads a SKU's ledger view
    and product facts once for all its accounts (issue 21: bench._sweep_accounts), so for a workload with
    fewer accounts than the soak those reads are under-counted (more accounts: over-counted); the soak and
    the default workloads have the same accounts; the idle one (1 account) under-counts by ~$0.15."""
    accounts = (w.seller_accounts or soak.config.accounts) / soak.config.accounts
    return w.skus / soak.config.skus * accounts


def monthly_calls(soak: SoakUsage, topology: Topology, w: Workload) -> dict[str, tuple[float, float]]:
    """Each operation's (calls, items) in a month: every owner's share scaled by `owner_scale`; its items
    as metered per owner (`SoakUsage.owner_items`). Without per-owner counts (an old soak file), the
    totals scaled by the events."""
    events = (w.stock_changes_per_month + w.orders_per_month) / soak.events if soak.events else 0.0
    if not soak.aws_calls_by_function:
        return {op: (c.calls * events, c.items * events) for op, c in soak.aws_calls.items()}
    month: dict[str, tuple[float, float]] = {}
    for owner, operations in owner_months(soak, topology, w).items():
        for op, calls in operations.items():
            before_calls, before_items = month.get(op, (0.0, 0.0))
            month[op] = (before_calls + calls, before_items + calls * _items_per_call(soak, owner, op))
    return month


def _items_per_call(soak: SoakUsage, owner: str, op: str) -> float:
    """Items per call of `op` as this owner made them (`SoakUsage.owner_items`); the poller's idle ticks
    (`order_poller:idle`) as the poller's."""
    name = owner.partition(":")[0]
    calls = soak.aws_calls_by_function.get(name, {}).get(op, 0)
    if calls:
        return soak.owner_items(name, op) / calls
    total = soak.aws_calls.get(op)
    return total.items / total.calls if total and total.calls else 1.0


def owner_months(soak: SoakUsage, topology: Topology, w: Workload) -> dict[str, dict[str, float]]:
    """Each owner's calls per operation in a month, scaled by `owner_scale`; the order poller's idle runs
    (`IdleTick`, one poll per run all month, traffic or not) apart from what orders add to them: the soak's
    calls beyond its runs' idle baseline, scaled by orders."""
    month: dict[str, dict[str, float]] = {}
    for owner, operations in soak.aws_calls_by_function.items():
        scale = owner_scale(owner, soak, topology, w)
        counted: Mapping[str, float] = operations
        if owner == ORDER_POLLER:
            used = soak.lambda_.get(owner)
            baseline = poller_idle_calls(soak.config.accounts)
            runs = used.invocations if used else 0
            counted = {op: max(0.0, n - runs * baseline.get(op, 0.0)) for op, n in operations.items()}
        month[owner] = {op: n * scale for op, n in counted.items()}
        if drivers(topology).get(owner) == "schedule" and SECRET_READ in month[owner]:
            ceiling = secret_reads_ceiling(topology, owner, w.seller_accounts or soak.config.accounts)
            month[owner][SECRET_READ] = min(month[owner][SECRET_READ], ceiling)
    if ORDER_POLLER in soak.aws_calls_by_function:
        ticks = runs_per_month(topology)[ORDER_POLLER]
        idle = poller_idle_calls(w.seller_accounts or soak.config.accounts)
        month[f"{ORDER_POLLER}:idle"] = {op: n * ticks for op, n in idle.items()}
    return month


def _monthly(calls: Mapping[str, tuple[float, float]], service: str) -> float:
    return sum(c for op, (c, _) in calls.items() if op.startswith(f"{service}."))


def _queue_consumers(topology: Topology) -> dict[str, bool]:
    """Queue-triggered function -> whether its queue is FIFO."""
    consumers: dict[str, bool] = {}
    for function in topology.functions:
        for trigger in function.triggers:
            if isinstance(trigger, QueueTrigger):
                consumers[function.name] = topology.queue(trigger.queue).fifo
    return consumers


def _sqs_lines(
    calls: Mapping[str, tuple[float, float]],
    topology: Topology,
    functions: list[FunctionMonth],
    *,
    p: Prices,
    a: Assumptions,
) -> list[Line]:
    """What the handlers sent and received, what the event sources poll per batch, and their idle polls."""
    lines = [
        Line("SQS", "handler requests", _monthly(calls, "sqs"), "requests", p.sqs_fifo_request,
             "FIFO price for all (pessimistic)")
    ]  # fmt: skip
    consumers = _queue_consumers(topology)
    by_name = {f.name: f for f in functions}
    for fifo in (True, False):
        price, kind = (p.sqs_fifo_request, "FIFO") if fifo else (p.sqs_standard_request, "standard")
        batches = sum(by_name[n].invocations for n, is_fifo in consumers.items() if is_fifo is fifo)
        if batches:
            lines.append(
                Line("SQS", f"event-source receive+delete ({kind})", batches * a.esm_requests_per_batch,
                     "requests", price, f"{a.esm_requests_per_batch} per batch")
            )  # fmt: skip
        queues = sum(1 for q in topology.queues if q.fifo is fifo and topology.queue_consumer(q.name))
        if queues:
            idle = queues * a.idle_pollers_per_queue * SECONDS_PER_MONTH / a.long_poll_seconds
            lines.append(
                Line("SQS", f"idle long polls ({kind}, {queues} queues)", idle, "requests", price,
                     f"{a.idle_pollers_per_queue} pollers, one {a.long_poll_seconds} s poll after another")
            )  # fmt: skip
    return lines


def stock_share(owner: str, topology: Topology, w: Workload) -> float:
    """How much of an owner's metered writes a stock change causes: all of a stock-driven function's, the
    stock changes' share of the stock propagator's (orders drive the rest), none of anyone else's."""
    driver = drivers(topology).get(owner)
    if driver == "stock":
        return 1.0
    if driver == "stock+order":
        total = w.stock_changes_per_month + w.orders_per_month
        return w.stock_changes_per_month / total if total else 0.0
    return 0.0


def dynamodb_write_units(
    soak: SoakUsage, topology: Topology, w: Workload, a: Assumptions
) -> tuple[float, float]:
    """(write units of the month's stock changes, every other write unit) per month.

    Stock changes are priced at the measured `Assumptions.stock_change_write_units`; the metered calls of
    the stock path are left out of the rest so they are not counted twice. A soak file without per-function
    counts cannot tell them apart: every write is then priced from its calls (1 unit per item, 2 in a
    transaction) and the first figure is 0.
    """
    calls = monthly_calls(soak, topology, w)
    if not soak.aws_calls_by_function:
        other = sum(
            items * DYNAMODB_WRITE_UNITS.get(op.partition(".")[2], 0.0)
            for op, (_, items) in calls.items()
            if op.startswith("dynamodb.")
        )
        return 0.0, other
    other = 0.0
    for owner, operations in owner_months(soak, topology, w).items():
        kept = 1.0 - stock_share(owner, topology, w)
        for op, count in operations.items():
            service, _, operation = op.partition(".")
            if service == "dynamodb":
                other += (
                    count * _items_per_call(soak, owner, op) * DYNAMODB_WRITE_UNITS.get(operation, 0.0) * kept
                )
    return w.stock_changes_per_month * a.stock_change_write_units, other


def consistent_share(soak: SoakUsage, owner: str, op: str) -> float:
    """The share of an owner's items of a read `op` asked strongly consistent: metered when the soak file
    has it; otherwise (and for the order poller's idle ticks, `IdleTick`: pessimistic) every GetItem, Query
    and Scan strongly consistent, every BatchGetItem eventual, as `DYNAMODB_READ_UNITS` assumes."""
    name = owner.partition(":")[0]
    if not soak.consistent_reads_by_function or owner != name:
        return 0.0 if op == "dynamodb.BatchGetItem" else 1.0
    items = soak.owner_items(name, op)
    strong = soak.consistent_reads_by_function.get(name, {}).get(op, 0)
    return min(1.0, strong / items) if items else 1.0


def dynamodb_read_units(soak: SoakUsage, topology: Topology, w: Workload) -> float:
    """Read units per month: each owner's read items (`owner_months`) at a full unit when strongly
    consistent, half when eventual (`consistent_share`). Without per-function counts (an old soak file),
    the totals scaled by the events at `DYNAMODB_READ_UNITS`."""
    if not soak.aws_calls_by_function:
        return sum(
            items * DYNAMODB_READ_UNITS.get(op.partition(".")[2], 0.0)
            for op, (_, items) in monthly_calls(soak, topology, w).items()
            if op.startswith("dynamodb.")
        )
    return sum(read_units_by_owner(soak, topology, w).values())


def read_units_by_owner(soak: SoakUsage, topology: Topology, w: Workload) -> dict[str, float]:
    """`dynamodb_read_units` per owner (a function, or the poller's idle ticks), largest first: what the
    report's 10,000 SKU floor names; empty for a soak file without per-function counts."""
    by_owner: dict[str, float] = {}
    for owner, operations in owner_months(soak, topology, w).items():
        for op, calls in operations.items():
            strong = STRONG_READ_UNITS.get(op.partition(".")[2]) if op.startswith("dynamodb.") else None
            if strong is not None:
                share = consistent_share(soak, owner, op)
                units = calls * _items_per_call(soak, owner, op) * strong * (share + (1 - share) / 2)
                by_owner[owner] = by_owner.get(owner, 0.0) + units
    return dict(sorted(by_owner.items(), key=lambda kv: -kv[1]))


def _dynamodb_lines(reads: float, writes: tuple[float, float], p: Prices, a: Assumptions) -> list[Line]:
    """Request units: writes from `dynamodb_write_units`, reads from `dynamodb_read_units`; plus an
    assumed storage size."""
    stock, other = writes
    gb = a.dynamodb_storage_gb
    measured = f"{a.stock_change_write_units:g} per stock change, measured by bench.stock_writes"
    return [
        Line("DynamoDB", "write request units", other, "WRU", p.dynamodb_write_unit),
        Line("DynamoDB", "write request units, stock changes", stock, "WRU", p.dynamodb_write_unit, measured),
        Line("DynamoDB", "read request units", reads, "RRU", p.dynamodb_read_unit),
        Line("DynamoDB", "storage", gb, "GB-month", p.dynamodb_storage_gb_month, "assumed size"),
        Line("DynamoDB", "point-in-time recovery", gb, "GB-month", p.dynamodb_pitr_gb_month),
    ]


def _security_lines(
    calls: Mapping[str, tuple[float, float]], topology: Topology, accounts: int, *, p: Prices, a: Assumptions
) -> list[Line]:
    """Secrets (named + one per seller account), their reads, the stack's KMS key and its requests."""
    secret_calls = _monthly(calls, "secretsmanager")
    data_keys = (
        (len(topology.queues) * a.kms_principals_per_queue + len(topology.tables))
        * SECONDS_PER_MONTH
        / a.data_key_reuse_seconds
    )
    return [
        Line("Secrets Manager", "secrets", secret_count(topology, accounts), "secrets", p.secret_month,
             f"{accounts} seller accounts"),
        Line("Secrets Manager", "API calls", secret_calls, "calls", p.secrets_api_call),
        Line("KMS", "customer managed key", 1, "keys", p.kms_key_month),
        Line("KMS", "requests", secret_calls + data_keys, "requests", p.kms_request,
             "one per secret read + data-key refreshes of queues and tables"),
    ]  # fmt: skip


def _observability_lines(
    soak: SoakUsage, topology: Topology, webhooks: float, invocations: float, *, scale: float,
    custom_metrics: int, p: Prices, a: Assumptions,
) -> list[Line]:  # fmt: skip
    """Alarms, custom metrics, handler + API access logs; the dashboard and X-Ray are opt-in (0 here)."""
    log_gb = (
        soak.log_bytes * scale
        + webhooks * a.api_access_log_bytes_per_request
        + invocations * a.platform_log_bytes_per_invocation
    ) / GB
    return [
        Line("CloudWatch", "alarms", alarm_count(topology), "alarm metrics", p.alarm_month,
             "DLQs a seller must hear about, API 5xx, business alarms; the rest opt-in"),
        Line("CloudWatch", "dashboard", 0, "dashboards", p.dashboard_month, "opt-in: -c dashboard=true"),
        Line("CloudWatch", "custom metrics", custom_metrics, "metrics", p.custom_metric_month,
             "alarmed ones only, `service` dimension alone; a ceiling: billed only in hours one is sent"),
        Line("CloudWatch", "log ingestion", log_gb, "GB", p.logs_ingest_gb,
             "handler logs + Lambda's START/END/REPORT + API access logs"),
        Line("CloudWatch", "log storage", log_gb, "GB-month", p.logs_store_gb_month, "30-day retention"),
        Line("X-Ray", "traces", 0, "traces", p.xray_trace,
             f"opt-in: -c tracing=true would trace {invocations:,.0f} invocations"),
    ]  # fmt: skip


def estimate(
    soak: SoakUsage,
    topology: Topology,
    *,
    workload: Workload | None = None,
    prices: Prices | None = None,
    assumptions: Assumptions | None = None,
    custom_metrics: int = len(ALARM_METRICS),
) -> Estimate:
    """The month for `workload`, priced, line by line."""
    w, p, a = workload or Workload(), prices or Prices(), assumptions or Assumptions()
    factor = duration_factor(soak, a)
    functions = function_months(soak, topology, w, a, factor)
    scale = (w.stock_changes_per_month + w.orders_per_month) / soak.events if soak.events else 0.0
    calls = monthly_calls(soak, topology, w)
    notes = [
        "AWS calls (SQS, DynamoDB, Secrets Manager) scaled per function: event-driven ones by what drives "
        "them, scheduled ones by runs (x SKUs for the reconciler and the repricer; the gap scan by orders); "
        "the local event source's receive/delete calls left out (priced per batch as AWS's event source)."
        if soak.aws_calls_by_function
        else f"AWS calls are soak totals x {scale:,.1f} (the month's stock changes + orders over the "
        "soak's): this soak file has no per-function counts.",
        f"Log bytes are soak totals x {scale:,.1f} (the month's stock changes + orders over the soak's).",
        f"Lambda seconds adjusted x {factor:.2f}: {a.moto_call_seconds * 1000:.0f} ms of moto per AWS call "
        f"replaced by {a.aws_call_seconds * 1000:.0f} ms, {a.emulator_call_seconds * 1000:.0f} ms of the "
        f"emulator per Allegro call replaced by {a.allegro_call_seconds * 1000:.0f} ms"
        + (", per function from its own calls." if soak.allegro_calls_by_function else "."),
        "The soak runs with faults on (429s, 5xx, slow answers, crashed batches, redelivered events): the "
        "retries they cause are in its usage, so the scaled month leans pessimistic.",
        f"The order poller: every run all month (a tick every {a.order_tick_seconds:g} s + the watchdog) "
        "makes one idle poll's calls (bench.cost.IdleTick, checked by tests/integration/orders/"
        "test_poll_tick.py); what the soak's runs made beyond that is scaled by orders.",
    ]
    invocations = sum(f.invocations for f in functions)
    if not w.stock_changes_per_month and not w.orders_per_month:
        # CloudWatch bills a custom metric for the hours it is published, and the code publishes one only
        # when something needs the seller (adapters/alarm_metrics.count sends nothing for zero; an idle
        # tick or sweep counts nothing): a month without traffic sends none.
        custom_metrics = 0
    webhooks = w.stock_changes_per_month + w.orders_per_month * a.fulfillment_webhooks_per_order
    measured = sum(f.gb_seconds for f in functions)
    adjusted = sum(f.adjusted_gb_seconds for f in functions)
    lines = [
        Line("Lambda", "compute", measured, "GB-s", p.lambda_gb_second, "as measured"),
        Line("Lambda", "requests", invocations, "invocations", p.lambda_request),
        *_sqs_lines(calls, topology, functions, p=p, a=a),
        *_dynamodb_lines(
            dynamodb_read_units(soak, topology, w), dynamodb_write_units(soak, topology, w, a), p, a
        ),
        *_security_lines(calls, topology, w.seller_accounts or soak.config.accounts, p=p, a=a),
        *_observability_lines(
            soak, topology, webhooks, invocations, scale=scale, custom_metrics=custom_metrics, p=p, a=a
        ),
        Line("API Gateway", "HTTP API requests", webhooks, "requests", p.http_api_request, "one per webhook"),
        Line("EventBridge", "scheduled rules", sum(runs_per_month(topology).values()), "invocations",
             p.eventbridge_schedule_invocation),
    ]  # fmt: skip
    notes.extend(f"{f.name}: {f.note}" for f in functions if f.note)
    adjusted_compute = Line("Lambda", "compute", adjusted, "GB-s", p.lambda_gb_second, "adjusted")
    reads = read_units_by_owner(soak, topology, w) if soak.aws_calls_by_function else {}
    return Estimate(w, p, a, functions, lines, adjusted_compute, factor, notes, reads)


def schedule_triggers(topology: Topology) -> list[tuple[str, ScheduleTrigger]]:
    """(function, trigger) pairs, for the report's statement of the schedules it priced."""
    return [(f.name, t) for t, f in topology.schedules()]


# ---- the order poller with no traffic (issue 21, goal 2) -----------------------------------------------


@dataclass(frozen=True)
class IdleTick:
    """What one idle poll of the order poller costs in requests (handlers/order_poller.py; the DynamoDB and
    SQS counts are the handler's, checked by tests/integration/orders/test_poll_tick.py)."""

    # heartbeat (1, the watchdog's seed attempt likewise); an idle poll reads each account's cursor and
    # claims nothing (services/orders/polling.py `_nothing_new`; before: claim + release, 2 per account)
    writes_per_run: float = 1.0
    writes_per_account: float = 0.0
    # the connected accounts (one Query) + the app-wide Allegro block record (rate guard, cached 5 s)
    reads_per_run: float = 2.0
    reads_per_account: float = 1.0  # the cursor, strongly consistent
    # the next tick's SendMessage (the handler), the event source's receive and delete
    sqs_per_tick: float = 3.0
    # Assumed: ~5 AWS calls at ~10 ms and one /order/events GET at ~150 ms per account
    seconds_per_run: float = 0.1
    seconds_per_account: float = 0.15
    # Lambda's START/END/REPORT lines; an idle tick logs nothing itself
    log_bytes_per_run: float = 350.0


def poller_idle_calls(accounts: int, tick: IdleTick | None = None) -> dict[str, float]:
    """The AWS calls of one idle order-poller run, by operation (the counts `IdleTick` states)."""
    t = tick or IdleTick()
    return {
        "dynamodb.UpdateItem": t.writes_per_run + accounts * t.writes_per_account,
        "dynamodb.Query": 1.0,  # the connected accounts
        "dynamodb.GetItem": t.reads_per_run - 1.0 + accounts * t.reads_per_account,  # block record, cursors
        "sqs.SendMessage": 1.0,  # the next tick
    }


def _poller_month(
    soak: SoakUsage, w: Workload, used: FunctionUsage, *, runs: float, factor: float, memory: int,
    notes: list[str], tick: IdleTick | None = None,
) -> FunctionMonth:  # fmt: skip
    """Every run an idle poll (`IdleTick`'s seconds, already AWS-like), plus the soak's time beyond its
    runs' idle polls (enqueueing the orders it found) scaled by orders: a soak with traffic in every poll
    must not bill each of the month's ~530,000 ticks as if it found orders."""
    t = tick or IdleTick()
    idle = t.seconds_per_run + (w.seller_accounts or soak.config.accounts) * t.seconds_per_account
    soak_idle = used.invocations * (t.seconds_per_run + soak.config.accounts * t.seconds_per_account)
    busy = max(0.0, used.seconds - soak_idle) * _event_scale("order", soak, w)
    notes.append(f"{idle:.2f} s per idle run (assumed); the soak's time beyond its idle runs x orders")
    return FunctionMonth(
        ORDER_POLLER,
        "schedule",
        memory,
        runs,
        runs * idle + busy,
        runs * idle + busy * factor,
        "; ".join(notes),
    )


def order_poller_idle(
    topology: Topology,
    *,
    accounts: int = 1,
    tick_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
    prices: Prices | None = None,
    tick: IdleTick | None = None,
    assumptions: Assumptions | None = None,
) -> list[Line]:
    """The order poller's month with no orders: every tick and watchdog run is one idle poll per account."""
    p, t, a = prices or Prices(), tick or IdleTick(), assumptions or Assumptions()
    function = topology.function(ORDER_POLLER)
    ticks = ticks_per_month(tick_seconds)
    runs = runs_per_month(topology, tick_seconds)[ORDER_POLLER]
    seconds = runs * (t.seconds_per_run + accounts * t.seconds_per_account)
    tick_queues = [q for q in topology.queues if q.self_renewing]
    idle_polls = len(tick_queues) * a.idle_pollers_per_queue * SECONDS_PER_MONTH / a.long_poll_seconds
    return [
        Line("Lambda", "invocations", runs, "requests", p.lambda_request,
             f"a tick every {tick_seconds:g} s + the watchdog"),
        Line("Lambda", "compute", seconds * function.memory_mb / 1024, "GB-s", p.lambda_gb_second,
             f"{function.memory_mb} MB, {seconds / runs:.2f} s per run (assumed)"),
        Line("SQS", "poll-tick send, receive, delete", ticks * t.sqs_per_tick, "requests",
             p.sqs_standard_request),
        Line("SQS", "poll-tick idle long polls", idle_polls, "requests", p.sqs_standard_request,
             f"{a.idle_pollers_per_queue} event-source pollers (pessimistic: ticks answer most)"),
        Line("DynamoDB", "write request units", runs * (t.writes_per_run + accounts * t.writes_per_account),
             "WRU", p.dynamodb_write_unit, "the chain's heartbeat"),
        Line("DynamoDB", "read request units", runs * (t.reads_per_run + accounts * t.reads_per_account),
             "RRU", p.dynamodb_read_unit, "accounts, Allegro block record, each cursor"),
        Line("CloudWatch", "log ingestion", runs * t.log_bytes_per_run / GB, "GB", p.logs_ingest_gb,
             "Lambda's own lines"),
    ]  # fmt: skip


def order_poller_idle_loop(
    *, run_seconds: float = 50.0, memory_mb: int = 256, prices: Prices | None = None
) -> list[Line]:
    """The old poller for comparison: a run every minute that polled (and slept) for `run_seconds`."""
    p = prices or Prices()
    runs = MINUTES_PER_MONTH
    return [
        Line("Lambda", "invocations", runs, "requests", p.lambda_request, "every minute"),
        Line("Lambda", "compute", runs * run_seconds * memory_mb / 1024, "GB-s", p.lambda_gb_second,
             f"{run_seconds:g} s billed per run, mostly sleeping"),
    ]  # fmt: skip


# ---- the shops the report prices (issue 21, goal 1) --------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A shop the report prices, with the goal it must meet and the figure before issue 21, where known."""

    label: str
    workload: Workload
    goal_usd: float | None = None
    old_usd: float | None = None


SCENARIOS = (
    # Idle: what a seller pays for having the system installed; one account, a small catalogue, no traffic.
    Scenario("idle: 1 seller account, 1,000 SKUs, no orders, no stock changes",
             Workload(1_000, 0, 0, seller_accounts=1), goal_usd=3.0, old_usd=25.0),
    Scenario("1,000 SKUs / 100 orders a day / 2,000 stock changes a day", Workload(1_000, 100, 2_000)),
    Scenario("10,000 SKUs / 1,000 orders a day / 20,000 stock changes a day", Workload(),
             goal_usd=8.0, old_usd=82.0),
    Scenario("100,000 SKUs / 10,000 orders a day / 200,000 stock changes a day",
             Workload(100_000, 10_000, 200_000)),
)  # fmt: skip


def scenarios(
    soak: SoakUsage, topology: Topology, *, custom_metrics: int = 0
) -> list[tuple[Scenario, Estimate]]:
    """Every scenario's month from the same metered soak: only the workload changes."""
    return [
        (s, estimate(soak, topology, workload=s.workload, custom_metrics=custom_metrics)) for s in SCENARIOS
    ]
