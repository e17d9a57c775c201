"""Run a handler in-process the way Lambda would: its own settings, a context, its own application.

moto cannot run Lambda code without Docker, so handlers are imported and called directly. Each function
gets a `bootstrap.Application` built from exactly the variables it has in AWS (never the process's
environment), bound for the invocation: a handler that reads a table it did not declare in the topology
fails here just as it would after `cdk deploy`.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.util
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import clear_context_keys
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from allegro_sync import bootstrap
from allegro_sync.local.events import ACCOUNT_ID
from allegro_sync.local.iam import LocalIam
from allegro_sync.settings import Settings
from allegro_sync.topology import TOPOLOGY, Function, Topology

logger = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]
# Builds a function's application from its settings: tests give one with e.g. a rate guard of their own.
ApplicationFactory = Callable[[str, Settings], "bootstrap.Application"]


def default_application(function_name: str, settings: Settings) -> bootstrap.Application:
    del function_name
    return bootstrap.Application(settings)


# The running invocation's Lambda keys (function name, memory, ARN, request id), per context.
_invocation_keys: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "allegro_sync_local_invocation_keys", default=None
)


def own_log_context(context: LocalLambdaContext) -> None:
    """This invocation's Lambda keys on its own log lines (`InvocationKeys` writes them). Powertools'
    `inject_lambda_context` appends them to the one formatter every function of this process shares, so
    side by side a line carried the name and request id of whichever invocation started last; and with
    `clear_state=True` it also clears the context's own log keys, so keys set there before the handler do
    not last (a Lambda process runs one function, so there they never differ). Call it inside the
    invocation's own context."""
    _invocation_keys.set(
        {
            "function_name": context.function_name,
            "function_memory_size": context.memory_limit_in_mb,
            "function_arn": context.invoked_function_arn,
            "function_request_id": context.aws_request_id,
        }
    )


class InvocationKeys(logging.Filter):
    """Puts the running invocation's Lambda keys on each record as it is emitted (on the emitting thread,
    in the invocation's context): Powertools' formatter writes a record's own attributes last, over the
    keys appended to the formatter and those of the context."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_invocation_keys.get() or {}).items():
            setattr(record, key, value)
        return True


_INVOCATION_KEYS = InvocationKeys()


def name_invocations(powertools: Logger) -> None:
    """Have every line of `powertools`' handler carry the invocation's own keys (idempotent)."""
    handler = powertools.registered_handler
    if _INVOCATION_KEYS not in handler.filters:
        handler.addFilter(_INVOCATION_KEYS)


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    region: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    identity: Any = None  # set only for mobile-SDK invocations
    client_context: Any = None
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Invocation:
    """What one call did, kept for tests and the demo's summary."""

    function: str
    request_id: str
    seconds: float
    error: str | None = None


@dataclass
class FunctionTotals:
    """Everything a function's invocations added up to: what Lambda bills (count, duration) and errors."""

    invocations: int = 0
    errors: int = 0
    seconds: float = 0.0
    # CPU the invocations' own thread used: unlike `seconds`, not inflated by waiting for a core or the
    # interpreter lock while other functions, the emulator and the soak share the process.
    cpu_seconds: float = 0.0


class InjectedCrash(RuntimeError):
    """A crash the soak injected on purpose: the invocation died after doing part of its work."""


class CrashPlan(Protocol):
    """Decides which invocations die (the soak's chaos); None from `crash_after` means "let it live"."""

    def crash_after(self, function: str, records: int) -> int | None:
        """For an invocation of `function` with `records` SQS records (0: not a queue event), how many
        records to process before dying (the whole event when `records` is 0), or None."""
        ...


class RescheduledHandles:
    """Receipt handles whose visibility a handler set itself (`ChangeMessageVisibility[Batch]`).

    In AWS a failed record comes back when the handler's visibility says; the poller's own retry delay must
    not overwrite it, so it skips these when it releases a batch's failures. Every application the invoker
    builds reports its SQS visibility changes here through a botocore hook on its boto3 session. The hook
    multiplies the seconds asked for by `scale` (0: back at once, for tests that do not wait out back-offs).
    """

    EVENTS = (
        "before-parameter-build.sqs.ChangeMessageVisibility",
        "before-parameter-build.sqs.ChangeMessageVisibilityBatch",
    )

    def __init__(self, scale: float = 1.0) -> None:
        if scale < 0:
            raise ValueError(f"a redelivery scale cannot be negative, got {scale}")
        self._scale = scale
        self._handles: set[str] = set()
        self._lock = threading.Lock()

    def watch(self, app: bootstrap.Application) -> None:
        """Record the visibility changes `app`'s SQS clients make (register before its first client), and
        scale the delays its messages ask for (a token recovery's 25 s) the same way."""
        for event in self.EVENTS:
            app.session().events.register(event, self._record, unique_id=f"local-rescheduled:{event}")
        event = "before-parameter-build.sqs.SendMessage"
        app.session().events.register(event, self._delay, unique_id=f"local-rescheduled:{event}")

    def _delay(self, params: dict[str, Any], **_: Any) -> None:
        if self._scale != 1 and isinstance(params.get("DelaySeconds"), int):
            params["DelaySeconds"] = math.ceil(params["DelaySeconds"] * self._scale)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        entries = params.get("Entries")
        changes = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else [params]
        handles = [change.get("ReceiptHandle") for change in changes]
        if self._scale != 1:
            for change in changes:
                if isinstance(change.get("VisibilityTimeout"), int):
                    change["VisibilityTimeout"] = math.ceil(change["VisibilityTimeout"] * self._scale)
        with self._lock:
            self._handles.update(h for h in handles if isinstance(h, str))

    def __len__(self) -> int:
        """Handles recorded and not settled yet (a batch's are forgotten when the poller settles it)."""
        with self._lock:
            return len(self._handles)

    def settle(self, handles: list[str]) -> set[str]:
        """Which of a settled batch's `handles` a handler rescheduled; all of them are forgotten."""
        with self._lock:
            found = self._handles.intersection(handles)
            self._handles.difference_update(handles)
            return found


