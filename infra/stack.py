"""The one stack, generated from a `Topology`.

Nothing here names a particular function, queue, table or secret: every resource comes from
iterating the topology, so adding a function there is all it takes to deploy it. Each function gets
its own role holding exactly the grants its topology entry declares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from allegro_sync.settings import FEED_URL_ENV
from allegro_sync.topology import (
    Bucket,
    Function,
    Grant,
    MetricAlarm,
    Queue,
    QueueTrigger,
    RouteTrigger,
    ScheduleTrigger,
    Secret,
    Topic,
    Topology,
    bucket_actions,
    bucket_env,
    queue_env,
    secret_actions,
    secret_env,
    table_actions,
    table_env,
    topic_actions,
    topic_env,
    writes,
)
from infra import naming
from infra.bundling import LAMBDA_RUNTIME
from infra.config import Settings, s3_object_arn
from infra.dashboard import build_dashboard

POWERTOOLS_METRICS_NAMESPACE = "AllegroSync"
POWERTOOLS_SERVICE_NAME = "allegro-sync"
MAX_METRICS_PER_ALARM = 10  # CloudWatch: a metric-math alarm may use at most 10 metrics
DLQ_RETENTION = cdk.Duration.days(14)  # the SQS maximum: the longest time an operator has to replay
# Secret value until the operator stores the real one; the same marker the local runtime writes.
PLACEHOLDER_SECRET = {
    "configured": False,
    "note": "placeholder created by the allegro-sync stack: not configured",
}
_ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
}


@dataclass(frozen=True)
class QueuePair:
    queue: sqs.Queue
    dlq: sqs.Queue


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """JSON access logs for the HTTP API stage (structured, so Logs Insights can query them)."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FORMAT))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """A cdk-nag finding accepted on purpose, on the narrowest construct that raises it."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


