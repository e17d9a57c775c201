"""`python -m bench.report`: gather `bench/results/*.json` into `bench/REPORT.md` and PNG charts.

One place for the figures issue 9 asks for, each beside the command that reproduces it, the machine facts
and the date; a benchmark that failed or never ran is shown as missing rather than left out, so a reader
can tell "not measured" from "measured and fine". The monthly AWS cost comes from `bench.cost` applied to
the soak's metered usage.

Run: .venv/bin/python -m bench.report [results_dir]   (default bench/results)
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from allegro_sync.topology import TOPOLOGY, QueueTrigger
from bench import cost
from bench._floor_10k import ten_k_floor_markdown
from bench._results import RESULTS_DIR, load_all

HERE = Path(__file__).resolve().parent
REPORT = HERE / "REPORT.md"
CHARTS = HERE / "report"
PACKAGE = HERE.parent / "functions" / "allegro_sync"
NOT_BENCHMARKS = frozenset({"cost", "report"})
RUN_FILE = "_run.json"  # written by `bench/__main__.py`: which benchmarks ran, exit codes, durations
PEERS = (
    "BaseLinker-class integrators sync stock on an interval: every few minutes to every few hours, as "
    "sellers "
    "report it (the product brief's premise; we did not measure any peer)"
)
PEER_SECONDS = (3 * 60, 3 * 3600)  # "a few minutes" .. "a few hours", for the chart's shaded band


def benchmark_names() -> list[str]:
    """Every benchmark in bench/ (what `make bench` runs): its modules, and its packages with a `__main__`
    (the soak)."""
    modules = [p.stem for p in HERE.glob("*.py")] + [p.parent.name for p in HERE.glob("*/__main__.py")]
    return sorted(name for name in modules if not name.startswith("_") and name not in NOT_BENCHMARKS)


def count_custom_metrics(package: Path = PACKAGE) -> int:
    """Distinct metric names the code publishes (`alarm_metrics.count`, or Powertools' `add_metric` should
    one come back): one CloudWatch metric each, as each carries the `service` dimension alone (issue 21;
    tests/unit/architecture/test_metrics.py holds the code to that)."""
    names: set[str] = set()
    pattern = re.compile(r"(?:add_metric|alarm_metrics\.count)\(\s*(?:name=)?\"([A-Za-z0-9_]+)\"")
    for path in package.rglob("*.py"):
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return len(names)


def _get(results: dict[str, dict[str, Any]], name: str, *keys: str) -> Any:
    node: Any = results.get(name, {}).get("figures", results.get(name, {}) if name == "soak" else {})
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


@dataclass(frozen=True)
class Headline:
    figure: str
    source: str
    value: Callable[[dict[str, dict[str, Any]]], str | None]


def _pair(a: Any, b: Any, unit: str) -> str | None:
    if a is None or b is None:
        return None
    digits = 0 if unit == "ms" else 2
    return f"p50 {a:.{digits}f} {unit} / p99 {b:.{digits}f} {unit}"


def _latency(figure: str, name: str, *keys: str, unit: str) -> Headline:
    """A headline of the p50 / p99 pair benchmark `name` records as `<last key>_p50_<unit>` and `_p99_`."""
    *path, stem = keys

    def value(results: dict[str, dict[str, Any]]) -> str | None:
        return _pair(
            _get(results, name, *path, f"{stem}_p50_{unit}"),
            _get(results, name, *path, f"{stem}_p99_{unit}"),
            unit,
        )

    return Headline(figure, name, value)


def _figures(figure: str, name: str, template: str) -> Headline:
    """A headline filled from benchmark `name`'s figures (`str.format` fields, `[key]` for a nested one);
    missing ("not measured") when the run recorded any of them not at all."""

    def value(results: dict[str, dict[str, Any]]) -> str | None:
        figures = _get(results, name)
        try:
            return template.format_map(figures) if isinstance(figures, dict) else None
        except (KeyError, TypeError):  # a figure absent, or None where a number is formatted
            return None

    return Headline(figure, name, value)


def _cold(results: dict[str, dict[str, Any]]) -> str | None:
    """The slowest handler's import as a ratio to `import boto3` in the same run (goal <= 1.5x)."""
    handlers = _get(results, "cold_import", "handlers")
    if not handlers or not all("ratio_to_boto3" in h for h in handlers.values()):
        return None
    slowest = max(handlers.items(), key=lambda kv: kv[1]["ratio_to_boto3"])
    fastest = min(h["ratio_to_boto3"] for h in handlers.values())
    warning = _get(results, "cold_import", "warning")
    floor = _get(results, "cold_import", "floor", "ratio_to_boto3")
    floors = _get(results, "cold_import", "floors") or {}
    models, consumer = (floors.get(k, {}).get("ratio_to_boto3") for k in ("models", "consumer"))
    return (
        f"{fastest:.2f}-{slowest[1]['ratio_to_boto3']:.2f}x `import boto3` (slowest {slowest[0]}; "
        "goal <= 1.5x, was 1.9-4.6x from sources)"
        + (f"; floor {floor:.2f}x (boto3 + pydantic + Powertools)" if floor else "")
        + (f", {models:.2f}x once a model is defined" if models else "")
        + (f", {consumer:.2f}x for a queue consumer (+ Powertools' batch)" if consumer else "")
        + (f" ({warning})" if warning else "")
    )


