"""The synthesized template matches the topology it was generated from, and grants nothing more.

Each check runs on the shipped TOPOLOGY and on FULL (every trigger, access and secret kind), so a
function added to the topology tomorrow is covered without a new test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from allegro_sync.adapters.alarm_metrics import ALARM_METRICS
from allegro_sync.adapters.dynamodb.buyer_data import DynamoBuyerData
from allegro_sync.domain.orders import BuyerDetails
from allegro_sync.topology import (
    TOPOLOGY,
    VISIBILITY_TIMEOUT_FACTOR,
    Access,
    Function,
    QueueTrigger,
    RouteTrigger,
    Table,
    Topology,
    queue_env,
    secret_env,
    table_env,
)
from infra import naming
from infra.app import build
from tests.infra.conftest import Synth, synthesize
from tests.infra.topologies import FULL

pytestmark = pytest.mark.infra

FULL_CONTEXT = {
    "allegroEnvironment": "sandbox",
    "alarmEmail": "ops@example.com",
    "apiThrottleRate": "7",
    # everything that is opt-in because it bills while idle
    "tracing": "true",
    "dashboard": "true",
    "detailedAlarms": "true",
}


@pytest.fixture(scope="session")
def shipped(synth_dir: Path) -> Synth:
    return synthesize(synth_dir / "shipped", TOPOLOGY)


@pytest.fixture(scope="session")
def full(synth_dir: Path) -> Synth:
    return synthesize(synth_dir / "full", FULL, FULL_CONTEXT)


@pytest.fixture(params=["shipped", "full"])
def synth(request: pytest.FixtureRequest) -> Synth:
    result: Synth = request.getfixturevalue(request.param)
    return result


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def _refs(value: Any) -> set[str]:
    """Logical ids referenced anywhere inside a template value (Ref and GetAtt)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value:
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for inner in value.values():
            found |= _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _refs(inner)
    return found


def _rate_minutes(expression: str) -> int:
    """`rate(12 hours)` -> 720: CDK writes whole hours and days in the larger unit."""
    match = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression)
    assert match, expression
    return int(match[1]) * {"minute": 1, "hour": 60, "day": 1440}[match[2]]