class AllegroSyncStack(cdk.Stack):
    """Tables, queues, secrets, functions, triggers and alarms for one seller's deployment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        settings: Settings,
        code: lambda_.Code,
        env: cdk.Environment | None = None,
    ) -> None:
        super().__init__(scope, construct_id, stack_name=settings.stack_name, env=env)
        self.topology = topology
        self.settings = settings
        self.code = code
        self.data_removal = (
            cdk.RemovalPolicy.DESTROY if settings.destroy_data_on_delete else cdk.RemovalPolicy.RETAIN
        )

        self.key = self._key()
        self.alarm_topic = self._alarm_topic()
        self.tables = {t.name: self._table(t.name, t.ttl_attribute) for t in topology.tables}
        self.queues = {q.name: self._queue(q) for q in topology.queues}
        self.secrets = {
            s.name: self._secret(s.name, s.purpose) for s in topology.stored_secrets() if not s.is_prefix
        }
        self.buckets = {b.name: self._bucket(b) for b in topology.buckets}  # issue 15: label PDFs
        self.topics = {t.name: self._topic(t) for t in topology.topics}  # issue 15, item 4: to the seller
        self.schedule_dlq = self._schedule_dlq() if topology.schedules() else None
        self.api = self._http_api() if topology.routes() else None
        self.functions = {f.name: self._function(f) for f in topology.functions}
        for alarm in topology.alarms:
            self._alarm_on_metric(alarm)
        self._alarm_on_dead_letters()
        if self.api is not None:
            self._alarm_on_api_errors(self.api)
        self.dashboard = (
            build_dashboard(
                self,
                name=settings.stack_name,
                topology=topology,
                queues=self.queues,
                functions=self.functions,
                schedule_dlq=self.schedule_dlq,
                namespace=POWERTOOLS_METRICS_NAMESPACE,
                service=POWERTOOLS_SERVICE_NAME,
            )
            if settings.dashboard
            else None
        )
        self._outputs()

    # --- shared resources -------------------------------------------------------------------------------

    def _key(self) -> kms.Key:
        key = kms.Key(
            self,
            "DataKey",
            description=f"{self.settings.stack_name}: encrypts tables, queues, secrets, logs, alarm topic",
            enable_key_rotation=True,
            removal_policy=self.data_removal,
        )
        # CloudWatch alarms publish to the encrypted topic, in the form AWS documents for alarm
        # actions (CloudWatch does not promise a source condition key here).
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
            )
        )
        # EventBridge writes undeliverable scheduled events to the encrypted DLQ: only this
        # account's rules may make it use the key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": self.format_arn(service="events", resource="rule", resource_name="*")
                    }
                },
            )
        )
        # CloudWatch Logs encrypts this stack's log groups with the key (buyer ids and order numbers appear
        # in logs), limited to log groups of this account and region as AWS documents for log encryption.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": self.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        return key

    def _alarm_topic(self) -> sns.Topic:
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"{self.settings.stack_name} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        # The TLS-only policy replaces SNS's default topic policy, so CloudWatch is let in explicitly.
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        if self.settings.alarm_email:
            subscription = sns.Subscription(
                self,
                "AlarmEmail",
                topic=topic,
                endpoint=self.settings.alarm_email,
                protocol=sns.SubscriptionProtocol.EMAIL,
            )
            _ignore_cfn_lint(
                subscription.node.default_child,
                "ES7000",
                "An e-mail subscription has nothing worth replaying: the alarm state stays in CloudWatch.",
            )
        return topic

    def _table(self, name: str, ttl_attribute: str | None) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            f"{naming.construct_id(name)}Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            time_to_live_attribute=ttl_attribute,
            removal_policy=self.data_removal,
            deletion_protection=not self.settings.destroy_data_on_delete,
        )

    def _queue(self, queue: Queue) -> QueuePair:
        base = naming.construct_id(queue.name)
        dlq = self._dlq(f"{base}Dlq", fifo=queue.fifo, retention=cdk.Duration.days(queue.dlq_retention_days))
        main = sqs.Queue(
            self,
            f"{base}Queue",
            fifo=queue.fifo or None,
            content_based_deduplication=queue.content_based_deduplication if queue.fifo else None,
            visibility_timeout=cdk.Duration.seconds(self.topology.visibility_timeout_seconds(queue.name)),
            retention_period=cdk.Duration.days(queue.retention_days),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=queue.max_receive_count, queue=dlq),
        )
        return QueuePair(main, dlq)

    def _schedule_dlq(self) -> sqs.Queue:
        """Scheduled invocations EventBridge could not deliver, or that failed all async retries."""
        dlq = self._dlq("ScheduleDlq", fifo=False)
        acknowledge(
            dlq,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: of the EventBridge schedule targets and of the "
            "scheduled functions' async on-failure destination, which cdk-nag does not recognise as DLQ use.",
        )
        return dlq

    def _dlq(self, construct_id: str, *, fifo: bool, retention: cdk.Duration = DLQ_RETENTION) -> sqs.Queue:
        dlq = sqs.Queue(
            self,
            construct_id,
            fifo=fifo or None,
            retention_period=retention,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
        )
        _ignore_cfn_lint(
            dlq.node.default_child,
            "ES6000",
            "This queue is a dead-letter queue. (The rule recognises DLQs only when RedrivePolicy is one "
            "intrinsic, not the object with a GetAtt that CDK writes.)",
        )
        return dlq

    def _secret(self, name: str, purpose: str) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            f"{naming.construct_id(name)}Secret",
            secret_name=naming.secret_name(self.settings.name_prefix, self.topology.secret(name)),
            description=purpose,
            encryption_key=self.key,
            secret_string_value=cdk.SecretValue.unsafe_plain_text(json.dumps(PLACEHOLDER_SECRET)),
            removal_policy=self.data_removal,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "The value is issued outside AWS (Allegro app credentials, the shop's webhook key); "
            "Secrets Manager cannot rotate it, the operator replaces it with `put-secret-value`.",
        )
        return secret

    def _topic(self, topic: Topic) -> sns.Topic:
        """A topic to the seller (issue 15, item 4), encrypted with the stack's key, TLS only; the seller's
        e-mail subscribed when `-c <email_context>=...` names one."""
        built = sns.Topic(
            self,
            f"{naming.construct_id(topic.name)}Topic",
            display_name=f"{self.settings.stack_name} {topic.name}",
            master_key=self.key,
            enforce_ssl=True,
        )
        address = self.settings.topic_emails.get(topic.name)
        if address:
            subscription = sns.Subscription(
                self,
                f"{naming.construct_id(topic.name)}Email",
                topic=built,
                endpoint=address,
                protocol=sns.SubscriptionProtocol.EMAIL,
            )
            _ignore_cfn_lint(
                subscription.node.default_child,
                "ES7000",
                "An e-mail to the seller has nothing worth replaying: the message stays in Allegro.",
            )
        return built

    def _bucket(self, bucket: Bucket) -> s3.Bucket:
        """Issue 15: encrypted with the stack's key, never public, TLS only, objects expired by a lifecycle
        rule (a label prints the buyer's address; docs/privacy.md)."""
        built = s3.Bucket(
            self,
            f"Bucket{bucket.name.title().replace('-', '')}",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(bucket.expire_days))],
            removal_policy=self.data_removal,
        )
        acknowledge(
            built,
            "AwsSolutions-S1",
            f"{bucket.purpose}: short-lived objects reached only through presigned links; access logs would "
            "keep their keys longer than the objects themselves",
        )
        return built

    def _http_api(self) -> apigwv2.HttpApi:
        api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description=f"{self.settings.stack_name}: shop webhooks, OAuth callbacks and health",
            create_default_stage=False,
        )
        access_logs = logs.LogGroup(
            self,
            "HttpApiAccessLogs",
            retention=self.settings.log_retention,
            encryption_key=self.key,
            removal_policy=self.data_removal,
        )
        apigwv2.HttpStage(
            self,
            "HttpApiDefaultStage",
            http_api=api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=self.settings.api_throttle_rate,
                burst_limit=self.settings.api_throttle_burst,
            ),
            access_log_settings=_AccessLogSettings(access_logs),
        )
        return api

    # --- functions ----------------------------------------------------------------------------------------

    def _function(self, function: Function) -> lambda_.Function:
        base = naming.construct_id(function.name)
        physical_name = f"{self.settings.stack_name}-{function.name}"
        if len(physical_name) > 64:
            raise ValueError(f"function name {physical_name!r} is longer than Lambda's 64 characters")
        # Named after the function so it exists (with retention) before the first invocation would
        # create an unmanaged, never-expiring one. Deleted with the stack: a retained group with this
        # fixed name would make the next deployment of the same stack fail.
        log_group = logs.LogGroup(
            self,
            f"{base}Logs",
            log_group_name=f"/aws/lambda/{physical_name}",
            retention=self.settings.log_retention,
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"{base}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function.name}: only the resources its topology entry declares",
        )
        log_group.grant_write(role)
        is_scheduled = any(isinstance(t, ScheduleTrigger) for t in function.triggers)
        fn = lambda_.Function(
            self,
            base,
            function_name=physical_name,
            description=function.purpose[:256],
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=function.handler,
            code=self.code,
            role=role,
            timeout=cdk.Duration.seconds(function.timeout_seconds),
            memory_size=function.memory_mb,
            reserved_concurrent_executions=function.reserved_concurrency,
            # A tick chain sends to the queue it consumes on purpose; every other function keeps Lambda's
            # default (Terminate): docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html
            recursive_loop=lambda_.RecursiveLoop.ALLOW if function.recursive_loop else None,
            tracing=lambda_.Tracing.ACTIVE if self.settings.tracing else lambda_.Tracing.DISABLED,
            log_group=log_group,
            environment=self._environment(function),
            on_failure=destinations.SqsDestination(self.schedule_dlq)
            if is_scheduled and self.schedule_dlq
            else None,
        )
        acknowledge(
            fn,
            "AwsSolutions-L1",
            "python3.13, not the newest runtime: the asset ships .pyc compiled by a local Python of the "
            "runtime's exact version, and 3.13 is the one this project builds with (supported until "
            "2029-06-30; docs/architecture.md D10).",
        )
        reason = "W3005: CDK adds an explicit DependsOn on the role next to the GetAtt, a harmless duplicate"
        rules = ["W3005"]
        if not self.settings.tracing:
            rules.append("WS1000")
            reason += (
                ". WS1000: X-Ray active tracing bills every invocation while the handlers use no tracer;"
                " it is opt-in (-c tracing=true), docs/operations.md"
            )
        _ignore_cfn_lint(fn.node.default_child, rules, reason)
        if self.settings.tracing:
            acknowledge(
                role.node.find_child("DefaultPolicy"),
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
            )
        self._grant(function, role)
        for trigger in function.triggers:
            self._trigger(function, fn, trigger)
        self._acknowledge_key_wildcards(role)
        if self.settings.detailed_alarms:
            self._alarm_on_function(base, fn)
        return fn

    def _environment(self, function: Function) -> dict[str, str]:
        """Powertools settings, then the env-var contract naming this function's resources, then the
        topology's static settings (the same order the local runtime applies)."""
        env = {
            "POWERTOOLS_SERVICE_NAME": POWERTOOLS_SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_METRICS_NAMESPACE,
            "POWERTOOLS_METRICS_FUNCTION_NAME": function.name,
            "LOG_LEVEL": self.settings.log_level,
            "ALLEGRO_ENVIRONMENT": self.settings.allegro_environment,
        }
        for name in function.tables:
            env[table_env(name)] = self._table_for(function, name).table_name
        for name in function.queues:  # its own queue too: it reschedules its failed records
            env[queue_env(name)] = self._queue_for(function, name).queue.queue_url
        for name in function.secrets:
            secret = self._secret_decl(function, name)
            env[secret_env(name)] = naming.secret_name(self.settings.name_prefix, secret)
            if secret.is_prefix and function.creates_secrets(name):
                env[naming.kms_key_env(name)] = self.key.key_arn
        for name in function.buckets:  # issue 15
            env[bucket_env(name)] = self.buckets[name].bucket_name
        for name in function.topics:  # issue 15, item 4
            env[topic_env(name)] = self.topics[name].topic_arn
        for name in function.deploy_settings:
            if name in self.settings.deploy_settings:
                env[name] = self.settings.deploy_settings[name]
        env.update(function.environment)
        return env

    def _grant(self, function: Function, role: iam.Role) -> None:
        feed = (
            self.settings.deploy_settings.get(FEED_URL_ENV)
            if FEED_URL_ENV in function.deploy_settings
            else None
        )
        feed_object = s3_object_arn(feed) if feed else None
        if feed_object:
            role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[feed_object]))
        for name, grant in function.tables.items():
            table = self._table_for(function, name)
            actions = table_actions(grant)
            table.grant(role, *actions)
            if writes(actions):
                self.key.grant_encrypt_decrypt(role)
            else:
                self.key.grant_decrypt(role)
        for name in function.sends_to:
            self._queue_for(function, name).queue.grant_send_messages(role)
        for name, actions in function.buckets.items():  # issue 15: exactly the object actions declared
            bucket = self.buckets[name]
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(bucket_actions(actions)), resources=[bucket.arn_for_objects("*")]
                )
            )
            self.key.grant_encrypt_decrypt(role)
            logical = self.resolve(self.get_logical_id(bucket.node.default_child))  # type: ignore[arg-type]
            acknowledge(
                role.node.find_child("DefaultPolicy"),
                f"AwsSolutions-IAM5[Resource::<{logical}.Arn>/*]",
                "The objects of the one labels bucket (a key per package), only the declared actions.",
            )
        for name, topic_grant in function.topics.items():  # issue 15, item 4: exactly the declared actions
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(topic_actions(topic_grant)), resources=[self.topics[name].topic_arn]
                )
            )
            self.key.grant_encrypt_decrypt(role)  # the topic is encrypted with the stack's key
        for name, grant in function.secrets.items():
            secret = self._secret_decl(function, name)
            if secret.is_prefix:
                self._grant_secret_prefix(function, name, grant, role)
                continue
            actions = secret_actions(grant)
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(actions),
                    resources=[self.secrets[self.topology.stored_secret(name).name].secret_arn],
                )
            )
            self._grant_secret_key(role, write=writes(actions))

    def _grant_secret_key(self, role: iam.Role, *, write: bool) -> None:
        """The stack's key, for Secrets Manager only: decrypt to read, generate data keys to store."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", *(["kms:GenerateDataKey"] if write else [])],
                resources=[self.key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{self.region}.amazonaws.com"}
                },
            )
        )

    def _acknowledge_key_wildcards(self, role: iam.Role) -> None:
        """CDK's KMS encrypt grants name `GenerateDataKey*` and `ReEncrypt*`; acknowledged where present."""
        policy = role.node.try_find_child("DefaultPolicy")
        if not isinstance(policy, iam.Policy):
            return
        document = self.resolve(policy.document)
        actions = {
            action
            for statement in document.get("Statement", [])
            for action in (
                [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            )
        }
        for action in sorted(actions & {"kms:GenerateDataKey*", "kms:ReEncrypt*"}):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                "CDK's encrypt grant on the stack's one data key: the wildcard covers the "
                "GenerateDataKey/ReEncrypt variants SQS, DynamoDB and Secrets Manager call; "
                "the resource is that single key.",
            )

    def _grant_secret_prefix(self, function: Function, name: str, grant: Grant, role: iam.Role) -> None:
        """One secret per seller account is created at run time, so the grant is on the name prefix."""
        prefix = naming.secret_name(self.settings.name_prefix, self.topology.secret(name))
        arn = self.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{prefix}*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        actions = secret_actions(grant)
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=[arn]))
        self._grant_secret_key(role, write=writes(actions))
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:{prefix}*]",
            f"{function.name} handles one secret per connected seller account, created at run time under "
            f"the {prefix} prefix; the grant is limited to that prefix.",
        )

    def _trigger(self, function: Function, fn: lambda_.Function, trigger: object) -> None:
        if isinstance(trigger, QueueTrigger):
            pair = self._queue_for(function, trigger.queue)
            queue = self.topology.queue(trigger.queue)
            if queue.fifo and trigger.max_batching_window_seconds:
                raise ValueError(
                    f"{function.name}: FIFO queue {queue.name} cannot have a batching window "
                    "(SQS FIFO event sources do not support one)"
                )
            source = event_sources.SqsEventSource(
                pair.queue,
                batch_size=trigger.batch_size,
                max_batching_window=(
                    cdk.Duration.seconds(trigger.max_batching_window_seconds)
                    if trigger.max_batching_window_seconds
                    else None
                ),
                report_batch_item_failures=True,
            )
            fn.add_event_source(source)
            mapping = fn.node.find_child(f"SqsEventSource:{cdk.Names.node_unique_id(pair.queue.node)}")
            _ignore_cfn_lint(
                mapping.node.default_child,
                "ES1001",
                "SQS event source mappings support no on-failure destination; the queue's redrive "
                "policy moves failed messages to its DLQ.",
            )
        elif isinstance(trigger, ScheduleTrigger):
            index = function.triggers.index(trigger)
            rule = events.Rule(
                self,
                f"{naming.construct_id(function.name)}Schedule{index}",
                schedule=events.Schedule.rate(cdk.Duration.minutes(self.settings.rate_minutes(trigger))),
                description=(trigger.description or f"runs {function.name}")[:512],
            )
            rule.add_target(targets.LambdaFunction(fn, dead_letter_queue=self.schedule_dlq, retry_attempts=2))
            permissions = [c for c in rule.node.find_all() if isinstance(c, lambda_.CfnPermission)]
            if not permissions:
                raise RuntimeError(
                    f"{function.name}: CDK no longer puts the rule's invoke permission under the rule"
                )
            for permission in permissions:
                _ignore_cfn_lint(
                    permission,
                    "ES1007",
                    "The function has an EventInvokeConfig whose on-failure destination is the schedule DLQ; "
                    "the rule misses it because it compares FunctionName literally (Arn here, Ref there).",
                )
        elif isinstance(trigger, RouteTrigger):
            assert self.api is not None  # created whenever the topology has a route
            routes = self.api.add_routes(
                path=trigger.path,
                methods=[apigwv2.HttpMethod(trigger.method)],
                integration=integrations.HttpLambdaIntegration(
                    f"{naming.construct_id(function.name)}{trigger.method}Integration", fn
                ),
            )
            for route in routes:
                acknowledge(
                    route,
                    "AwsSolutions-APIG4",
                    f"{trigger.method} {trigger.path} is called by the shop, Allegro's OAuth redirect or an "
                    "uptime check, none of which can present AWS credentials; the function authenticates "
                    "what needs it (HMAC signature, OAuth state).",
                )
        else:
            raise TypeError(f"{function.name}: unknown trigger {trigger!r}")

    # --- alarms -------------------------------------------------------------------------------------------

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

    def _alarm_on_dead_letters(self) -> None:
        """One alarm per ten DLQs (a metric-math alarm takes at most 10 metrics): any message in any of
        them. Billed per metric either way; one alarm instead of one per queue keeps the list short, and
        `allegro-sync dlq show` names the queue and why each message failed. By default only the DLQs a
        seller must hear about (`Queue.dlq_alarm`); the others, and the schedules' (the next run retries),
        with `-c detailedAlarms=true` (issue 21: every watched metric bills, idle or not)."""
        detailed = self.settings.detailed_alarms
        dlqs = [self.queues[q.name].dlq for q in self.topology.queues if q.dlq_alarm or detailed]
        if self.schedule_dlq is not None and detailed:
            dlqs.append(self.schedule_dlq)
        for start in range(0, len(dlqs), MAX_METRICS_PER_ALARM):
            chunk = dlqs[start : start + MAX_METRICS_PER_ALARM]
            visible = {
                f"dlq{n}": dlq.metric_approximate_number_of_messages_visible(
                    period=cdk.Duration.minutes(1), statistic="Maximum"
                )
                for n, dlq in enumerate(chunk)
            }
            suffix = "" if start == 0 else str(start // MAX_METRICS_PER_ALARM + 1)
            self._alarm(
                f"DeadLettersNotEmptyAlarm{suffix}",
                cloudwatch.MathExpression(
                    expression=f"MAX([{', '.join(visible)}])",
                    using_metrics=dict(visible),
                    label="messages in dead-letter queues",
                    period=cdk.Duration.minutes(1),
                ),
                "A dead-letter queue is not empty: a message failed all its retries. "
                "See which and why with `allegro-sync dlq show`, replay with `allegro-sync dlq replay`.",
            )

    def _alarm_on_api_errors(self, api: apigwv2.HttpApi) -> None:
        """The webhook API answered 5xx: a function failed or was throttled, and WooCommerce disables a
        webhook after more than 5 failed deliveries in a row. One metric for every route (`5xx` by ApiId:
        docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html)."""
        self._alarm(
            "HttpApiServerErrorsAlarm",
            api.metric_server_error(period=cdk.Duration.minutes(5), statistic="Sum"),
            "The HTTP API answered 5xx (a function failed or was throttled): shops may disable webhooks "
            "that keep failing. Check the functions' logs.",
        )

    def _alarm_on_function(self, base: str, fn: lambda_.Function) -> None:
        period = cdk.Duration.minutes(5)
        self._alarm(
            f"{base}ErrorsAlarm",
            fn.metric_errors(period=period, statistic="Sum"),
            f"{fn.function_name} raised errors",
        )
        self._alarm(
            f"{base}ThrottlesAlarm",
            fn.metric_throttles(period=period, statistic="Sum"),
            f"{fn.function_name} was throttled (reserved concurrency or account limit reached)",
        )

    def _alarm_on_metric(self, alarm: MetricAlarm) -> None:
        metric = cloudwatch.Metric(
            namespace=POWERTOOLS_METRICS_NAMESPACE,
            metric_name=alarm.metric,
            dimensions_map={"service": POWERTOOLS_SERVICE_NAME},
            statistic="Sum",
            period=cdk.Duration.minutes(alarm.period_minutes),
        )
        cloudwatch.Alarm(
            self,
            f"{alarm.metric}Alarm",
            metric=metric,
            threshold=alarm.threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=alarm.description,
        ).add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

    # --- outputs ------------------------------------------------------------------------------------------

    def _outputs(self) -> None:
        """Physical names under env-var-shaped keys: the CLI reaches a deployed stack as a Lambda does."""
        if self.api is not None:
            cdk.CfnOutput(
                self, naming.API_URL_OUTPUT, value=self.api.api_endpoint, description="HTTP API base URL"
            )
        cdk.CfnOutput(
            self,
            naming.ALARM_TOPIC_OUTPUT,
            value=self.alarm_topic.topic_arn,
            description="Subscribe to get alarms",
        )
        if self.schedule_dlq is not None:
            cdk.CfnOutput(self, naming.SCHEDULE_DLQ_OUTPUT, value=self.schedule_dlq.queue_url)
        for name, table in self.tables.items():
            cdk.CfnOutput(self, naming.table_output_key(name), value=table.table_name)
        for name, bucket in self.buckets.items():  # issue 15
            cdk.CfnOutput(self, naming.output_key(bucket_env(name)), value=bucket.bucket_name)
        for name, topic in self.topics.items():  # issue 15, item 4
            cdk.CfnOutput(self, naming.output_key(topic_env(name)), value=topic.topic_arn)
        for name, pair in self.queues.items():
            cdk.CfnOutput(self, naming.queue_output_key(name), value=pair.queue.queue_url)
            cdk.CfnOutput(self, naming.dlq_output_key(name), value=pair.dlq.queue_url)
        for family in (s for s in self.topology.secrets if s.is_prefix):
            cdk.CfnOutput(
                self,
                naming.output_key(naming.kms_key_env(family.name)),
                value=self.key.key_arn,
                description=f"KMS key that secrets under the {family.name} prefix are created with",
            )
        for secret in self.topology.secrets:
            cdk.CfnOutput(
                self,
                naming.secret_output_key(secret.name),
                value=naming.secret_name(self.settings.name_prefix, secret),
                description=secret.purpose,
            )

    # --- lookups with errors that name the function --------------------------------------------------------

    def _table_for(self, function: Function, name: str) -> dynamodb.Table:
        if name not in self.tables:
            raise ValueError(
                f"function {function.name!r} uses table {name!r}, which the topology does not declare"
            )
        return self.tables[name]

    def _queue_for(self, function: Function, name: str) -> QueuePair:
        if name not in self.queues:
            raise ValueError(
                f"function {function.name!r} uses queue {name!r}, which the topology does not declare"
            )
        return self.queues[name]

    def _secret_decl(self, function: Function, name: str) -> Secret:
        try:
            return self.topology.secret(name)
        except KeyError:
            raise ValueError(
                f"function {function.name!r} uses secret {name!r}, which the topology does not declare"
            ) from None


def _ignore_cfn_lint(resource: object, rule: str | list[str], reason: str) -> None:
    """Silence cfn-lint rules on one resource, with the reason kept next to them in the template."""
    assert isinstance(resource, cdk.CfnResource)
    rules = [rule] if isinstance(rule, str) else rule
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": rules, "reason": reason}})
