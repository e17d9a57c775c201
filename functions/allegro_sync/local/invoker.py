"""Run a handler in-process the way Lambda would: its own settings, a context, its own application.

moto cannot run Lambda code without Docker, so handlers are imported and called directly. Each function
gets a `bootstrap.Application` built from exactly the variables it has in AWS (never the process's
environment), bound for the invocation: a handler that reads a table it did not declare in the topology
fails here just as it would after `cdk deploy`.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from allegro_sync import bootstrap
from allegro_sync.local.events import ACCOUNT_ID
from allegro_sync.settings import Settings
from allegro_sync.topology import Function

logger = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]
# Builds a function's application from its settings: tests give one with e.g. a rate guard of their own.
ApplicationFactory = Callable[[str, Settings], "bootstrap.Application"]


def default_application(function_name: str, settings: Settings) -> bootstrap.Application:
    del function_name
    return bootstrap.Application(settings)


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


class InjectedCrash(RuntimeError):
    """A crash the soak injected on purpose: the invocation died after doing part of its work."""


class CrashPlan(Protocol):
    """Decides which invocations die (the soak's chaos); None from `crash_after` means "let it live"."""

    def crash_after(self, function: str, records: int) -> int | None:
        """For an invocation of `function` with `records` SQS records (0: not a queue event), how many
        records to process before dying (the whole event when `records` is 0), or None."""
        ...


class Invoker:
    """Imports handlers by module and calls them with their function's environment."""

    def __init__(
        self,
        environments: Mapping[str, Mapping[str, str]],
        *,
        region: str,
        handler_modules: Mapping[str, str] | None = None,
        crashes: CrashPlan | None = None,
        make_application: ApplicationFactory | None = None,
    ) -> None:
        self._environments = {name: dict(env) for name, env in environments.items()}
        self._applications: dict[str, bootstrap.Application] = {}
        self._make_application = make_application or default_application
        self._region = region
        self._modules = dict(handler_modules or {})
        self._lock = threading.RLock()
        # Bounded: `local up` may run for days.
        self.invocations: deque[Invocation] = deque(maxlen=10_000)
        self.totals: dict[str, FunctionTotals] = {}
        self.crashes = crashes
        self.current: str | None = None  # the function running now (invocations are serialized) ...
        self.current_thread: int | None = None  # ... and the thread it runs on

    def module_for(self, function: Function) -> str:
        return self._modules.get(function.name, function.module)

    def environment(self, function_name: str) -> dict[str, str]:
        return dict(self._environments[function_name])

    def application(self, function_name: str) -> bootstrap.Application:
        """The function's application, built from its own variables (never the process's) on first use."""
        with self._lock:
            if function_name not in self._applications:
                settings = Settings.from_environ(self._environments[function_name])
                self._applications[function_name] = self._make_application(function_name, settings)
            return self._applications[function_name]

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
        with self._lock, bootstrap.bind(self.application(function.name)):
            handler = self._load(function)
            started = time.perf_counter()
            record = Invocation(function.name, context.aws_request_id, 0.0)
            totals = self.totals.setdefault(function.name, FunctionTotals())
            self.current, self.current_thread = function.name, threading.get_ident()
            try:
                return self._call(handler, function.name, event, context)
            except Exception as error:
                record.error = f"{type(error).__name__}: {error}"
                totals.errors += 1
                raise
            finally:
                self.current = self.current_thread = None
                record.seconds = time.perf_counter() - started
                totals.invocations += 1
                totals.seconds += record.seconds
                self.invocations.append(record)
                if record.seconds > function.timeout_seconds:
                    # Lambda would have killed it; in-process we can only say so loudly.
                    logger.warning(
                        "%s ran %.1fs, past its %ss timeout: Lambda would have stopped it",
                        function.name,
                        record.seconds,
                        function.timeout_seconds,
                    )

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

    def _load(self, function: Function) -> Handler:
        module = importlib.import_module(self.module_for(function))
        handler = getattr(module, "handler", None)
        if not callable(handler):
            raise TypeError(f"{self.module_for(function)} has no callable `handler`")
        return handler  # type: ignore[no-any-return]