def test_every_function_has_its_topology_limits(synth: Synth) -> None:
    functions = synth.of_type("AWS::Lambda::Function")
    assert len(functions) == len(synth.stack.topology.functions)
    for function in synth.stack.topology.functions:
        props = synth.properties(synth.stack.functions[function.name])
        assert props["FunctionName"] == f"AllegroSync-{function.name}"
        assert props["Runtime"] == "python3.13"  # the version the asset's .pyc are compiled for
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == f"allegro_sync.handlers.{function.name}.handler"
        assert props["Timeout"] == function.timeout_seconds
        assert props["MemorySize"] == function.memory_mb
        assert props.get("ReservedConcurrentExecutions") == function.reserved_concurrency
        tracing = "Active" if synth.stack.settings.tracing else "PassThrough"
        assert props.get("TracingConfig", {"Mode": "PassThrough"}) == {"Mode": tracing}
        log_group = synth.resources[props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert log_group["Properties"]["LogGroupName"] == f"/aws/lambda/AllegroSync-{function.name}"
        assert log_group["Properties"]["RetentionInDays"] == 30


def test_function_environment_names_exactly_its_resources(synth: Synth) -> None:
    for function in synth.stack.topology.functions:
        env = synth.properties(synth.stack.functions[function.name])["Environment"]["Variables"]
        expected = (
            {table_env(t) for t in function.tables}
            | {queue_env(q) for q in function.queues}
            | {secret_env(s) for s in function.secrets}
        )
        resource_keys = {k for k in env if k.startswith(("TABLE_", "QUEUE_", "SECRET_")) and "KMS" not in k}
        assert resource_keys == expected, function.name
        for key, value in function.environment.items():
            assert env[key] == value
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "AllegroSync"
        assert env["LOG_LEVEL"] == "INFO"
        for table in function.tables:
            assert env[table_env(table)] == {"Ref": synth.logical_id(synth.stack.tables[table])}


def test_allegro_environment_comes_from_context(shipped: Synth, full: Synth) -> None:
    for synth, expected in ((shipped, "production"), (full, "sandbox")):
        for fn in synth.stack.functions.values():
            assert synth.properties(fn)["Environment"]["Variables"]["ALLEGRO_ENVIRONMENT"] == expected


def test_queue_triggers_have_mappings_with_batch_settings(synth: Synth) -> None:
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping")
    triggers = [
        (t, f) for f in synth.stack.topology.functions for t in f.triggers if isinstance(t, QueueTrigger)
    ]
    assert len(mappings) == len(triggers)
    for trigger, function in triggers:
        queue_id = synth.logical_id(synth.stack.queues[trigger.queue].queue)
        fn_id = synth.logical_id(synth.stack.functions[function.name])
        [mapping] = [
            m["Properties"]
            for m in mappings.values()
            if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        ]
        assert mapping["FunctionName"] == {"Ref": fn_id}
        assert mapping["BatchSize"] == trigger.batch_size
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping.get("MaximumBatchingWindowInSeconds", 0) == trigger.max_batching_window_seconds


def test_only_the_poll_tick_chain_may_loop_and_its_queue_delays_each_tick(shipped: Synth) -> None:
    """order_poller sends to the queue it consumes on purpose: Lambda's recursive loop detection would stop
    the chain (docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html). Every other function keeps
    the default, Terminate."""
    for function in TOPOLOGY.functions:
        props = shipped.properties(shipped.stack.functions[function.name])
        assert props.get("RecursiveLoop") == ("Allow" if function.name == "order_poller" else None)
    poller = TOPOLOGY.function("order_poller")
    assert "poll-tick" in poller.sends_to
    assert QueueTrigger("poll-tick", batch_size=1) in poller.triggers
    tick = shipped.properties(shipped.stack.queues["poll-tick"].queue)
    assert "FifoQueue" not in tick  # only a standard queue delays each message on its own
    assert tick["VisibilityTimeout"] == VISIBILITY_TIMEOUT_FACTOR * poller.timeout_seconds


def test_every_queue_has_a_dlq_and_a_safe_visibility_timeout(synth: Synth) -> None:
    topology = synth.stack.topology
    for queue in topology.queues:
        pair = synth.stack.queues[queue.name]
        props = synth.properties(pair.queue)
        dlq_props = synth.properties(pair.dlq)
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [synth.logical_id(pair.dlq), "Arn"]},
            "maxReceiveCount": queue.max_receive_count,
        }
        assert props.get("FifoQueue", False) == queue.fifo
        assert dlq_props.get("FifoQueue", False) == queue.fifo
        assert props["MessageRetentionPeriod"] == queue.retention_days * 86400
        assert dlq_props["MessageRetentionPeriod"] == queue.dlq_retention_days * 86400
        assert props["VisibilityTimeout"] == topology.visibility_timeout_seconds(queue.name)
        consumer = topology.queue_consumer(queue.name)
        if consumer is not None:
            assert props["VisibilityTimeout"] >= VISIBILITY_TIMEOUT_FACTOR * consumer.timeout_seconds
        for p in (props, dlq_props):
            assert p["KmsMasterKeyId"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.key), "Arn"]}


def test_every_queue_refuses_plain_http(synth: Synth) -> None:
    policies = synth.of_type("AWS::SQS::QueuePolicy").values()
    guarded = {
        queue_id
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for queue_id in _refs(policy["Properties"]["Queues"])
    }
    assert set(synth.of_type("AWS::SQS::Queue")) <= guarded