def _cold_floors(results: dict[str, dict[str, Any]]) -> list[str]:
    """Each handler beside the floor it stands on (issue 21, goal 6: <= 1.5x), and what the floor is made
    of: what the goal would take where the floor itself is over it."""
    handlers = _get(results, "cold_import", "handlers") or {}
    floors = _get(results, "cold_import", "floors") or {}
    base = _get(results, "cold_import", "floor") or {}
    if not handlers or not floors or not base:
        return []
    consumers = {f.name for f in TOPOLOGY.functions if any(isinstance(t, QueueTrigger) for t in f.triggers)}
    names = {"base": "boto3 + pydantic + Powertools' Logger", "models": "+ a pydantic model defined",
             "consumer": "+ Powertools' batch utility"}  # fmt: skip
    out = [
        "The floor each handler stands on (its ratio can come no lower while it imports what the floor "
        "names), and its own code above it:",
        "",
        "| Handler | x boto3 | Floor | Floor x boto3 | Own code above the floor |",
        "|---|---:|---|---:|---:|",
    ]
    for name, figures in sorted(handlers.items(), key=lambda kv: -kv[1]["ratio_to_boto3"]):
        kind = "consumer" if name in consumers else "base" if name == "health" else "models"
        floor = (base if kind == "base" else floors.get(kind, {})).get("ratio_to_boto3")
        if floor is None:
            continue
        ratio = figures["ratio_to_boto3"]
        out.append(
            f"| {name} | {ratio:.2f}x | {names[kind]} | {floor:.2f}x | {max(0.0, ratio - floor):+.2f}x |"
        )
    batch = floors.get("consumer", {}).get("ratio_to_boto3", 0.0) - floors.get("models", {}).get(
        "ratio_to_boto3", 0.0
    )
    out += [
        "",
        "What <= 1.5x would take where a floor is over it: a queue consumer without Powertools' batch "
        "utility (its package imports every Powertools event data class and asyncio: "
        f"{batch:.2f}x of an `import boto3` in this run), i.e. our own partial-batch loop in place of the "
        "library the project's standards ask for; and a handler that defines no pydantic model at import "
        "(messages and settings parsed "
        "from plain dicts until first use). The margin over a floor is the handler's own modules (its "
        "messages, the topology, the domain it uses). A handler under the floor of its trigger's kind "
        "imports part of what that floor names only when first used (the order poller's batch utility), or "
        "sits inside one run's noise (each ratio's range is in the bench's output).",
        "",
    ]
    return out


def _asset(results: dict[str, dict[str, Any]]) -> str | None:
    asset = _get(results, "cold_import", "asset")
    if not asset or "unzipped_mb" not in asset:
        return None
    return f"{asset['unzipped_mb']} MB unzipped (limit 250 MB), {asset['zipped_mb']} MB zipped"


def _repricing(results: dict[str, dict[str, Any]]) -> str | None:
    seconds, offers = (
        _get(results, "repricing_plan", "plan_wall_s"),
        _get(results, "repricing_plan", "offers"),
    )
    if seconds is None:
        return None
    return (
        f"{seconds:.2f} s wall for {offers:,} offers ({_get(results, 'repricing_plan', 'plan_cpu_s')} s CPU)"
    )