@dataclass
class _Instance:
    """One warm function instance: its own copy of the handler module and its own application."""

    number: int
    app: bootstrap.Application
    handler: Handler | None = None  # loaded on the instance's first invocation


class _Pool:
    """A function's instances: at most `size` run at once (its reserved concurrency); a free warm one is
    reused first, as Lambda does; a caller waits while every instance is busy (Lambda would throttle)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.instances: list[_Instance] = []
        self._free: list[_Instance] = []
        self._slots = threading.Semaphore(size)
        self._lock = threading.Lock()

    def first(self, build: Callable[[int], _Instance]) -> _Instance:
        """Instance 0, started (without running anything) if no invocation has started it yet."""
        with self._lock:
            if not self.instances:
                self.instances.append(build(0))
                self._free.append(self.instances[0])
            return self.instances[0]

    @contextmanager
    def instance(self, build: Callable[[int], _Instance]) -> Iterator[_Instance]:
        self._slots.acquire()
        try:
            with self._lock:
                if self._free:
                    self._free.sort(key=lambda i: -i.number)  # the warmest (lowest) instance first
                    taken = self._free.pop()
                else:
                    taken = build(len(self.instances))
                    self.instances.append(taken)
            try:
                yield taken
            finally:
                with self._lock:
                    self._free.append(taken)
        finally:
            self._slots.release()


class Invoker:
    """Calls handlers in-process, each function on instances of its own, side by side like Lambda.

    A function runs at most `reserved_concurrency` invocations at once (`DEFAULT_CONCURRENCY` without
    one). Each instance has a private copy of the handler module (so Powertools' batch processors, the
    HTTP resolver and module globals are never shared between two invocations running at once, as in
    separate Lambda processes) and a private `Application` built from the function's own variables.
    The first instance uses the imported module itself, so tests that swap a handler module see it.
    """

    def __init__(
        self,
        environments: Mapping[str, Mapping[str, str]],
        *,
        region: str,
        handler_modules: Mapping[str, str] | None = None,
        crashes: CrashPlan | None = None,
        make_application: ApplicationFactory | None = None,
        concurrency: Mapping[str, int] | None = None,
        topology: Topology = TOPOLOGY,
        redelivery_scale: float = 1.0,
    ) -> None:
        self._environments = {name: dict(env) for name, env in environments.items()}
        self._make_application = make_application or default_application
        self._concurrency = dict(concurrency or {})
        self._topology = topology  # names the resources a function's settings can hold
        self._pools: dict[str, _Pool] = {}
        self._region = region
        self._modules = dict(handler_modules or {})
        self._lock = threading.RLock()
        self._running = threading.local()
        # Bounded: `local up` may run for days.
        self.invocations: deque[Invocation] = deque(maxlen=10_000)
        self.totals: dict[str, FunctionTotals] = {}
        self.crashes = crashes
        self.rescheduled = RescheduledHandles(scale=redelivery_scale)
        self.iam = LocalIam(topology)

    def module_for(self, function: Function) -> str:
        return self._modules.get(function.name, function.module)

    def environment(self, function_name: str) -> dict[str, str]:
        return dict(self._environments[function_name])

    def running_here(self) -> str | None:
        """The function whose invocation runs on the calling thread, if any (for metering AWS calls)."""
        return getattr(self._running, "function", None)

    def application(self, function_name: str) -> bootstrap.Application:
        """The application of the function's first instance (what a sequential test or drain uses)."""
        return self._pool(function_name).first(lambda n: self._build(function_name, n)).app

    def _pool(self, function_name: str) -> _Pool:
        with self._lock:
            return self._pools.setdefault(function_name, _Pool(self._size(function_name)))

    def _size(self, function_name: str) -> int:
        return max(1, self._concurrency.get(function_name, DEFAULT_CONCURRENCY))

    def instances(self, function_name: str) -> int:
        """How many instances of the function have been started (its peak concurrency so far)."""
        pool = self._pools.get(function_name)
        return len(pool.instances) if pool else 0

    def invoke(self, function: Function, event: Any) -> Any:
        """Call the function's handler with `event`; exceptions propagate like a failed invocation."""
        if function.name not in self._environments:
            raise KeyError(f"function {function.name!r} is not wired in this local runtime")
        context = LocalLambdaContext(
            function_name=self._environments[function.name].get("AWS_LAMBDA_FUNCTION_NAME", function.name),
            memory_limit_in_mb=function.memory_mb,
            timeout_seconds=function.timeout_seconds,
            region=self._region,
        )
        pool = self._pool(function.name)
        with pool.instance(lambda n: self._build(function.name, n)) as instance, bootstrap.bind(instance.app):
            if instance.handler is None:
                instance.handler = load_handler(self.module_for(function), private_copy=instance.number > 0)
            started, cpu_started = time.perf_counter(), time.thread_time()
            record = Invocation(function.name, context.aws_request_id, 0.0)
            self._running.function = function.name
            try:
                # A fresh context per invocation: log keys a handler sets on this thread (Powertools keeps
                # them in a context variable) end with it, as they end with a Lambda process's invocation.
                return contextvars.copy_context().run(
                    self._call_fresh, instance.handler, function.name, event, context
                )
            except Exception as error:
                record.error = f"{type(error).__name__}: {error}"
                raise
            finally:
                self._running.function = None
                record.seconds = time.perf_counter() - started
                cpu = time.thread_time() - cpu_started
                with self._lock:
                    totals = self.totals.setdefault(function.name, FunctionTotals())
                    totals.invocations += 1
                    totals.errors += record.error is not None
                    totals.seconds += record.seconds
                    totals.cpu_seconds += cpu
                    self.invocations.append(record)
                if record.seconds > function.timeout_seconds:
                    # Lambda would have killed it; in-process we can only say so loudly.
                    logger.warning(
                        "%s ran %.1fs, past its %ss timeout: Lambda would have stopped it",
                        function.name,
                        record.seconds,
                        function.timeout_seconds,
                    )

    def _call_fresh(self, handler: Handler, name: str, event: Any, context: LocalLambdaContext) -> Any:
        clear_context_keys()
        own_log_context(context)
        return self._call(handler, name, event, context)

    def _call(self, handler: Handler, name: str, event: Any, context: LocalLambdaContext) -> Any:
        """Run the handler; when the crash plan says so, die part-way: after the first records of a queue
        batch (their side effects stay, the batch comes back whole) or after a scheduled run's work."""
        records = event.get("Records") if isinstance(event, dict) else None
        count = len(records) if isinstance(records, list) else 0
        crash_at = self.crashes.crash_after(name, count) if self.crashes is not None else None
        if crash_at is None:
            return handler(event, context)
        if count:
            if crash_at > 0:
                handler({**event, "Records": records[:crash_at]}, context)  # type: ignore[index]
            raise InjectedCrash(f"{name} crashed after {crash_at} of {count} records (injected)")
        handler(event, context)
        raise InjectedCrash(f"{name} crashed after its work, before returning (injected)")

    def _build(self, function_name: str, number: int) -> _Instance:
        settings = Settings.from_environ(self._environments[function_name], topology=self._topology)
        app = self._make_application(function_name, settings)
        self.rescheduled.watch(app)
        if any(f.name == function_name for f in self._topology.functions):
            self.iam.watch(function_name, settings, app.session(), self.running_here)
        return _Instance(number, app)