def test_schedules_fire_the_right_function_at_the_topology_rate(full: Synth) -> None:
    rules = full.of_type("AWS::Events::Rule")
    schedules = full.stack.topology.schedules()
    assert len(rules) == len(schedules) == 3
    for trigger, function in schedules:
        fn_id = full.logical_id(full.stack.functions[function.name])
        matching = [
            r["Properties"]
            for r in rules.values()
            if _rate_minutes(r["Properties"]["ScheduleExpression"]) == trigger.rate_minutes
            and r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
        ]
        assert len(matching) == 1, (function.name, trigger.rate_minutes)
        assert "Arn" in matching[0]["Targets"][0]["DeadLetterConfig"]


def test_every_route_is_on_the_http_api_and_reaches_its_function(synth: Synth) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
    }
    integrations = synth.of_type("AWS::ApiGatewayV2::Integration")
    expected = synth.stack.topology.routes()
    assert len(routes) == len(expected)
    for trigger, function in expected:
        route = routes[f"{trigger.method} {trigger.path}"]
        integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
        uri = integrations[integration_id]["Properties"]["IntegrationUri"]
        assert uri == {"Fn::GetAtt": [synth.logical_id(synth.stack.functions[function.name]), "Arn"]}


def test_api_stage_is_throttled_and_logged(shipped: Synth, full: Synth) -> None:
    for synth, rate in ((shipped, 50), (full, 7)):
        [stage] = [s["Properties"] for s in synth.of_type("AWS::ApiGatewayV2::Stage").values()]
        assert stage["StageName"] == "$default"
        assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == rate
        assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100
        assert json.loads(stage["AccessLogSettings"]["Format"])["requestId"] == "$context.requestId"


def test_health_touches_no_data(full: Synth) -> None:
    actions = _actions(full.role_statements("health"))
    assert not {a for a in actions if a.split(":")[0] in ("dynamodb", "sqs", "secretsmanager", "kms")}
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


def test_each_role_is_scoped_to_its_own_tables(synth_dir: Path) -> None:
    topology = Topology(
        tables=(Table("left", "a"), Table("right", "b")),
        queues=(),
        secrets=(),
        functions=(
            Function("writer", "writes left", tables={"left": Access.READ_WRITE}),
            Function("reader", "reads right", tables={"right": Access.READ}),
        ),
    )
    synth = synthesize(synth_dir / "pair", topology)
    left, right = (synth.logical_id(synth.stack.tables[n]) for n in ("left", "right"))
    writer, reader = synth.role_statements("writer"), synth.role_statements("reader")
    dynamo = [s for s in writer if str(s["Action"]).startswith("['dynamodb")]
    assert {"dynamodb:PutItem", "dynamodb:GetItem"} <= _actions(dynamo)
    assert _refs([s["Resource"] for s in dynamo]) == {left}
    reader_dynamo = [s for s in reader if "dynamodb" in str(s["Action"])]
    assert _refs([s["Resource"] for s in reader_dynamo]) == {right}
    assert not _actions(reader_dynamo) & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    assert "kms:Encrypt" not in _actions(reader)  # reading needs decrypt only


def test_queue_access_follows_sends_to_and_triggers(full: Synth) -> None:
    queue_ids = {name: full.logical_id(pair.queue) for name, pair in full.stack.queues.items()}
    for function in full.stack.topology.functions:
        statements = [s for s in full.role_statements(function.name) if "sqs:" in str(s["Action"])]
        send = {
            q
            for q, i in queue_ids.items()
            for s in statements
            if "sqs:SendMessage" in s["Action"] and i in _refs(s)
        }
        receive = {
            q
            for q, i in queue_ids.items()
            for s in statements
            if "sqs:ReceiveMessage" in s["Action"] and i in _refs(s)
        }
        assert send == set(function.sends_to), function.name
        assert receive == {t.queue for t in function.triggers if isinstance(t, QueueTrigger)}, function.name