HEADLINES = [
    _latency(
        "Stock: shop webhook -> Allegro shows it (soak, under faults)", "soak", "latency", "stock", unit="s"
    ),
    _latency(
        "Stock: ledger change -> queue -> propagator -> Allegro shows it",
        "stock_propagation",
        "queued",
        unit="ms",
    ),
    _latency("Order: Allegro purchase -> shop (soak, under faults)", "soak", "latency", "order", unit="s"),
    _figures(
        "Order -> shop in the soak: what its fault windows alone force, and the system's own part",
        "soak",
        "the windows (Allegro's block, the shop's outage) force up to {latency[order_floor_max_s]:.1f} s on "
        "an order; once the last window holding an order closed it reached the shop in p50 "
        "{latency[order_after_faults_p50_s]:.2f} s / p99 {latency[order_after_faults_p99_s]:.2f} s",
    ),
    _latency(
        "Order: Allegro purchase -> shop outbox (poll every 5 s)",
        "orders_import",
        "purchase_to_outbox",
        unit="s",
    ),
    _figures(
        "Order -> shop p99 as deployed, modelled (goal <= 10 s); order poller idle",
        "order_latency",
        "{as_deployed_p99_s:.1f} s (was {old_as_deployed_p99_s:.1f} s); "
        "idle ${poller_idle_usd_month:.2f}/month (was ${old_poller_idle_usd_month:.2f})",
    ),
    _figures(
        "Allegro calls per stock change in a burst",
        "stock_propagation",
        "{allegro_calls_per_change:.3f} ({burst_changes:,} changes over {burst_skus:,} SKUs)",
    ),
    _figures(
        "Catalogue import rate (CSV -> published offers, one worker)",
        "catalog_import",
        "{offers_per_min:,.0f} offers/min measured (was 197), "
        "{allegro_calls_per_offer} Allegro calls per offer (was 3.02)",
    ),
    _figures(
        "Catalogue import as deployed (modelled; Allegro share, seller writes, Lambda concurrency)",
        "catalog_import",
        "{offers_per_min_as_deployed:,.0f} offers/min (was 830), {aws_calls_per_offer} AWS calls per offer "
        "(was 15.6)",
    ),
    _figures(
        "DynamoDB write units per stock change, webhook -> Allegro (goal <= 4)",
        "stock_writes",
        "{wcu_per_stock_change:.2f} with the shop's occurred_at, {wcu_per_stock_change_undated:.2f} without "
        "(before: {wcu_per_stock_change_before:.2f} measured, "
        "about {wcu_per_stock_change_issue:g} per issue 21)",
    ),
    Headline("Repricing plan time, 100,000 offers", "repricing_plan", _repricing),
    _figures("Orders imported per minute (burst, one worker)", "orders_import", "{orders_per_min:,}"),
    _figures(
        "Webhook intake, own code per delivery (generic, queued)",
        "webhook_intake",
        "{scenarios[generic queued][own_ms]} ms ({scenarios[generic queued][aws_calls]} AWS calls)",
    ),
    _figures(
        "Shop reconciliation per run, 10,000 products of which 100 changed (lost webhooks)",
        "shop_reconcile",
        "{incremental[shop_calls]} shop calls, {incremental[aws_calls]} AWS calls, "
        "~{incremental[seconds_in_aws_estimate]} s in AWS; "
        "USD {monthly[usd_idle]:.2f}/month idle at every 15 min",
    ),
    Headline("Handler cold import (asset's packages with its .pyc, x import boto3)", "cold_import", _cold),
    Headline("Lambda asset size", "cold_import", _asset),
]


# ---- cost ------------------------------------------------------------------------------------------------


def cost_estimate(results: dict[str, dict[str, Any]]) -> tuple[cost.Estimate | None, str | None]:
    """The estimate from soak.json, or why there is none."""
    soak = results.get("soak")
    if soak is None:
        return None, "no bench/results/soak.json: the soak did not run or did not finish"
    if "error" in soak:
        return None, str(soak["error"])
    try:
        usage = cost.parse_soak(soak)
        return cost.estimate(usage, TOPOLOGY, custom_metrics=count_custom_metrics()), None
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        return None, f"soak.json does not follow the schema bench/cost.py reads: {exc}"


def scenario_estimates(results: dict[str, dict[str, Any]]) -> list[tuple[cost.Scenario, cost.Estimate]]:
    """Every priced shop (idle, 1,000 / 10,000 / 100,000 SKUs) from the soak, or none without one."""
    soak = results.get("soak")
    if soak is None or "error" in soak:
        return []
    try:
        return cost.scenarios(cost.parse_soak(soak), TOPOLOGY, custom_metrics=count_custom_metrics())
    except ValueError:  # cost_estimate already says why
        return []


def _against(scenario: cost.Scenario, estimate: cost.Estimate) -> str:
    """`$x adjusted ($y as measured)` with the goal met or missed and the figure before issue 21."""
    text = f"{_usd(estimate.total_adjusted)} adjusted ({_usd(estimate.total_measured)} as measured)"
    if scenario.goal_usd is not None:
        met = "met" if estimate.total_adjusted <= scenario.goal_usd else "MISSED"
        text += f"; goal <= {_usd(scenario.goal_usd)}: {met}"
    if scenario.old_usd is not None:
        text += f"; before issue 21: about {_usd(scenario.old_usd)}"
    return text


def scenarios_markdown(scenes: Sequence[tuple[cost.Scenario, cost.Estimate]]) -> list[str]:
    """The month by shop size, each from the same metered soak scaled by every function's own driver."""
    out = [
        "",
        "### By shop size",
        "",
        "| Shop | USD / month | Largest line |",
        "|---|---|---|",
    ]
    for scenario, estimate in scenes:
        largest = max(estimate.lines, key=lambda line: line.monthly_usd)
        out.append(
            f"| {scenario.label} | {_against(scenario, estimate)} | {largest.service} {largest.item} "
            f"{_usd(largest.monthly_usd)} |"
        )
    return out


