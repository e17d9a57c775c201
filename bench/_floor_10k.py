"""The report's "The 10,000 SKU floor": every line of the 10,000 SKU month, and what going lower would take.

Issue 21 goal 1 asks for <= $8 a month at 10,000 SKUs / 1,000 orders / 20,000 stock changes a day. Each line
is either fixed by the user's shape or by security (it bills the same with no traffic), or it follows the
traffic; the table says which, and for a traffic line what drives it and what would cut it. Lambda compute is
the adjusted line (the goal is judged on the adjusted total), split by function; reads are split by owner.
"""

from __future__ import annotations

from typing import Literal

from bench import cost

Kind = Literal["shape", "security", "traffic"]

# (service, the item's words before any parenthesis) -> (why it bills, what would take it lower)
FLOOR_10K: dict[tuple[str, str], tuple[Kind, str]] = {
    ("Lambda", "compute"): (
        "traffic",
        "the soak's seconds per invocation (wall time), scaled by each function's driver and adjusted by "
        "each function's own calls (x{factor:.2f} overall); by function: {functions}. Wall time in the soak "
        "includes waiting for a core: 15 functions, the emulator (which checks every exchange against the "
        "spec) and the soak share one 2-core process. The invocations' own CPU, metered since 2026-12-07, "
        "says how much: by the CPU model (that CPU at the function's memory share of a vCPU, 1,769 MB = 1 "
        "vCPU, plus 10 ms per AWS and 150 ms per Allegro call) this line is {cpu_model}, and the stock "
        "propagator's {propagator:.2f} s per invocation {propagator_model}. The CPU model leaves out "
        "back-off sleeps and waits on Allegro's commands (which AWS bills), and slows CPU-heavy work to a "
        "small function's share of a core (the repricer at 512 MB: x3.5); the wall-time line keeps the "
        "shared process's waits. Most of the propagator's model is Allegro's latency (150 ms a call): "
        "fewer calls per push lower it, more memory would not",
    ),
    ("DynamoDB", "read request units"): (
        "traffic",
        "by owner: {readers}. The repricer reads each ruled SKU's facts every 15 minutes (the soak: one "
        "account with an account-wide rule, so at 10,000 SKUs 10,000 SKUs x 96 runs a day): product + link "
        "since issue 21's cut (2 keys, was 3 with the content item: -1/3 of its line). Lower takes reading "
        "only SKUs whose facts changed since the last round, which needs a change feed from the catalogue "
        "(a DynamoDB stream or a 'changed since' index) and the last facts kept between runs; or an hourly "
        "round (the seller's choice: a quarter of it). Reads that ask no ConsistentRead bill half (metered "
        "from the next soak on)",
    ),
    ("CloudWatch", "log ingestion"): (
        "traffic",
        "the handlers' structured lines (the counts that replace metrics, docs/operations.md) and Lambda's "
        "START/END/REPORT (350 B) for ~2.6 M invocations a month; WARNING level by default would cut the "
        "handlers' part and lose those counts; lines without Powertools' context fields perhaps a third",
    ),
    ("Secrets Manager", "secrets"): (
        "security",
        "one configuration secret and one per seller account (3 in the scenario): tokens rotate on their own "
        "and only the functions that call Allegro read them; $0.40 each",
    ),
    ("DynamoDB", "write request units"): (
        "traffic",
        "orders, fulfilment, the sweeps' records and the order poller's heartbeat (one per 5 s tick, D9)",
    ),
    ("DynamoDB", "write request units, stock changes"): (
        "traffic",
        "2.31 WRU per stock change (bench.stock_writes; goal 5 <= 4): the ledger's level and the push "
        "record (and a delivery record when the shop sends no occurred_at) that make it exactly-once; "
        "fewer would give that up",
    ),
    ("CloudWatch", "custom metrics"): (
        "security",
        "the 5 alarmed metrics a seller must hear about (a ceiling: billed only in hours one is sent)",
    ),
    ("SQS", "idle long polls"): (
        "shape",
        "Lambda's event source keeps long-polling each triggering queue (5 pollers pessimistic, as few as "
        "2): ~$0.26-0.33 a queue whatever the traffic; only fewer queues lower it (see the idle floor)",
    ),
    ("SQS", "event-source receive+delete (standard)"): (
        "traffic",
        "2 requests per batch: the poll-tick chain every 5 s (goal 2), the shop outbox and the rechecks",
    ),
    ("SQS", "event-source receive+delete"): (
        "traffic",
        "2 requests per batch; a stock change passes two FIFO queues (shop-events, stock-changes) whose "
        "group is the SKU, so changes of different SKUs rarely share a batch at ~0.25 changes a second",
    ),
    ("KMS", "requests"): (
        "security",
        "data-key refreshes of every queue and table (~5 min reuse per principal) and the secrets' reads; "
        "AWS-owned keys would remove most of it, with the key's controls",
    ),
    ("KMS", "customer managed key"): (
        "security",
        "one key the seller controls for tokens, buyers' data and logs (key policy, CloudTrail, revocation)",
    ),
    ("CloudWatch", "alarms"): ("security", "the 10 default alarms a seller must hear about; the rest opt-in"),
    ("SQS", "handler requests"): (
        "traffic",
        "messages the handlers send (shop events -> stock changes, orders, outbox, ticks); priced as FIFO",
    ),
    ("API Gateway", "HTTP API requests"): (
        "shape",
        "one per shop webhook: the shop pushes each change (the user's shape)",
    ),
    ("Secrets Manager", "API calls"): ("security", "each instance reads its secrets once per 5 minutes"),
    ("Lambda", "requests"): ("traffic", "one per invocation, $0.20 a million"),
    ("DynamoDB", "storage"): ("shape", "assumed 1 GB"),
    ("DynamoDB", "point-in-time recovery"): ("security", "a restore point for the ledger and orders"),
    ("CloudWatch", "log storage"): ("traffic", "30-day retention of the ingested logs"),
}


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _remedy(estimate: cost.Estimate, key: tuple[str, str]) -> tuple[Kind, str]:
    kind, text = FLOOR_10K.get(key, ("traffic", ""))
    price = estimate.prices.lambda_gb_second
    top = sorted(estimate.functions, key=lambda f: -f.adjusted_gb_seconds)[:4]
    functions = ", ".join(f"{f.name} {_usd(f.adjusted_gb_seconds * price)}" for f in top)
    readers = ", ".join(
        f"{owner} {_usd(units * estimate.prices.dynamodb_read_unit)}"
        for owner, units in list(estimate.reads_by_owner.items())[:4]
    )
    pushes = next((f for f in estimate.functions if f.name == "stock_propagator" and f.invocations), None)
    propagator = pushes.seconds / pushes.invocations if pushes else 0.0
    by_cpu = estimate.cpu_model_compute
    modelled = pushes.cpu_model_seconds if pushes else None
    return kind, text.format(
        factor=estimate.duration_factor,
        functions=functions,
        readers=readers or "n/a",
        propagator=propagator,
        cpu_model=_usd(by_cpu.monthly_usd) if by_cpu else "not metered (an older soak file)",
        propagator_model=f"is {modelled / pushes.invocations:.2f} s"
        if pushes and modelled is not None
        else "was not metered",
    )