def test_secrets_exist_encrypted_and_prefix_access_is_scoped(full: Synth) -> None:
    secrets = {
        s["Properties"]["Name"]: s["Properties"] for s in full.of_type("AWS::SecretsManager::Secret").values()
    }
    assert set(secrets) == {"allegro-sync/app-credentials", "allegro-sync/webhook-signing"}
    for props in secrets.values():
        assert props["KmsKeyId"] == {"Fn::GetAtt": [full.logical_id(full.stack.key), "Arn"]}
    for function in full.stack.topology.functions:
        statements = full.role_statements(function.name)
        prefix_statements = [
            s for s in statements if "secret:allegro-sync/accounts/*" in json.dumps(s["Resource"])
        ]
        access = function.secrets.get("accounts")
        if access is None:
            assert not prefix_statements, function.name
            continue
        actions = _actions(prefix_statements)
        assert ("secretsmanager:CreateSecret" in actions) == (access is Access.READ_WRITE), function.name
        assert "secretsmanager:GetSecretValue" in actions
        env = full.properties(full.stack.functions[function.name])["Environment"]["Variables"]
        assert env["SECRET_ACCOUNTS"] == "allegro-sync/accounts/"
        assert ("SECRET_ACCOUNTS_KMS_KEY_ID" in env) == (access is Access.READ_WRITE)


def _watched_queue_names(alarm: dict[str, Any]) -> list[Any]:
    """The QueueName dimensions an alarm watches, in a plain or a metric-math alarm."""
    stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
    return [d["Value"] for m in [alarm, *stats] for d in m.get("Dimensions", []) if d["Name"] == "QueueName"]


def _watched_dlqs(synth: Synth) -> list[Any]:
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    return [name for a in alarms if a["Threshold"] == 0 for name in _watched_queue_names(a)]


def test_every_dlq_is_watched_by_an_alarm_to_the_topic(full: Synth) -> None:
    """With `-c detailedAlarms=true`, every DLQ (each queue's and the schedules') is alarmed."""
    alarms = [a["Properties"] for a in full.of_type("AWS::CloudWatch::Alarm").values()]
    topic = {"Ref": full.logical_id(full.stack.alarm_topic)}
    assert all(a["AlarmActions"] == [topic] for a in alarms)
    dlqs = [pair.dlq for pair in full.stack.queues.values()]
    if full.stack.schedule_dlq is not None:
        dlqs.append(full.stack.schedule_dlq)
    watched = _watched_dlqs(full)
    for dlq in dlqs:
        assert {"Fn::GetAtt": [full.logical_id(dlq), "QueueName"]} in watched


def test_by_default_the_dlqs_a_seller_must_hear_about_are_alarmed_and_no_other(shipped: Synth) -> None:
    """Issue 21: orders, stock from the shop, deliveries to the shop and tracking numbers alarm by default;
    a DLQ another path repairs on its own (the reconciler, the watchdog, invalid_grant's own alarm, the
    shop reconciler, the schedules' next run) only with `-c detailedAlarms=true`."""
    alarms = [a["Properties"] for a in shipped.of_type("AWS::CloudWatch::Alarm").values()]
    topic = {"Ref": shipped.logical_id(shipped.stack.alarm_topic)}
    assert all(a["AlarmActions"] == [topic] for a in alarms)
    watched = _watched_dlqs(shipped)
    for queue in shipped.stack.topology.queues:
        dlq = {"Fn::GetAtt": [shipped.logical_id(shipped.stack.queues[queue.name].dlq), "QueueName"]}
        assert (dlq in watched) is queue.dlq_alarm, queue.name
    assert {q.name for q in TOPOLOGY.queues if q.dlq_alarm} == {
        "shop-events",
        "orders",
        "shop-outbox",
        "fulfillment",
    }
    schedule_dlq = shipped.stack.schedule_dlq
    assert schedule_dlq is not None
    assert {"Fn::GetAtt": [shipped.logical_id(schedule_dlq), "QueueName"]} not in watched