# Functions without a reserved concurrency: Lambda would scale them out further; a laptop stops here.
DEFAULT_CONCURRENCY = 3


def load_handler(module_name: str, *, private_copy: bool) -> Handler:
    """The module's `handler`: from the imported module, or from a private copy of it (a second instance
    of a function running at the same time must not share module globals with the first)."""
    if private_copy:
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {module_name}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    for value in vars(module).values():
        if isinstance(value, Metrics):
            isolate_metrics(value)
        if isinstance(value, Logger):
            name_invocations(value)
    handler = getattr(module, "handler", None)
    if not callable(handler):
        raise TypeError(f"{module_name} has no callable `handler`")
    return handler  # type: ignore[no-any-return]


def isolate_metrics(metrics: Metrics) -> None:
    """Give a module's `Metrics` its own metric set. Powertools shares one set between every `Metrics`
    of a process (right for Lambda, one invocation per process); functions running side by side here
    would otherwise flush, or mutate while serializing, each other's metrics.

    The provider object stays (a handler's `@metrics.log_metrics` holds it since import); only the sets it
    and the `Metrics` read are replaced by private ones.
    """
    if getattr(metrics, "_local_isolated", False):
        return
    provider = metrics.provider
    if not isinstance(provider, AmazonCloudWatchEMFProvider):
        return
    provider.metric_set = metrics.metric_set = {}
    provider.dimension_set = metrics.dimension_set = dict(provider.dimension_set)
    provider.metadata_set = metrics.metadata_set = {}
    provider.default_dimensions = metrics.default_dimensions = dict(provider.default_dimensions)
    metrics._local_isolated = True  # type: ignore[attr-defined]