def ten_k_floor_markdown(estimate: cost.Estimate, goal_usd: float | None = None) -> list[str]:
    """Every line of the 10,000 SKU month, largest first: why it bills and what going lower would take."""
    rows: list[tuple[float, str]] = []
    fixed = 0.0
    for line in estimate.lines:
        chosen = estimate.adjusted_compute if line is estimate.compute else line
        if chosen.monthly_usd < 0.01:
            continue
        exact = (line.service, line.item)
        kind, remedy = _remedy(
            estimate, exact if exact in FLOOR_10K else (line.service, line.item.split(" (")[0])
        )
        fixed += chosen.monthly_usd if kind != "traffic" else 0.0
        usd = chosen.monthly_usd
        rows.append((usd, f"| {line.service} | {line.item} | {_usd(usd)} | {kind} | {remedy or line.note} |"))
    goal = f" against the goal of {_usd(goal_usd)}" if goal_usd is not None else ""
    return [
        "",
        "### The 10,000 SKU floor",
        "",
        f"Adjusted total {_usd(estimate.total_adjusted)}{goal}. Lines kept for security and for what a "
        f"seller must hear about, or fixed by the user's shape (SQS and EventBridge triggers, shop webhooks, "
        f"Secrets Manager, one CDK stack): {_usd(fixed)}; the rest follows the traffic and the sweeps.",
        "",
        "| Service | Item | USD / month | Bills for | Why, and what going lower would take |",
        "|---|---|---:|---|---|",
        *(row for _, row in sorted(rows, key=lambda r: -r[0])),
    ]