def test_by_default_nothing_bills_while_idle_that_the_seller_did_not_ask_for(shipped: Synth) -> None:
    """Issue 21: no dashboard, no X-Ray, at most 10 alarms, the webhook API's 5xx among them (a shop
    disables a webhook that keeps failing); alarms are billed per metric: DLQs + 5xx + business ones."""
    alarms = [a["Properties"] for a in shipped.of_type("AWS::CloudWatch::Alarm").values()]
    assert shipped.of_type("AWS::CloudWatch::Dashboard") == {}
    for fn in shipped.stack.functions.values():
        assert "TracingConfig" not in shipped.properties(fn)
    assert len(alarms) <= 10
    dlqs = sum(1 for q in shipped.stack.topology.queues if q.dlq_alarm)
    metrics = sum(len([m for m in a.get("Metrics", []) if "MetricStat" in m]) or 1 for a in alarms)
    assert metrics == dlqs + 1 + len(shipped.stack.topology.alarms) <= 10  # billed per metric
    assert any(a.get("MetricName") == "5xx" and a["Namespace"] == "AWS/ApiGateway" for a in alarms)
    assert not any(a.get("MetricName") in ("Errors", "Throttles") for a in alarms)
    # the business alarms watch the published metrics, at most 5 names, `service` alone: 5 billed metrics
    custom = [a for a in alarms if a.get("Namespace") == "AllegroSync"]
    assert {a["MetricName"] for a in custom} == set(ALARM_METRICS)
    assert len(ALARM_METRICS) <= 5
    assert all(a["Dimensions"] == [{"Name": "service", "Value": "allegro-sync"}] for a in custom)


def test_tracing_the_dashboard_and_per_function_alarms_are_opt_in(full: Synth) -> None:
    synth = full
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    assert len(synth.of_type("AWS::CloudWatch::Dashboard")) == 1
    for fn in synth.stack.functions.values():
        assert synth.properties(fn)["TracingConfig"] == {"Mode": "Active"}
        fn_dimension = [{"Name": "FunctionName", "Value": {"Ref": synth.logical_id(fn)}}]
        metrics = {a.get("MetricName") for a in alarms if a.get("Dimensions") == fn_dimension}
        assert metrics == {"Errors", "Throttles"}


def test_every_business_alarm_of_the_topology_watches_its_metric(synth: Synth) -> None:
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    for wanted in synth.stack.topology.alarms:
        matching = [
            a
            for a in alarms
            if a.get("MetricName") == wanted.metric
            and a["Namespace"] == "AllegroSync"
            and a["Dimensions"] == [{"Name": "service", "Value": "allegro-sync"}]
        ]
        assert len(matching) == 1, wanted.metric
        assert matching[0]["Threshold"] == wanted.threshold
        assert matching[0]["Period"] == wanted.period_minutes * 60
        assert matching[0]["Statistic"] == "Sum"


def test_a_disconnected_seller_raises_an_alarm() -> None:
    assert "AccountDisconnected" in {a.metric for a in TOPOLOGY.alarms}


def test_tables_keep_seller_data(synth: Synth) -> None:
    for table in synth.stack.topology.tables:
        resource = synth.resource(synth.stack.tables[table.name])
        props = resource["Properties"]
        assert resource["DeletionPolicy"] == "Retain"
        assert props["DeletionProtectionEnabled"] is True
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["SSESpecification"]["KMSMasterKeyId"] == {
            "Fn::GetAtt": [synth.logical_id(synth.stack.key), "Arn"]
        }
        assert props["KeySchema"] == [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ]
        ttl = props.get("TimeToLiveSpecification")
        if table.ttl_attribute:
            assert ttl == {"AttributeName": table.ttl_attribute, "Enabled": True}
        else:
            assert ttl is None