# What each line that bills with no traffic at all would take to remove, inside or outside the user's shape
# (keyed by service and the item's words before any parenthesis: "idle long polls (FIFO, 4 queues)").
FLOOR_REMEDIES = {
    ("Secrets Manager", "secrets"): "one configuration secret (app credentials, webhook signing and shop "
    "credentials as sections: $0.80 less than three) and one per seller account: its tokens rotate on "
    "their own and only functions that call Allegro read them, so they stay apart; each secret is $0.40",
    ("KMS", "customer managed key"): "kept: one key the seller controls encrypts tokens, buyers' data in "
    "tables and queues, and logs (key policy, CloudTrail on every use, one switch to revoke); AWS-owned "
    "keys would save $1.00 and most of the request line, at the price of those controls",
    ("KMS", "requests"): "data-key refreshes of every queue and table (~5 min reuse) and the secrets' reads; "
    "fewer queues or AWS-owned keys lower it",
    ("SQS", "idle long polls"): "Lambda's event source long-polls every triggering queue even when idle "
    "(5 pollers pessimistic, as few as 2): ~$0.26-0.33 a queue; carrying a rare queue's messages on another "
    "queue with a message type would remove one (not done: each consumer's batch size, visibility, FIFO "
    "or delays and DLQ would have to agree). The poll-tick queue cannot go (it carries the tick, D9); "
    "the rare delayed queues (token-recovery, stock-rechecks) are the candidates, ~$0.26 each. A "
    "scheduler outside SQS (EventBridge Scheduler one-shot per tick) would leave the user's SQS shape",
    ("SQS", "event-source receive+delete"): "the poll-tick chain's receive and delete, every 5 s",
    ("SQS", "handler requests"): "the next poll-tick, sent by each tick (priced as FIFO: pessimistic)",
    ("Lambda", "compute"): "the poll-tick every 5 s (goal 2: p99 <= 10 s needs it) and the 15-minute sweeps "
    "(the repricer at 512 MB, paging 1,000 offers a run: bench.sweeps); a longer tick trades order latency "
    "for it: bench.order_latency models a 6 s tick at p99 9.63 s and $1.89 idle, 7 s at 10.62 s (over the "
    "goal), against 8.64 s and $2.21 at 5 s; kept at 5 s for the margin under 10 s",
    ("Lambda", "requests"): "a tick every 5 s and the schedules",
    ("DynamoDB", "write request units"): "the poll-tick chain's heartbeat, one per tick (an idle poll reads "
    "each account's cursor and claims nothing) and the sweeps' records; the heartbeat stays: its `seq` is "
    "what keeps exactly one chain (docs/architecture.md D9)",
    ("DynamoDB", "read request units"): "the 15-minute sweeps read every offer's facts (eventually "
    "consistent batches) and each tick reads the accounts, the Allegro block record and each cursor",
    ("CloudWatch", "alarms"): "$0.10 per watched metric; the defaults are the ones a seller must hear about, "
    "the rest opt-in (`-c detailedAlarms=true`)",
    ("CloudWatch", "custom metrics"): "$0.30 per metric and hour-billed: nothing is sent while nothing "
    "needs the seller; the rest are log fields (docs/operations.md)",
    ("DynamoDB", "storage"): "assumed size; a 1,000 SKU shop stores far less",
    ("DynamoDB", "point-in-time recovery"): "a restore point for the ledger and orders; priced per GB stored",
    ("Secrets Manager", "API calls"): "cold starts read the secrets once per instance",
}


def floor_markdown(idle: cost.Estimate) -> list[str]:
    """The idle month line by line: what bills while nothing happens, and what removing it would take."""
    out = [
        "",
        "### The idle floor",
        "",
        f"Adjusted total {_usd(idle.total_adjusted)} (Lambda compute adjusted: "
        f"{_usd(idle.adjusted_compute.monthly_usd)}).",
        "",
        "| Service | Item | USD / month | What it would take |",
        "|---|---|---:|---|",
    ]
    for line in sorted(idle.lines, key=lambda line: -line.monthly_usd):
        if line.monthly_usd >= 0.01:
            key = (line.service, line.item.split(" (")[0])
            remedy = FLOOR_REMEDIES.get(key, line.note)
            out.append(f"| {line.service} | {line.item} | {_usd(line.monthly_usd)} | {remedy} |")
    return out


def ten_k_floor(scenes: Sequence[tuple[cost.Scenario, cost.Estimate]]) -> list[str]:
    """The 10,000 SKU floor for the default workload's scenario, if it was priced."""
    return next((ten_k_floor_markdown(e, s.goal_usd) for s, e in scenes if s.workload == cost.Workload()), [])


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _unit_price(value: float) -> str:
    return f"${value * 1e6:.4g} per M" if 0 < value < 0.01 else f"${value:.4g}"


