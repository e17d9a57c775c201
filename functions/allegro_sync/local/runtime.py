"""`LocalRuntime`: the whole system on a laptop, wired from the same topology as the CDK stack."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from allegro_sync.adapters.config_secret import write_section
from allegro_sync.bootstrap import Application
from allegro_sync.local.gateway import DEFAULT_BODY_LIMIT, HttpGateway
from allegro_sync.local.invoker import DEFAULT_CONCURRENCY, ApplicationFactory, CrashPlan, Invoker
from allegro_sync.local.moto_server import reset, shared_server
from allegro_sync.local.poller import FifoOrderViolation, SqsPoller
from allegro_sync.local.provision import (
    FAKE_CREDENTIALS,
    REGION,
    Wiring,
    client,
    function_environment,
    provision,
)
from allegro_sync.local.scheduler import Clock, Scheduler
from allegro_sync.settings import exported
from allegro_sync.topology import TOPOLOGY, QueueTrigger, Topology

logger = logging.getLogger(__name__)


class FifoOrderError(AssertionError):
    """A handler reported a FIFO record as processed after an earlier record of its group failed."""

    def __init__(self, violations: list[FifoOrderViolation]) -> None:
        super().__init__(f"FIFO order broken: {violations}")
        self.violations = violations


@dataclass(frozen=True)
class AllegroUrls:
    """Where the handlers reach Allegro (the emulator, locally)."""

    api: str
    upload: str
    oauth: str

    @classmethod
    def single(cls, base_url: str) -> AllegroUrls:
        """One host serving API, upload and OAuth, as the local emulator does."""
        base = base_url.rstrip("/")
        return cls(api=base, upload=base, oauth=base)

    def environment(self) -> dict[str, str]:
        return {
            "ALLEGRO_API_URL": self.api,
            "ALLEGRO_UPLOAD_URL": self.upload,
            "ALLEGRO_OAUTH_URL": self.oauth,
        }


@dataclass(frozen=True)
class RuntimeUrls:
    aws: str
    http: str


class LocalRuntime:
    """moto + provisioning + in-process handlers + SQS poller + scheduler + HTTP gateway.

    `start()` (or `with`) provisions resources and exports the environment; `drain()`, `fire()`,
    `invoke()` drive things synchronously for tests and the demo; `run()` adds the background loops
    and the HTTP gateway for `allegro-sync local up`. AWS is the process's one moto server
    (`shared_server`), reset at start; pass `aws_endpoint` to use another one as it is. One
    runtime at a time per process.

    A failed record comes back after `retry_delay_seconds`, or when its handler said (it set the record's
    visibility: adapters/redelivery.py), as in AWS. `redelivery_scale` multiplies what the handler set:
    1 honours it; tests that do not wait out back-offs and Allegro blocks use 0 (back at once).
    """

    _active: ClassVar[LocalRuntime | None] = None

    def __init__(
        self,
        topology: Topology = TOPOLOGY,
        *,
        allegro_urls: AllegroUrls | None = None,
        env: Mapping[str, str] | None = None,
        time_scale: float = 1.0,
        aws_endpoint: str | None = None,
        aws_port: int = 0,
        handler_modules: Mapping[str, str] | None = None,
        retry_delay_seconds: int = 0,
        redelivery_scale: float = 1.0,
        strict_fifo: bool = True,
        region: str = REGION,
        body_limit: int = DEFAULT_BODY_LIMIT,
        clock: Clock = time.monotonic,
        crashes: CrashPlan | None = None,
        make_application: ApplicationFactory | None = None,
        schedule_minutes: Mapping[str, int] | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        unknown = sorted(set(handler_modules or {}) - {f.name for f in topology.functions})
        if unknown:
            raise ValueError(f"handler_modules names functions not in the topology: {unknown}")
        self.topology = topology
        self._allegro_urls = allegro_urls
        self._extra_env = dict(env or {})
        self._time_scale = time_scale
        self._given_endpoint = aws_endpoint
        self._aws_port = aws_port
        self._handler_modules = dict(handler_modules or {})
        self._retry_delay = retry_delay_seconds
        self._redelivery_scale = redelivery_scale
        self._strict_fifo = strict_fifo
        self.region = region
        self._body_limit = body_limit
        self._clock = clock
        self._crashes = crashes
        self._make_application = make_application
        self._schedule_minutes = dict(schedule_minutes or {})
        self._exported = ExitStack()
        self._wiring: Wiring | None = None
        self._invoker: Invoker | None = None
        self._poller: SqsPoller | None = None
        self._scheduler: Scheduler | None = None
        self._gateway: HttpGateway | None = None
        self._reported_violations = 0
        self._clients: dict[str, Any] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalRuntime:
        if self._wiring is not None:
            return self
        if LocalRuntime._active is not None:
            raise RuntimeError(
                "another LocalRuntime is running in this process: stop it first "
                "(they would share the process environment and the moto account)"
            )
        try:
            endpoint = self._given_endpoint
            if endpoint is None:
                endpoint = shared_server(self._aws_port).endpoint
                reset(endpoint)  # a fresh, empty account for this runtime
            LocalRuntime._active = self
            wiring = provision(self.topology, endpoint, self.region)
            self._export(self.common_environment(endpoint))
            environments = {
                f.name: function_environment(f, wiring, self.common_environment(endpoint))
                for f in self.topology.functions
            }
            self._invoker = Invoker(
                environments,
                region=self.region,
                handler_modules=self._handler_modules,
                crashes=self._crashes,
                make_application=self._make_application,
                topology=self.topology,
                redelivery_scale=self._redelivery_scale,
                concurrency={
                    f.name: f.reserved_concurrency or DEFAULT_CONCURRENCY for f in self.topology.functions
                },
            )
            consumers = [
                (t, f) for f in self.topology.functions for t in f.triggers if isinstance(t, QueueTrigger)
            ]
            self._poller = SqsPoller(
                client("sqs", endpoint, self.region),
                wiring,
                consumers,
                self._invoker,
                retry_delay_seconds=self._retry_delay,
            )
            self._scheduler = Scheduler(
                self.topology.schedules(),
                self._invoker.invoke,
                region=self.region,
                time_scale=self._time_scale,
                clock=self._clock,
                minutes=self._schedule_minutes,
                # a tick chain's watchdog seeds it as soon as `local up` runs (in AWS: within its period)
                at_start=frozenset(
                    f.name for t, f in consumers if self.topology.queue(t.queue).self_renewing
                ),
            )
            self._wiring = wiring
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every loop and server, restore the process environment. Safe to call twice."""
        if self._poller is not None:
            self._poller.stop()
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        self._exported.close()
        if LocalRuntime._active is self:
            LocalRuntime._active = None
        self._wiring = self._invoker = self._poller = self._scheduler = None
        self._clients = {}

    def run(self, *, http_host: str = "127.0.0.1", http_port: int = 0) -> RuntimeUrls:
        """Serve HTTP and start the queue pollers and the scheduler in the background."""
        http = self.start_gateway(host=http_host, port=http_port)
        self.poller.start()
        self.scheduler.start()
        return RuntimeUrls(aws=self.wiring.endpoint, http=http)

    def start_gateway(self, *, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._gateway is None:
            self._gateway = HttpGateway(
                self.topology.routes(), self.invoker.invoke, host=host, port=port, body_limit=self._body_limit
            )
        return self._gateway.start()

    # -- environment -----------------------------------------------------------------------------

    def common_environment(self, endpoint: str) -> dict[str, str]:
        """What every function sees: local AWS, Powertools settings, Allegro hosts, caller overrides."""
        env = {
            "AWS_ENDPOINT_URL": endpoint,
            **FAKE_CREDENTIALS,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "POWERTOOLS_SERVICE_NAME": "allegro-sync",
            "POWERTOOLS_METRICS_NAMESPACE": "AllegroSync",
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon on a laptop
            "LOG_LEVEL": "INFO",
            # Never production from a laptop by accident; explicit URLs (the emulator) win anyway.
            "ALLEGRO_ENVIRONMENT": "sandbox",
        }
        if self._allegro_urls is not None:
            env.update(self._allegro_urls.environment())
        env.update(self._extra_env)
        return env

    def _export(self, env: Mapping[str, str]) -> None:
        """For the CLI and boto3 in this process until `stop()` (a named profile must never win over the
        local endpoint); the functions themselves get their own settings, never these."""
        self._exported.enter_context(exported(env, unset=["AWS_PROFILE"]))

    def environment(self, function_name: str) -> dict[str, str]:
        """The exact environment `function_name` runs with."""
        return self.invoker.environment(function_name)

    def application(self, function_name: str) -> Application:
        """`function_name`'s application (what its handler gets from `bootstrap.application()`)."""
        return self.invoker.application(function_name)

    # -- driving ---------------------------------------------------------------------------------

    def invoke(self, function_name: str, event: Any) -> Any:
        return self.invoker.invoke(self.topology.function(function_name), event)

    def fire(self, function_name: str) -> Any:
        """Run a scheduled function now, with a real-looking EventBridge scheduled event."""
        return self.scheduler.fire(function_name)

    def drain(self, timeout: float = 60.0) -> None:
        """Process every consumed queue until all are empty and nothing is in flight."""
        self.poller.drain(timeout)
        new = self.poller.violations[self._reported_violations :]
        self._reported_violations = len(self.poller.violations)
        if new and self._strict_fifo:
            raise FifoOrderError(new)

    def next_tick(self, queue: str = "poll-tick", timeout: float = 15.0) -> Any:
        """Run the next tick of a chain (waiting out its delay), as its event source would, then drain.

        A copy that stopped (a busy tick's spare whose tick was served, services/orders/ticks.py) is run
        and passed over: the next tick is the one that polls."""
        deadline = time.monotonic() + timeout
        outcome = self.poller.tick(queue, timeout=timeout)
        while _stopped(outcome.result) and time.monotonic() < deadline:
            outcome = self.poller.tick(queue, timeout=max(1.0, deadline - time.monotonic()))
        self.drain(timeout=max(timeout, 10.0))
        return outcome

    def send(
        self,
        queue_name: str,
        body: str | Mapping[str, Any],
        *,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> str:
        """Put a message on a topology queue (what a producer handler or a test does); returns its id."""
        if queue_name not in self.wiring.queues:
            raise KeyError(f"no queue {queue_name!r} in the topology; it has: {sorted(self.wiring.queues)}")
        queue = self.wiring.queues[queue_name]
        request: dict[str, Any] = {
            "QueueUrl": queue.url,
            "MessageBody": body if isinstance(body, str) else json.dumps(body),
        }
        if group_id is not None:
            request["MessageGroupId"] = group_id
        if deduplication_id is not None:
            request["MessageDeduplicationId"] = deduplication_id
        return str(self.client("sqs").send_message(**request)["MessageId"])

    def put_secret(self, name: str, value: Mapping[str, Any]) -> None:
        """Replace a topology secret's placeholder with a real (local) value (a section: only its part)."""
        if self.topology.secret(name).section_of:
            write_section(self.client("secretsmanager"), self.wiring.secrets[name], name, dict(value))
            return
        self.client("secretsmanager").put_secret_value(
            SecretId=self.wiring.secrets[name], SecretString=json.dumps(value)
        )

    def client(self, service: str) -> Any:
        """A boto3 client for the local moto server (cached: building one costs tens of milliseconds)."""
        if service not in self._clients:
            self._clients[service] = client(service, self.wiring.endpoint, self.region)
        return self._clients[service]

    # -- parts -----------------------------------------------------------------------------------

    @property
    def wiring(self) -> Wiring:
        return _started(self._wiring)

    @property
    def invoker(self) -> Invoker:
        return _started(self._invoker)

    @property
    def poller(self) -> SqsPoller:
        return _started(self._poller)

    @property
    def scheduler(self) -> Scheduler:
        return _started(self._scheduler)


_Part = TypeVar("_Part")


def _started(part: _Part | None) -> _Part:
    if part is None:
        raise RuntimeError("the local runtime is not started: use `with LocalRuntime(...)` or .start()")
    return part


def _stopped(result: Any) -> bool:
    """A tick chain's answer that says the tick was stale or served already (order_poller's `chain`)."""
    chain = result.get("chain") if isinstance(result, dict) else None
    return bool(isinstance(chain, dict) and chain.get("stopped"))