def test_the_orders_table_expires_buyer_data_and_keeps_the_bookkeeping(shipped: Synth) -> None:
    """DynamoDB's TTL removes the buyer's data (`expires_at`, docs/privacy.md); the order records, line
    owners and attention markers carry no `expires_at`, so it never removes them."""
    props = shipped.properties(shipped.stack.tables["orders"])
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    kept: list[dict[str, Any]] = []

    class Client:
        def put_item(self, **request: Any) -> None:
            kept.append(request["Item"])

    DynamoBuyerData("orders", Client()).keep(
        BuyerDetails("f-1", "shop1", {"login": "k"}, None, 1_900_000_000)
    )
    assert kept[0]["expires_at"] == {"N": "1900000000"}
    worker = shipped.properties(shipped.stack.functions["order_worker"])["Environment"]["Variables"]
    assert "ORDER_BUYER_DATA_DAYS" not in worker  # the default, 30 days, unless -c buyerDataDays=N


def test_outputs_follow_the_env_var_contract(full: Synth) -> None:
    outputs = full.template.to_json()["Outputs"]
    assert naming.API_URL_OUTPUT in outputs
    assert outputs[naming.ALARM_TOPIC_OUTPUT]["Value"] == {"Ref": full.logical_id(full.stack.alarm_topic)}
    assert outputs["TABLECONTROL"]["Value"] == {"Ref": full.logical_id(full.stack.tables["control"])}
    assert outputs["QUEUESHOPEVENTSURL"]["Value"] == {
        "Ref": full.logical_id(full.stack.queues["shop-events"].queue)
    }
    assert outputs["QUEUESHOPEVENTSDLQURL"]["Value"] == {
        "Ref": full.logical_id(full.stack.queues["shop-events"].dlq)
    }
    assert outputs["SECRETAPPCREDENTIALS"]["Value"] == "allegro-sync/app-credentials"
    assert outputs["SECRETACCOUNTS"]["Value"] == "allegro-sync/accounts/"
    # The CLI creates account secrets with the stack's key; it reads the key from this output.
    assert outputs["SECRETACCOUNTSKMSKEYID"]["Value"] == {
        "Fn::GetAtt": [full.logical_id(full.stack.key), "Arn"]
    }
    expected = {naming.table_output_key(t.name) for t in FULL.tables}
    expected |= {naming.queue_output_key(q.name) for q in FULL.queues}
    expected |= {naming.dlq_output_key(q.name) for q in FULL.queues}
    expected |= {naming.secret_output_key(s.name) for s in FULL.secrets}
    expected |= {naming.output_key(naming.kms_key_env(s.name)) for s in FULL.secrets if s.is_prefix}
    assert outputs[naming.SCHEDULE_DLQ_OUTPUT]["Value"] == {"Ref": full.logical_id(full.stack.schedule_dlq)}
    assert set(outputs) == expected | {
        naming.API_URL_OUTPUT,
        naming.ALARM_TOPIC_OUTPUT,
        naming.SCHEDULE_DLQ_OUTPUT,
    }


