"""The monthly cost model: the soak's metered usage scaled to a shop and priced, rule by rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from pydantic import ValidationError

from allegro_sync.local.invoker import Invoker
from allegro_sync.topology import TOPOLOGY
from bench.cost import (
    MINUTES_PER_MONTH,
    SECONDS_PER_MONTH,
    Assumptions,
    Estimate,
    Prices,
    Workload,
    alarm_count,
    duration_factor,
    estimate,
    order_poller_idle,
    order_poller_idle_loop,
    parse_soak,
    secret_count,
)
from bench.soak.metering import AwsMeter, _consistent

FIXTURE = Path(__file__).with_name("soak_fixture.json")
TEMPLATE = Path(__file__).resolve().parents[3] / "cdk.out" / "AllegroSync.template.json"
DAYS = MINUTES_PER_MONTH / (24 * 60)
RECONCILE_MINUTES = next(t.rate_minutes for t, f in TOPOLOGY.schedules() if f.name == "reconciler")


@pytest.fixture
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return loaded


def test_fixture_follows_the_soak_schema(document: dict[str, Any]) -> None:
    soak = parse_soak(document)
    assert soak.config.skus == 2000
    assert soak.lambda_["repricer"].memory_mb == 1024
    assert soak.aws_calls["dynamodb.TransactWriteItems"].items == 11000
    assert soak.events == 4600


def test_stock_changes_may_be_named_stock_webhooks(document: dict[str, Any]) -> None:
    document["config"]["stock_webhooks"] = document["config"].pop("stock_changes")
    assert parse_soak(document).config.stock_changes == 4000


def test_a_soak_file_without_its_config_is_refused_by_name(document: dict[str, Any]) -> None:
    del document["config"]
    with pytest.raises(ValidationError, match="config"):
        parse_soak(document)


def test_negative_usage_is_refused(document: dict[str, Any]) -> None:
    document["lambda"]["shop_webhook"]["seconds"] = -1
    with pytest.raises(ValidationError, match="seconds"):
        parse_soak(document)


def test_an_aws_call_key_must_name_service_and_operation(document: dict[str, Any]) -> None:
    document["aws_calls"]["GetItem"] = {"calls": 1, "items": 1}
    with pytest.raises(ValueError, match=r"service\.Operation"):
        parse_soak(document)


def test_a_function_the_topology_does_not_have_is_refused(document: dict[str, Any]) -> None:
    document["lambda"]["mystery"] = {"invocations": 1, "seconds": 1.0, "memory_mb": 128}
    with pytest.raises(ValueError, match="mystery"):
        estimate(parse_soak(document), TOPOLOGY)


def test_webhook_usage_scales_with_the_shops_stock_changes(document: dict[str, Any]) -> None:
    month = {f.name: f for f in estimate(parse_soak(document), TOPOLOGY).functions}
    webhook = month["shop_webhook"]
    changes = 20_000 * DAYS  # 608,333 a month
    assert webhook.invocations == pytest.approx(changes)  # one invocation per change in the soak
    assert webhook.seconds == pytest.approx(1180.0 / 4000 * changes)
    assert webhook.gb_seconds == pytest.approx(webhook.seconds / 4)  # 256 MB


def test_order_functions_scale_with_orders_and_the_propagator_with_both(document: dict[str, Any]) -> None:
    month = {f.name: f for f in estimate(parse_soak(document), TOPOLOGY).functions}
    assert month["order_worker"].invocations == pytest.approx(75 * 1000 * DAYS / 600)
    assert month["stock_propagator"].invocations == pytest.approx(510 * 21_000 * DAYS / 4600)


def test_a_soak_with_twice_the_stock_changes_halves_the_per_change_cost(document: dict[str, Any]) -> None:
    base = {f.name: f for f in estimate(parse_soak(document), TOPOLOGY).functions}
    document["config"]["stock_changes"] = 8000
    doubled = {f.name: f for f in estimate(parse_soak(document), TOPOLOGY).functions}
    assert doubled["catalog_worker"].seconds == pytest.approx(base["catalog_worker"].seconds / 2)
    assert doubled["order_worker"].seconds == pytest.approx(base["order_worker"].seconds)


def test_scheduled_functions_run_at_their_topology_rate(document: dict[str, Any]) -> None:
    month = {f.name: f for f in estimate(parse_soak(document), TOPOLOGY).functions}
    assert month["token_refresher"].invocations == pytest.approx(43_800)  # every minute
    assert month["reconciler"].invocations == pytest.approx(43_800 / 60)  # hourly (issue 21)
    assert month["repricer"].invocations == pytest.approx(43_800 / 15)
    assert month["token_refresher"].seconds == pytest.approx(0.3 * 43_800)  # 3 s / 10 runs in the soak


def test_the_order_poller_is_billed_per_tick_not_for_a_sleeping_loop(document: dict[str, Any]) -> None:
    poller = next(f for f in estimate(parse_soak(document), TOPOLOGY).functions if f.name == "order_poller")
    runs = SECONDS_PER_MONTH / 5 + MINUTES_PER_MONTH / 5  # a tick every 5 s + the 5-minute watchdog
    assert poller.invocations == pytest.approx(runs)
    # every run an idle poll of the soak's 3 accounts (IdleTick: 0.1 s + 0.15 s each), plus the soak's 60 s
    # beyond its 40 runs' idle polls scaled by orders (1,000 a day against the soak's 600)
    busy = (60 - 40 * 0.55) * 1_000 * DAYS / 600
    assert poller.seconds == pytest.approx(0.55 * runs + busy)
    assert "poll-tick every 5 s" in poller.note


def test_an_idle_month_bills_the_pollers_idle_ticks_not_the_soaks_busy_ones(document: dict[str, Any]) -> None:
    """Issue 21: a soak polls with orders in most ticks; a month without orders must not bill every one of
    its ~530,000 ticks as if it had found some (the cursor advances, the orders queue's sends)."""
    runs, busy_writes = 40, 100
    soaked = _with_owners(
        document,
        {"order_poller": {"dynamodb.UpdateItem": runs + busy_writes, "sqs.SendMessageBatch": 50}},
    )
    idle = Workload(1_000, 0, 0, seller_accounts=1)
    ticks = SECONDS_PER_MONTH / 5 + MINUTES_PER_MONTH / 5
    assert _line(soaked, "write request units", idle) == pytest.approx(ticks)  # the heartbeat alone
    assert _line(soaked, "handler requests", idle) == pytest.approx(ticks)  # the next tick, nothing queued
    busy = Workload(1_000, 600 / DAYS, 0, seller_accounts=1)  # the soak's orders, once a day
    assert _line(soaked, "write request units", busy) == pytest.approx(ticks + busy_writes)
    poller = next(f for f in estimate(parse_soak(soaked), TOPOLOGY, workload=idle).functions
                  if f.name == "order_poller")  # fmt: skip
    assert poller.seconds == pytest.approx(0.25 * ticks)  # one account's idle poll, 0.25 s


def test_nothing_publishes_a_custom_metric_in_a_month_without_traffic(document: dict[str, Any]) -> None:
    """CloudWatch bills a metric for the hours it is sent; the code sends one only to call the seller."""
    idle = estimate(parse_soak(document), TOPOLOGY, workload=Workload(1_000, 0, 0, seller_accounts=1))
    busy = estimate(parse_soak(document), TOPOLOGY, workload=Workload(1_000, 1, 0, seller_accounts=1))
    assert next(line for line in idle.lines if line.item == "custom metrics").monthly_usd == 0
    assert next(line for line in busy.lines if line.item == "custom metrics").quantity == 5


def test_a_slower_tick_makes_fewer_runs(document: dict[str, Any]) -> None:
    slow = Assumptions(order_tick_seconds=10)
    poller = next(f for f in estimate(parse_soak(document), TOPOLOGY, assumptions=slow).functions
                  if f.name == "order_poller")  # fmt: skip
    assert poller.invocations == pytest.approx(SECONDS_PER_MONTH / 10 + MINUTES_PER_MONTH / 5)


def test_the_idle_order_poller_costs_its_ticks_not_a_50_s_loop() -> None:
    idle = {line.item: line for line in order_poller_idle(TOPOLOGY)}
    loop = sum(line.monthly_usd for line in order_poller_idle_loop())
    runs = SECONDS_PER_MONTH / 5 + MINUTES_PER_MONTH / 5
    assert idle["invocations"].quantity == pytest.approx(runs)
    assert idle["compute"].quantity == pytest.approx(runs * 0.25 * 0.25)  # 0.25 s at 256 MB
    assert idle["poll-tick send, receive, delete"].quantity == pytest.approx(3 * SECONDS_PER_MONTH / 5)
    assert idle["write request units"].quantity == pytest.approx(
        runs
    )  # the heartbeat: an idle poll claims nothing
    assert idle["read request units"].quantity == pytest.approx(
        3 * runs
    )  # accounts, block record, the cursor
    assert loop == pytest.approx(43_800 * (0.2e-6 + 50 * 0.25 * 0.0000133334))
    assert sum(line.monthly_usd for line in idle.values()) < loop / 2


def test_each_account_adds_its_poll_to_every_idle_tick() -> None:
    one = {line.item: line.quantity for line in order_poller_idle(TOPOLOGY, accounts=1)}
    three = {line.item: line.quantity for line in order_poller_idle(TOPOLOGY, accounts=3)}
    assert three["write request units"] == one["write request units"]  # the heartbeat only
    assert three["read request units"] == pytest.approx(one["read request units"] * 5 / 3)  # + 2 cursors
    assert three["poll-tick send, receive, delete"] == one["poll-tick send, receive, delete"]


def test_reconciler_and_repricer_time_grows_with_skus(document: dict[str, Any]) -> None:
    soak = parse_soak(document)
    small = {f.name: f for f in estimate(soak, TOPOLOGY, workload=Workload(skus=2000)).functions}
    large = {f.name: f for f in estimate(soak, TOPOLOGY, workload=Workload(skus=20_000)).functions}
    assert large["repricer"].seconds == pytest.approx(10 * small["repricer"].seconds)
    assert large["reconciler"].seconds == pytest.approx(10 * small["reconciler"].seconds)
    assert large["token_refresher"].seconds == pytest.approx(small["token_refresher"].seconds)


def test_a_sweep_walks_every_account_so_one_account_sweeps_a_third_of_three(document: dict[str, Any]) -> None:
    """The reconciler and the repricer list each connected account's offers: the idle seller with one
    account must not pay for the soak's three accounts' walks."""
    soak = parse_soak(document)  # 3 accounts
    runs = document["lambda"]["reconciler"]["invocations"]
    soaked = parse_soak(_with_owners(document, {"reconciler": {"dynamodb.GetItem": 2000 * runs}}))
    three = estimate(soaked, TOPOLOGY, workload=Workload(skus=2000, seller_accounts=3))
    one = estimate(soaked, TOPOLOGY, workload=Workload(skus=2000, seller_accounts=1))

    def reads(e: Estimate) -> float:
        return next(line.quantity for line in e.lines if line.item == "read request units")

    assert reads(one) == pytest.approx(reads(three) / 3)
    one_fn, three_fn = ({f.name: f for f in e.functions} for e in (one, three))
    for sweep in ("reconciler", "repricer"):
        assert one_fn[sweep].seconds == pytest.approx(three_fn[sweep].seconds / 3)
    assert one_fn["token_refresher"].seconds == three_fn["token_refresher"].seconds
    assert soak.config.accounts == 3


def test_a_scheduled_function_the_soak_never_ran_is_assumed_and_flagged(document: dict[str, Any]) -> None:
    del document["lambda"]["order_gap_scan"]
    result = estimate(parse_soak(document), TOPOLOGY, assumptions=Assumptions(unmeasured_run_seconds=0.5))
    gap = next(f for f in result.functions if f.name == "order_gap_scan")
    assert gap.seconds == pytest.approx(0.5 * 43_800 / 15)
    assert any(n.startswith("order_gap_scan: not run in the soak") for n in result.notes)


def test_duration_adjustment_removes_moto_and_adds_allegro_latency(document: dict[str, Any]) -> None:
    soak = parse_soak(document)
    measured = sum(u.seconds for u in soak.lambda_.values())  # 3887.1 s
    calls = sum(c.calls for c in soak.aws_calls.values())  # 40,940
    a = Assumptions()
    moto_excess = a.moto_call_seconds - a.aws_call_seconds
    allegro_latency = a.allegro_call_seconds - a.emulator_call_seconds
    expected = (measured - calls * moto_excess + 9800 * allegro_latency) / measured
    assert duration_factor(soak, a) == pytest.approx(expected)
    none = Assumptions(moto_call_seconds=0.01, aws_call_seconds=0.01, emulator_call_seconds=0.1,
                       allegro_call_seconds=0.1)  # fmt: skip
    assert duration_factor(soak, none) == pytest.approx(1.0)
    assert duration_factor(soak, Assumptions(moto_call_seconds=10.0)) == pytest.approx(0.2)  # floored


def test_dynamodb_transactions_cost_two_write_units_per_item(document: dict[str, Any]) -> None:
    document["aws_calls"] = {"dynamodb.TransactWriteItems": {"calls": 10, "items": 30}}
    result = estimate(parse_soak(document), TOPOLOGY)
    writes = next(line for line in result.lines if line.item == "write request units")
    scale = 21_000 * DAYS / 4600
    assert writes.quantity == pytest.approx(60 * scale)
    assert writes.monthly_usd == pytest.approx(60 * scale * 0.7625 / 1e6)


def test_fixed_costs_follow_the_stack(document: dict[str, Any]) -> None:
    result = estimate(parse_soak(document), TOPOLOGY, workload=Workload(seller_accounts=5))
    quantities = {line.item: line.quantity for line in result.lines}
    # issue 21: one configuration secret (its sections bill nothing) + one per seller account
    assert quantities["secrets"] == 1 + 5
    # one metric per DLQ a seller must hear about, the API's 5xx, the business alarms: at most 10 billed
    # (issue 21); the other DLQs and the schedules' are opt-in
    expected_alarms = sum(1 for q in TOPOLOGY.queues if q.dlq_alarm) + 1 + len(TOPOLOGY.alarms)
    assert quantities["alarms"] == expected_alarms <= 10
    # opt-in, so not billed by default (issue 21)
    assert quantities["dashboard"] == 0
    assert quantities["traces"] == 0
    assert quantities["customer managed key"] == 1
    # the five alarmed metrics, `service` dimension alone: 5 x $0.30 (29 names, $8.70, before issue 21)
    (metrics,) = [line for line in result.lines if line.item == "custom metrics"]
    assert metrics.quantity == len(TOPOLOGY.alarms) == 5
    assert metrics.monthly_usd == pytest.approx(1.50)
    assert quantities["HTTP API requests"] == pytest.approx(21_000 * DAYS)  # stock + fulfillment webhooks


def test_alarm_count_matches_the_synthesized_template_when_there_is_one() -> None:
    if not TEMPLATE.exists():
        pytest.skip("no cdk.out template (run `make synth`)")
    resources = json.loads(TEMPLATE.read_text(encoding="utf-8"))["Resources"].values()
    alarms = [r["Properties"] for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"]
    billed = sum(len([m for m in a.get("Metrics", []) if "MetricStat" in m]) or 1 for a in alarms)
    assert alarm_count(TOPOLOGY) == billed  # CloudWatch bills an alarm per metric it watches


def test_configuration_sections_bill_as_one_secret() -> None:
    """Issue 21: app credentials, webhook signing and shop credentials are sections of one secret."""
    sections = [s for s in TOPOLOGY.secrets if s.section_of]
    assert {s.name for s in sections} == {"app-credentials", "webhook-signing", "shop-credentials"}
    assert secret_count(TOPOLOGY, 1) == 2  # the configuration + the one seller account's tokens


def test_secret_count_grows_by_one_per_account() -> None:
    assert secret_count(TOPOLOGY, 4) - secret_count(TOPOLOGY, 1) == 3


def test_idle_sqs_polling_is_priced_per_queue(document: dict[str, Any]) -> None:
    result = estimate(parse_soak(document), TOPOLOGY)
    idle = {line.item: line for line in result.lines if line.item.startswith("idle long polls")}
    fifo_queues = sum(1 for q in TOPOLOGY.queues if q.fifo and TOPOLOGY.queue_consumer(q.name))
    standard_queues = sum(1 for q in TOPOLOGY.queues if not q.fifo and TOPOLOGY.queue_consumer(q.name))
    fifo = idle[f"idle long polls (FIFO, {fifo_queues} queues)"]
    assert fifo.quantity == pytest.approx(fifo_queues * 5 * 3 * 43_800)  # 5 pollers, 3 polls a minute each
    assert fifo.unit_price == Prices().sqs_fifo_request
    standard = idle[f"idle long polls (standard, {standard_queues} queues)"]
    assert standard.unit_price == Prices().sqs_standard_request


def test_totals_add_up_and_only_compute_differs_when_adjusted(document: dict[str, Any]) -> None:
    result = estimate(parse_soak(document), TOPOLOGY, custom_metrics=28)
    assert result.total_measured == pytest.approx(sum(result.by_service().values()))
    assert result.total_adjusted == pytest.approx(sum(result.by_service(adjusted=True).values()))
    difference = result.adjusted_compute.monthly_usd - result.compute.monthly_usd
    assert result.total_adjusted - result.total_measured == pytest.approx(difference)
    assert result.by_service()["Lambda"] > result.by_service()["API Gateway"] > 0


def test_a_busier_shop_costs_more(document: dict[str, Any]) -> None:
    soak = parse_soak(document)
    quiet = estimate(soak, TOPOLOGY, workload=Workload(orders_per_day=100, stock_changes_per_day=2000))
    busy = estimate(soak, TOPOLOGY, workload=Workload(orders_per_day=5000, stock_changes_per_day=100_000))
    assert busy.total_measured > quiet.total_measured
    assert busy.by_service()["DynamoDB"] > quiet.by_service()["DynamoDB"]


def test_a_nonsensical_workload_is_refused() -> None:
    with pytest.raises(ValueError, match="skus"):
        Workload(skus=0)
    with pytest.raises(ValueError, match="seller_accounts"):
        Workload(seller_accounts=0)


def test_every_price_is_stated_with_its_unit() -> None:
    rows = Prices().rows()
    assert len(rows) == len({item for item, _, _ in rows})
    assert all(price.startswith("$") and unit for _, price, unit in rows)
    assert "2026" in Prices().source


def test_the_model_does_not_mutate_its_input(document: dict[str, Any]) -> None:
    before = copy.deepcopy(document)
    estimate(parse_soak(document), TOPOLOGY)
    assert document == before


# ---- AWS calls scaled per function (issue 21: two mistakes of the first model) ---------------------------


def _with_owners(document: dict[str, Any], by_owner: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The document with exactly these calls, per owner and in total (one item per call)."""
    totals: dict[str, dict[str, int]] = {}
    for operations in by_owner.values():
        for op, calls in operations.items():
            entry = totals.setdefault(op, {"calls": 0, "items": 0})
            entry["calls"] += calls
            entry["items"] += calls
    return document | {"aws_calls": totals, "aws_calls_by_function": by_owner}


def _line(document: dict[str, Any], item: str, workload: Workload | None = None) -> float:
    result = estimate(parse_soak(document), TOPOLOGY, workload=workload)
    return next(line.quantity for line in result.lines if line.item == item)


def test_the_local_event_sources_sqs_calls_are_not_billed_as_the_handlers(document: dict[str, Any]) -> None:
    """AWS's event source is priced per batch; the local poller's receives must not be scaled on top."""
    handler_only = _with_owners(document, {"shop_notifier": {"sqs.SendMessage": 100}})
    with_poller = _with_owners(
        document,
        {
            "shop_notifier": {"sqs.SendMessage": 100},
            "event-source:shop_notifier": {"sqs.ReceiveMessage": 5000},
        },
    )
    assert _line(with_poller, "handler requests") == _line(handler_only, "handler requests")
    orders = document["config"]["orders"]
    assert _line(handler_only, "handler requests") == pytest.approx(100 * 1_000 * DAYS / orders)


def test_a_sweeps_reads_scale_by_runs_and_skus_not_by_events(document: dict[str, Any]) -> None:
    """The reconciler reads one ledger item per offer per run: at 10,000 SKUs (5 x the soak's) and a run
    at its topology rate, its month is reads per run x 5 x runs, whatever the traffic."""
    runs = document["lambda"]["reconciler"]["invocations"]
    soaked = _with_owners(document, {"reconciler": {"dynamodb.GetItem": 2000 * runs}})
    reads = _line(soaked, "read request units")
    assert reads == pytest.approx(2000 * (10_000 / 2000) * MINUTES_PER_MONTH / RECONCILE_MINUTES)
    busier = Workload(stock_changes_per_day=200_000, orders_per_day=10_000)
    assert _line(soaked, "read request units", busier) == pytest.approx(reads)
    assert _line(soaked, "read request units", Workload(skus=100_000)) == pytest.approx(reads * 10)


# ---- DynamoDB writes of a stock change: the measured figure (issue 21, goal 5) ---------------------------


def test_stock_changes_are_priced_at_the_measured_write_units_and_their_calls_not_twice(
    document: dict[str, Any],
) -> None:
    """The stock path's metered writes (webhook, catalog worker, the propagator's stock share) give way to
    bench.stock_writes' figure per stock change; everyone else's writes stay priced from their calls."""
    soaked = _with_owners(
        document,
        {
            "shop_webhook": {"dynamodb.PutItem": 1000},
            "catalog_worker": {"dynamodb.TransactWriteItems": 1000},
            "order_worker": {"dynamodb.PutItem": 200},
        },
    )
    month = 20_000 * DAYS
    assert _line(soaked, "write request units, stock changes") == pytest.approx(2.31 * month)
    orders = document["config"]["orders"]
    assert _line(soaked, "write request units") == pytest.approx(200 * 1_000 * DAYS / orders)
    dearer = estimate(parse_soak(soaked), TOPOLOGY, assumptions=Assumptions(stock_change_write_units=12))
    line = next(li for li in dearer.lines if li.item == "write request units, stock changes")
    assert line.monthly_usd == pytest.approx(12 * month * 0.7625 / 1e6)


def test_the_propagators_order_share_of_writes_stays_priced_from_its_calls(document: dict[str, Any]) -> None:
    """The stock propagator pushes for stock changes and for orders: only the orders' share is left."""
    soaked = _with_owners(document, {"stock_propagator": {"dynamodb.UpdateItem": 2100}})
    stock, orders = 20_000, 1_000
    scale = (stock + orders) * DAYS / (document["config"]["stock_changes"] + document["config"]["orders"])
    assert _line(soaked, "write request units") == pytest.approx(2100 * scale * orders / (stock + orders))


def test_the_gap_scans_reads_follow_the_orders_not_its_runs_or_the_skus(document: dict[str, Any]) -> None:
    """The gap scan reads the checkout forms updated in its window: ten times the orders, ten times the
    reads; more SKUs or more stock changes change nothing."""
    soaked = _with_owners(document, {"order_gap_scan": {"dynamodb.BatchGetItem": 30}})
    reads = _line(soaked, "read request units")
    orders = document["config"]["orders"]
    assert reads == pytest.approx(30 * 0.5 * 1_000 * DAYS / orders)
    assert _line(soaked, "read request units", Workload(orders_per_day=10_000)) == pytest.approx(reads * 10)
    same = Workload(skus=100_000, stock_changes_per_day=200_000)
    assert _line(soaked, "read request units", same) == pytest.approx(reads)


def test_a_batched_eventually_consistent_read_costs_half_a_strongly_consistent_one(
    document: dict[str, Any],
) -> None:
    runs = document["lambda"]["reconciler"]["invocations"]
    one_by_one = _line(
        _with_owners(document, {"reconciler": {"dynamodb.GetItem": 2000 * runs}}), "read request units"
    )
    batched = _line(
        _with_owners(document, {"reconciler": {"dynamodb.BatchGetItem": 2000 * runs}}), "read request units"
    )
    assert batched == pytest.approx(one_by_one / 2)


def test_each_owners_batch_reads_are_billed_for_its_own_keys_not_the_average(
    document: dict[str, Any],
) -> None:
    """A sweep's BatchGetItem carries 100 keys, the catalogue worker's a few: with items metered per owner,
    a month of catalogue work is not billed at the sweep's 100 keys a call (issue 21: the first per-owner
    model split items by calls, which put most of the repricer's keys on the catalogue worker)."""
    runs = document["lambda"]["reconciler"]["invocations"]
    by_calls = {
        "reconciler": {"dynamodb.BatchGetItem": runs},
        "catalog_worker": {"dynamodb.BatchGetItem": 100},
    }
    averaged = _with_owners(document, by_calls) | {
        "aws_calls": {"dynamodb.BatchGetItem": {"calls": runs + 100, "items": 100 * runs + 2 * 100}}
    }
    metered = averaged | {
        "aws_items_by_function": {
            "reconciler": {"dynamodb.BatchGetItem": 100 * runs},
            "catalog_worker": {"dynamodb.BatchGetItem": 2 * 100},
        }
    }
    stock_scale = 20_000 * DAYS / document["config"]["stock_changes"]
    sweep = 100 * 0.5 * (10_000 / 2000) * MINUTES_PER_MONTH / RECONCILE_MINUTES
    assert _line(metered, "read request units") == pytest.approx(sweep + 2 * 100 * 0.5 * stock_scale)
    assert _line(averaged, "read request units") < _line(metered, "read request units") / 1.5


def test_lambda_is_billed_at_the_stacks_memory_not_the_soaks(document: dict[str, Any]) -> None:
    """The soak's handlers run in-process (their time does not depend on memory): a function resized in the
    topology (issue 21: the repricer to 512 MB) is billed at its new size without a new soak."""
    document["lambda"]["repricer"]["memory_mb"] = 1536
    month = {f.name: f for f in estimate(parse_soak(document), TOPOLOGY).functions}
    assert month["repricer"].memory_mb == TOPOLOGY.function("repricer").memory_mb
    assert month["repricer"].gb_seconds == pytest.approx(
        month["repricer"].seconds * TOPOLOGY.function("repricer").memory_mb / 1024
    )


def test_a_frequent_schedule_reads_its_secrets_once_per_cache_age_not_every_run(
    document: dict[str, Any],
) -> None:
    """The soak's one cold run of message_follower read 4 secrets; scaled by a run a minute it would bill 4
    reads a minute, but a warm instance answers from the 300 s cache: at most each secret it is granted (the
    configuration and one token secret per seller account) once per 300 s."""
    document["lambda"]["message_follower"] = {"invocations": 1, "errors": 0, "seconds": 0.3, "memory_mb": 256}
    soaked = _with_owners(document, {"message_follower": {"secretsmanager.GetSecretValue": 4}})
    one_account = Workload(seller_accounts=1)
    reads = _line(soaked, "API calls", one_account)
    assert reads == pytest.approx((1 + 1) * SECONDS_PER_MONTH / 300)  # configuration + 1 account's tokens
    assert reads < 4 * MINUTES_PER_MONTH  # what scaling by runs would have billed


def test_eventually_consistent_reads_are_billed_half_when_the_soak_metered_them(
    document: dict[str, Any],
) -> None:
    """Issue 21: many reads (the Allegro block record, settings, listings) ask no ConsistentRead and DynamoDB
    bills them half a unit; a soak that metered which reads were consistent is billed by it, per owner."""
    calls = {"stock_propagator": {"dynamodb.GetItem": 400}, "reconciler": {"dynamodb.BatchGetItem": 40}}
    assumed = _with_owners(document, calls)
    metered = assumed | {"consistent_reads_by_function": {"stock_propagator": {"dynamodb.GetItem": 100}}}
    all_strong = assumed | {
        "consistent_reads_by_function": {
            "stock_propagator": {"dynamodb.GetItem": 400},
            "reconciler": {"dynamodb.BatchGetItem": 40},
        }
    }
    stock = (20_000 + 1_000) * DAYS / document_events(document)
    sweep = (
        40
        * (10_000 / 2000)
        * MINUTES_PER_MONTH
        / RECONCILE_MINUTES
        / document["lambda"]["reconciler"]["invocations"]
    )
    assert _line(assumed, "read request units") == pytest.approx(400 * stock + 0.5 * sweep)  # as before
    assert _line(metered, "read request units") == pytest.approx((100 + 300 * 0.5) * stock + 0.5 * sweep)
    assert _line(all_strong, "read request units") == pytest.approx(400 * stock + sweep)


def document_events(document: dict[str, Any]) -> int:
    return int(document["config"]["stock_changes"]) + int(document["config"]["orders"])


def test_the_soak_meters_which_reads_were_strongly_consistent() -> None:
    """What `consistent_reads_by_function` counts: items asked with ConsistentRead (a transaction always)."""
    batch = {"RequestItems": {"a": {"Keys": [{}, {}], "ConsistentRead": True}, "b": {"Keys": [{}]}}}
    assert _consistent("GetItem", {"ConsistentRead": True}) == 1
    assert _consistent("GetItem", {}) == 0
    assert _consistent("Query", {"ConsistentRead": False}) == 0
    assert _consistent("BatchGetItem", batch) == 2
    assert _consistent("TransactGetItems", {"TransactItems": [{}, {}, {}]}) == 3
    assert _consistent("PutItem", {}) == 0


def test_lambdas_own_log_lines_are_billed_for_every_invocation(document: dict[str, Any]) -> None:
    """The soak's log text is the handlers' lines; Lambda adds START, END and REPORT to every invocation."""
    soak = parse_soak(document)
    with_platform = estimate(soak, TOPOLOGY)
    without = estimate(soak, TOPOLOGY, assumptions=Assumptions(platform_log_bytes_per_invocation=0))
    invocations = sum(f.invocations for f in with_platform.functions)

    def logs(month: Estimate) -> float:
        return next(line.quantity for line in month.lines if line.item == "log ingestion")

    assert logs(with_platform) - logs(without) == pytest.approx(invocations * 350 / 1024**3)


def test_each_function_is_adjusted_by_its_own_calls_when_the_soak_metered_its_allegro_calls(
    document: dict[str, Any],
) -> None:
    """Issue 21: one factor for all functions bills a DynamoDB-only function Allegro's latency for the others'
    calls; with Allegro calls metered per function, each is adjusted by its own AWS and Allegro calls."""
    document["aws_calls_by_function"] = {"shop_webhook": {"dynamodb.PutItem": 1000}}
    document["allegro_calls_by_function"] = {"stock_propagator": 2000}
    month = {f.name: f for f in estimate(parse_soak(document), TOPOLOGY).functions}
    webhook, propagator = document["lambda"]["shop_webhook"], document["lambda"]["stock_propagator"]
    a = Assumptions()
    assert month["shop_webhook"].adjusted_seconds / month["shop_webhook"].seconds == pytest.approx(
        max(
            a.min_adjusted_share,
            (webhook["seconds"] - 1000 * (a.moto_call_seconds - a.aws_call_seconds)) / webhook["seconds"],
        )
    )
    assert month["stock_propagator"].adjusted_seconds / month["stock_propagator"].seconds == pytest.approx(
        (propagator["seconds"] + 2000 * (a.allegro_call_seconds - a.emulator_call_seconds))
        / propagator["seconds"]
    )


def test_the_soak_meters_allegro_calls_by_the_function_that_made_them() -> None:
    class NothingRunning:
        def running_here(self) -> None:
            return None

    meter = AwsMeter(cast(Invoker, NothingRunning()), {}, allegro_url="http://127.0.0.1:9/")
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    with meter.installed(), meter.scope("repricer"):
        http.get("http://127.0.0.1:9/sale/offers")
        http.get("http://127.0.0.1:8/shop/products")  # the shop, not Allegro
    assert meter.allegro_by_function == {"repricer": 1}


def test_the_cpu_model_bills_the_work_at_the_functions_cpu_share_and_each_call_at_its_latency(
    document: dict[str, Any],
) -> None:
    """Wall time in the soak includes waiting for a core in a shared process; the CPU model prices what the
    invocations' own thread used, slowed to a 256 MB function's share of a vCPU, plus each call's modelled
    latency. A function without metered CPU keeps the adjusted figure, and an older soak file has no CPU
    line at all."""
    assert estimate(parse_soak(document), TOPOLOGY).cpu_model_compute is None

    document["lambda"]["stock_propagator"]["cpu_seconds"] = 10.0  # of 905.2 s wall
    document["aws_calls_by_function"] = {"stock_propagator": {"dynamodb.GetItem": 6000}}
    document["allegro_calls_by_function"] = {"stock_propagator": 3000}
    month = estimate(parse_soak(document), TOPOLOGY)
    functions = {f.name: f for f in month.functions}

    a = Assumptions()
    modelled = 10.0 * 1769 / 256 + 6000 * a.aws_call_seconds + 3000 * a.allegro_call_seconds
    propagator = functions["stock_propagator"]
    assert propagator.cpu_model_seconds is not None
    assert propagator.cpu_model_seconds == pytest.approx(propagator.seconds * modelled / 905.2)
    assert propagator.cpu_model_seconds < propagator.adjusted_seconds
    webhook = functions["shop_webhook"]
    assert webhook.cpu_model_seconds is None
    assert webhook.cpu_model_gb_seconds == webhook.adjusted_gb_seconds
    by_cpu = month.cpu_model_compute
    assert by_cpu is not None
    assert by_cpu.monthly_usd < month.adjusted_compute.monthly_usd