def _qty(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def cost_markdown(estimate: cost.Estimate) -> list[str]:
    w, a = estimate.workload, estimate.assumptions
    top = max(estimate.functions, key=lambda f: f.gb_seconds)
    total_gb_s = sum(f.gb_seconds for f in estimate.functions) or 1.0
    out = [
        f"For a shop with **{w.skus:,} SKUs, {w.orders_per_day:,.0f} orders/day and "
        f"{w.stock_changes_per_day:,.0f} stock changes/day**, region {estimate.prices.region}, no free tier:",
        "",
        f"- **{_usd(estimate.total_measured)} per month** with Lambda durations as measured in the soak "
        "(handlers in-process against moto and the emulator on 127.0.0.1);",
        f"- **{_usd(estimate.total_adjusted)} per month** with durations adjusted x "
        f"{estimate.duration_factor:.2f} "
        f"(moto's {a.moto_call_seconds * 1000:.0f} ms per AWS call -> {a.aws_call_seconds * 1000:.0f} ms; "
        "the "
        f"emulator's {a.emulator_call_seconds * 1000:.0f} ms per Allegro call -> "
        f"{a.allegro_call_seconds * 1000:.0f}"
        " ms).",
        f"- the largest Lambda consumer is {top.name}: {top.gb_seconds / total_gb_s:.0%} of the measured GB-s"
        + (f" ({top.note})" if top.note else "")
        + ".",
        "",
        "![Monthly cost per service](report/cost.png)",
        "",
        "| Service | Item | Quantity / month | Unit | Unit price | USD / month | Note |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for line in [*estimate.lines[:1], estimate.adjusted_compute, *estimate.lines[1:]]:
        out.append(
            f"| {line.service} | {line.item} | {_qty(line.quantity)} | {line.unit} | "
            f"{_unit_price(line.unit_price)} | {_usd(line.monthly_usd)} | {line.note} |"
        )
    out += [
        "",
        "Per function (a month; driver = what its usage is scaled by):",
        "",
        "| Function | Driver | Memory | Invocations | Seconds (measured) | Seconds (adjusted) | "
        "Seconds (CPU model) | Note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for f in sorted(estimate.functions, key=lambda f: -f.gb_seconds):
        by_cpu = "-" if f.cpu_model_seconds is None else f"{f.cpu_model_seconds:,.0f}"
        out.append(
            f"| {f.name} | {f.driver} | {f.memory_mb} MB | {f.invocations:,.0f} | {f.seconds:,.0f} | "
            f"{f.adjusted_seconds:,.0f} | {by_cpu} | {f.note} |"
        )
    out += ["", "How the soak's usage was scaled, and what was assumed:", ""]
    out += [f"- {note}" for note in estimate.notes]
    out += [
        "- Scheduled functions run at their topology rates: "
        + ", ".join(f"{name} every {t.rate_minutes} min" for name, t in cost.schedule_triggers(TOPOLOGY))
        + "; reconciler and repricer time per run is scaled by SKUs.",
        f"- Idle SQS event sources: {a.idle_pollers_per_queue} long polls of {a.long_poll_seconds} s per "
        "queue "
        'without pause (AWS: Lambda keeps 5 concurrent pollers on a quiet queue and "can optimize to as '
        "few as "
        '2", https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html); '
        f"{a.esm_requests_per_batch} SQS requests (receive + delete) per batch.",
        "- DynamoDB: 1 RRU per item up to 4 KB read strongly consistent, half for an eventually consistent "
        "read (as the soak metered each; a soak file without that: GetItem/Query/Scan strong, BatchGetItem "
        f"eventual), 1 WRU per item up to 1 KB, "
        f"transactions 2 units per item; {a.dynamodb_storage_gb:g} GB stored (assumed) with PITR.",
        f"- KMS: one request per secret read plus a data-key refresh every {a.data_key_reuse_seconds} s "
        "for each "
        f"queue x {a.kms_principals_per_queue} principals and each table.",
        f"- Logs: the soak's log bytes scaled, plus {a.api_access_log_bytes_per_request} B of API access "
        f"log per webhook and {a.platform_log_bytes_per_invocation} B of Lambda's START/END/REPORT lines per "
        "invocation. X-Ray tracing, the dashboard and per-function alarms are opt-in (`-c tracing=true`, "
        "`-c dashboard=true`, `-c detailedAlarms=true`) and not counted.",
        "- Custom metrics: distinct Powertools metric names in the code (a floor: extra dimensions add "
        "more).",
        "",
        f"Prices ({estimate.prices.source}):",
        "",
        "| Item | Price | Unit |",
        "|---|---:|---|",
    ]
    out += [f"| {item} | {price} | {unit} |" for item, price, unit in estimate.prices.rows()]
    out += ["", "What could be checked from here (no pricing page was reachable):", ""]
    out += [f"- {evidence}" for evidence in cost.PRICE_EVIDENCE]
    out.append(
        "- every other rate above is the AWS price list for Frankfurt as the authors knew it; re-check it in "
        "the AWS Pricing Calculator."
    )
    out += [
        "",
        "Free tiers (Lambda: 1 M requests + 400,000 GB-s a month; SQS: 1 M requests; 10 alarms; 10 custom "
        "metrics; 5 GB of logs; 100,000 traces) would lower these totals; they are left out because a "
        "seller's "
        "account may already use them.",
    ]
    return out


# ---- charts ----------------------------------------------------------------------------------------------


def charts(results: dict[str, dict[str, Any]], estimate: cost.Estimate | None, folder: Path) -> list[Path]:
    """PNG charts (Agg backend, no display): latency against the peers' interval, cost, cold imports."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    latencies = [
        ("stock: webhook -> Allegro\n(soak)", _get(results, "soak", "latency", "stock_p50_s"),
         _get(results, "soak", "latency", "stock_p99_s")),
        ("stock: change -> Allegro\n(stock_propagation)",
         _ms(_get(results, "stock_propagation", "queued_p50_ms")),
         _ms(_get(results, "stock_propagation", "queued_p99_ms"))),
        ("order: purchase -> shop\n(soak)", _get(results, "soak", "latency", "order_p50_s"),
         _get(results, "soak", "latency", "order_p99_s")),
        ("order: purchase -> outbox\n(orders_import)",
         _get(results, "orders_import", "purchase_to_outbox_p50_s"),
         _get(results, "orders_import", "purchase_to_outbox_p99_s")),
    ]  # fmt: skip
    measured = [(label, p50, p99) for label, p50, p99 in latencies if p50 is not None and p99 is not None]
    if measured:
        fig, ax = plt.subplots(figsize=(9, 4.8))
        xs = range(len(measured))
        ax.bar([x - 0.2 for x in xs], [m[1] for m in measured], width=0.4, label="p50", color="#2b7bba")
        ax.bar([x + 0.2 for x in xs], [m[2] for m in measured], width=0.4, label="p99", color="#f39c12")
        ax.axhspan(
            *PEER_SECONDS,
            color="#c0392b",
            alpha=0.12,
            label="peers' sync interval: minutes to hours (as sellers report; not measured)",
        )
        ax.set_yscale("log")
        ax.set_ylabel("seconds (log scale)")
        ax.set_xticks(list(xs), [m[0] for m in measured], fontsize=8)
        ax.set_title("Latency measured here vs. the interval BaseLinker-class tools sync stock at")
        ax.legend(fontsize=8, loc="upper left")
        fig.tight_layout()
        written.append(_save(fig, folder / "latency.png"))
        plt.close(fig)
    if estimate is not None:
        measured_cost, adjusted_cost = estimate.by_service(), estimate.by_service(adjusted=True)
        services = list(measured_cost)[::-1]
        fig, ax = plt.subplots(figsize=(8, 4.8))
        ys = range(len(services))
        ax.barh([y + 0.2 for y in ys], [measured_cost[s] for s in services], height=0.4, label="as measured")
        ax.barh([y - 0.2 for y in ys], [adjusted_cost[s] for s in services], height=0.4, label="adjusted")
        ax.set_yticks(list(ys), services)
        ax.set_xlabel("USD per month")
        ax.set_title(  # plain "USD": a "$" would start matplotlib's math mode
            f"Monthly AWS cost: USD {estimate.total_measured:,.2f} measured, "
            f"USD {estimate.total_adjusted:,.2f} adjusted"
        )
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(_save(fig, folder / "cost.png"))
        plt.close(fig)
    written += _cold_chart(results, plt, folder)
    return written


def _cold_chart(results: dict[str, dict[str, Any]], plt: Any, folder: Path) -> list[Path]:
    """Each handler's import as a ratio to `import boto3`, against the 1.5x goal."""
    handlers = _get(results, "cold_import", "handlers")
    if not handlers or not all("ratio_to_boto3" in h for h in handlers.values()):
        return []
    names = sorted(handlers, key=lambda n: handlers[n]["ratio_to_boto3"])
    fig, ax = plt.subplots(figsize=(8, 5))
    ys = range(len(names))
    ax.barh(list(ys), [handlers[n]["ratio_to_boto3"] for n in names], height=0.6, label="handler import")
    ax.axvline(1.5, color="red", linestyle="--", label="goal: 1.5x import boto3")
    ax.set_yticks(list(ys), names)
    python = _get(results, "cold_import", "python") or "?"
    ax.set_xlabel(f"import time / import boto3 (CPython {python}, the asset's .pyc, this machine)")
    ax.set_title("Handler cold import")
    ax.legend(fontsize=8)
    fig.tight_layout()
    saved = _save(fig, folder / "cold_import.png")
    plt.close(fig)
    return [saved]


def _first(*candidates: tuple[float | None, str]) -> tuple[float | None, str]:
    """The first measured figure with its provenance (the soak's end-to-end one is preferred)."""
    for value, where in candidates:
        if value is not None:
            return value, where
    return None, ""


def _ms(value: Any) -> float | None:
    return None if value is None else float(value) / 1000


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    return path


# ---- the report ------------------------------------------------------------------------------------------


def _status(name: str, results: dict[str, dict[str, Any]], run: dict[str, Any]) -> str:
    ran = run.get("benchmarks", {}).get(name)
    result = results.get(name)
    if ran is not None and ran.get("exit") != 0:
        return f"FAILED (exit {ran.get('exit')})" + (
            "; figures below are from an earlier run" if result else ""
        )
    if result is None:
        return "not measured"
    if "error" in result:
        return f"unreadable: {result['error']}"
    started = run.get("started_at")
    if started and str(result.get("measured_at", "")) < started:
        return "stale (not from this run)"
    return "ok"


def _flatten(figures: Any, prefix: str = "") -> list[str]:
    if not isinstance(figures, dict):
        return [f"{prefix}: {figures}"]
    out: list[str] = []
    for key, value in figures.items():
        label = f"{prefix}.{key}" if prefix else str(key)
        out += _flatten(value, label) if isinstance(value, dict) else [f"{label}: {value}"]
    return out


def _headline_rows(
    results: dict[str, dict[str, Any]],
    run: dict[str, Any],
    estimate: cost.Estimate | None,
    cost_error: str | None,
    scenes: Sequence[tuple[cost.Scenario, cost.Estimate]] = (),
) -> list[str]:
    """The headline table's rows: each figure issue 9 asks for, or why it is missing."""
    rows: list[str] = []
    for headline in HEADLINES:
        value = headline.value(results) if headline.source in results else None
        command = (
            results.get(headline.source, {}).get("command") or f".venv/bin/python -m bench.{headline.source}"
        )
        status = _status(headline.source, results, run)
        reason = "" if status in {"ok", "not measured"} else f" ({status})"
        shown = f"{value}{reason}" if value is not None else f"**not measured**{reason}"
        rows.append(f"| {headline.figure} | {shown} | `{command}` |")
    for scenario, priced in scenes:
        if scenario.goal_usd is not None:
            rows.append(
                f"| Monthly AWS cost, {scenario.label} | {_against(scenario, priced)} | "
                "`.venv/bin/python -m bench.soak` then `.venv/bin/python -m bench.report` |"
            )
    if estimate is not None:
        rows.append(
            f"| Monthly AWS cost, 10,000 SKUs / 1,000 orders a day / 20,000 stock changes a day | "
            f"{_usd(estimate.total_measured)} as measured, {_usd(estimate.total_adjusted)} adjusted | "
            f"`{results.get('soak', {}).get('command', '.venv/bin/python -m bench.soak')}` then "
            "`.venv/bin/python -m bench.report` |"
        )
    else:
        rows.append(
            f"| Monthly AWS cost | **not computed**: {cost_error} | `.venv/bin/python -m bench.soak` |"
        )
    counters = results.get("soak", {}).get("counters")
    if counters:
        verdict = "all zero" if not any(counters.values()) else "NOT ALL ZERO"
        rows.append(
            f"| Soak loss counters ({', '.join(counters)}) | {verdict}: "
            f"{', '.join(f'{k} {v}' for k, v in counters.items())}; converged in "
            f"{results['soak'].get('converge_seconds', '?')} s | `.venv/bin/python -m bench.soak` |"
        )
    return rows


def _peer_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    """Our p99s beside the peers' sync interval, with the caveats that cut our way."""
    lines: list[str] = []
    stock, stock_where = _first(
        (_get(results, "soak", "latency", "stock_p99_s"), "in the soak, under faults"),
        (
            _ms(_get(results, "stock_propagation", "queued_p99_ms")),
            "from the ledger (bench.stock_propagation)",
        ),
    )
    order, order_where = _first(
        (_get(results, "soak", "latency", "order_p99_s"), "reached the shop (soak, under faults)"),
        (
            _get(results, "orders_import", "purchase_to_outbox_p99_s"),
            "was queued for the shop (bench.orders_import)",
        ),
    )
    if stock is not None:
        lines.append(
            f"- a shop stock change reached Allegro within {stock:.2f} s at p99 {stock_where}: pushed "
            "per change, not polled on a timer;"
        )
    if order is not None:
        lines.append(
            f"- an Allegro sale {order_where} within {order:.2f} s at p99; the order poller asks Allegro "
            "every 5 s, so up to 5 s of that is the polling interval;"
        )
    lines += [
        "- caveats that cut our way: local moto and emulator, no real network to Allegro or the shop, a few "
        "seller accounts; Allegro's 9,000 requests/minute app-wide limit and its rate-limit blocks apply in "
        "production and can hold pushes back for a minute;",
        "- a peer's interval is a design choice, not a measured latency: a peer that pushes changes would "
        "compare differently. For a seller the interval is the oversell window: a unit sold on one channel "
        "stays for sale on the others until the next sync.",
        "",
    ]
    return lines


def render(results: dict[str, dict[str, Any]], run: dict[str, Any], chart_files: list[Path],
           estimate: cost.Estimate | None, cost_error: str | None) -> str:  # fmt: skip
    """The whole REPORT.md."""
    names = sorted(set(benchmark_names()) | set(results) | set(run.get("benchmarks", {})))
    machines = [r["machine"] for r in results.values() if isinstance(r.get("machine"), dict)]
    loads = [m["load_average"][0] for m in machines if m.get("load_average")]
    first = machines[0] if machines else {}
    out = [
        "# allegro-sync: benchmark report",
        "",
        f"Generated {datetime.now(UTC).isoformat(timespec='minutes')} by `make bench` "
        "(`python -m bench`, then `python -m bench.report`) from `bench/results/*.json`.",
    ]
    if run:
        out.append(
            f"One run: started {run.get('started_at')}, finished {run.get('finished_at')} "
            f"({run.get('seconds', 0) / 60:.1f} min)."
        )
    if first:
        out.append(
            f"Machine: {first.get('cpu_count')} CPUs, {first.get('platform')}, {first.get('implementation')} "
            f"{first.get('python')}; 1-minute load average during the benchmarks "
            f"{min(loads, default=0):.2f}-{max(loads, default=0):.2f} (other work shared the machine)."
        )
    out += [
        "Everything ran on 127.0.0.1: AWS is moto, Allegro is the project's emulator. Latencies include "
        "moto's "
        "50-180 ms per AWS call and exclude the real Allegro API's network time; they are what this code "
        "does "
        "on this machine, not a production SLA.",
        "",
        "## Headline figures",
        "",
        "| Figure | Value | Reproduce |",
        "|---|---|---|",
    ]
    scenes = scenario_estimates(results)
    out += _headline_rows(results, run, estimate, cost_error, scenes)
    out += [
        "",
        "## Beside the peers",
        "",
        f"{PEERS}. Against that interval:",
        "",
    ]
    out += _peer_lines(results)
    out += [f"![{p.stem}](report/{p.name})" for p in chart_files if p.stem == "latency"]
    out += ["", "## Monthly AWS cost", ""]
    out += cost_markdown(estimate) if estimate is not None else [f"Not computed: {cost_error}."]
    out += scenarios_markdown(scenes) + floor_markdown(scenes[0][1]) if scenes else []
    out += ten_k_floor(scenes)  # issue 21 goal 1: the 10,000 SKU month line by line (bench/_floor_10k.py)
    out += ["", "## Cold start and asset", ""]
    asset = _asset(results)
    if asset:
        largest = _get(results, "cold_import", "asset", "largest") or {}
        out += [
            f"Lambda asset (one for all functions): {asset}; largest parts: "
            + ", ".join(f"{k} {v} MB" for k, v in sorted(largest.items(), key=lambda kv: -kv[1]))
            + f". The asset was {_get(results, 'cold_import', 'asset', 'how')}.",
            "",
        ]
    out += [f"![{p.stem}](report/{p.name})" for p in chart_files if p.stem == "cold_import"]
    out += [
        "",
        "Each handler's import in a fresh interpreter over the asset's own packages (built for this machine, "
        "with the .pyc the asset ships) and the runtime-provided boto3, as a ratio to `import boto3` "
        "measured in the same run. Lambda runs Python 3.13 on arm64: compare ratios, not seconds.",
        "",
        *_cold_floors(results),
        "## Every benchmark",
        "",
        "| Benchmark | Status | Measured at | Load avg (1 min) | Command |",
        "|---|---|---|---:|---|",
    ]
    for name in names:
        result = results.get(name, {})
        load = (result.get("machine") or {}).get("load_average") or ["-"]
        out.append(
            f"| {name} | {_status(name, results, run)} | {result.get('measured_at', '-')} | {load[0]} | "
            f"`{result.get('command', f'.venv/bin/python -m bench.{name}')}` |"
        )
    out += ["", "### All recorded figures", ""]
    for name in names:
        figures = results.get(name, {}).get("figures")
        if figures:
            out += [f"<details><summary>{name}</summary>", "", "```"]
            out += _flatten(figures)
            out += ["```", "", "</details>", ""]
    return "\n".join(out) + "\n"


def build(results_dir: Path, report: Path, chart_dir: Path) -> str:
    """Read the results, draw the charts, write the report; return its text."""
    results = load_all(results_dir)
    run_path = results_dir / RUN_FILE
    run: dict[str, Any] = json.loads(run_path.read_text(encoding="utf-8")) if run_path.exists() else {}
    estimate, cost_error = cost_estimate(results)
    chart_files = charts(results, estimate, chart_dir)
    text = render(results, run, chart_files, estimate, cost_error)
    report.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str]) -> int:
    results_dir = Path(argv[0]) if argv else RESULTS_DIR
    build(results_dir, REPORT, CHARTS)
    print(f"wrote {REPORT.relative_to(HERE.parent)} and charts in {CHARTS.relative_to(HERE.parent)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