def test_alarm_email_subscribes_only_when_asked(shipped: Synth, full: Synth) -> None:
    assert not shipped.of_type("AWS::SNS::Subscription")
    [subscription] = full.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    [topic] = full.of_type("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]


def test_dev_stack_may_destroy_its_data(synth_dir: Path) -> None:
    synth = synthesize(
        synth_dir / "dev", TOPOLOGY, {"destroyDataOnDelete": "true", "stackName": "AllegroSyncDev"}
    )
    for table in synth.stack.tables.values():
        resource = synth.resource(table)
        assert resource["DeletionPolicy"] == "Delete"
        assert resource["Properties"]["DeletionProtectionEnabled"] is False
    for fn in synth.stack.functions.values():
        assert synth.properties(fn)["FunctionName"].startswith("AllegroSyncDev-")


def test_unacknowledged_cdk_nag_finding_fails_the_synth(synth_dir: Path) -> None:
    """cdk-nag is wired into every synth: a queue without DLQ or TLS policy must stop it."""
    asset = synth_dir / "nag-asset"
    asset.mkdir()
    (asset / "index.py").write_text("")
    app = cdk.App(outdir=str(synth_dir / "nag"))
    stack = build(app, TOPOLOGY, code=cdk.aws_lambda.Code.from_asset(str(asset)))
    cdk.aws_sqs.Queue(stack, "Careless")
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS3") as failure:
        app.synth()
    assert "AllegroSync/Careless/Resource" in str(failure.value)


def test_fifo_queue_with_batching_window_is_refused(synth_dir: Path) -> None:
    topology = Topology(
        tables=(),
        queues=FULL.queues[:1],
        secrets=(),
        functions=(
            Function("w", "w", triggers=(QueueTrigger("shop-events", max_batching_window_seconds=3),)),
        ),
    )
    with pytest.raises(ValueError, match="FIFO queue shop-events cannot have a batching window"):
        synthesize(synth_dir / "fifo-window", topology)


def test_undeclared_resource_is_a_clear_error(synth_dir: Path) -> None:
    topology = Topology(
        tables=(),
        queues=(),
        secrets=(),
        functions=(Function("w", "w", tables={"ghost": Access.READ}, triggers=(RouteTrigger("GET", "/w"),)),),
    )
    with pytest.raises(
        ValueError, match="function 'w' uses table 'ghost', which the topology does not declare"
    ):
        synthesize(synth_dir / "ghost", topology)


def test_full_template_passes_cfn_lint_with_serverless_rules(full: Synth, synth_dir: Path) -> None:
    """Future functions (queues, schedules, prefix secrets) must keep `make cfn-lint` at zero findings."""
    template = synth_dir / "full" / "cdk.out" / f"{full.stack.artifact_id}.template.json"
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(  # noqa: S603
        [str(cfn_lint), "--append-rules", "cfn_lint_serverless.rules", "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cloudwatch_may_publish_to_the_encrypted_alarm_topic(shipped: Synth) -> None:
    """Without these two grants an alarm fires but its notification is silently refused."""
    cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
    alarm_topic = {"Ref": shipped.logical_id(shipped.stack.alarm_topic)}
    [topic_policy] = [  # the alarm topic's (issue 15 adds the seller-messages topic, TLS-only too)
        p
        for p in shipped.of_type("AWS::SNS::TopicPolicy").values()
        if alarm_topic in p["Properties"]["Topics"]
    ]
    assert any(
        s["Effect"] == "Allow" and s["Principal"] == cloudwatch and s["Action"] == "sns:Publish"
        for s in topic_policy["Properties"]["PolicyDocument"]["Statement"]
    )
    key_policy = shipped.properties(shipped.stack.key)["KeyPolicy"]["Statement"]
    assert any(
        s["Principal"] == cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(s["Action"])
        for s in key_policy
    )


def test_acknowledged_findings_carry_their_reason_in_the_template(full: Synth) -> None:
    acknowledged = {
        rule["id"]: rule["reason"]
        for resource in full.resources.values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    }
    assert "AwsSolutions-IAM5[Resource::*]" in acknowledged  # X-Ray, with `-c tracing=true`
    assert "2029-06-30" in acknowledged["AwsSolutions-L1"]  # python3.13 for the asset's .pyc
    assert all(len(reason) > 40 for reason in acknowledged.values())


def test_every_wildcard_in_a_policy_is_acknowledged_on_that_policy(full: Synth) -> None:
    """Least privilege, checked on the template itself (not only through cdk-nag): a wildcard action must be
    acknowledged with a reason on the very policy that has it, and `Resource: *` only for X-Ray, which has no
    resource-level permissions."""
    for name, policy in full.of_type("AWS::IAM::Policy").items():
        acknowledged = {
            rule["id"] for rule in policy.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        }
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                assert action != "*", f"{name} allows every action"
                if "*" in action:
                    assert f"AwsSolutions-IAM5[Action::{action}]" in acknowledged, f"{name}: {action}"
            if statement.get("Resource") == "*":
                assert all(a.startswith("xray:Put") for a in actions), f"{name}: {actions} on every resource"
