"""The local runtime: the system on a laptop without AWS or Docker (moto + in-process handlers).

Not shipped to Lambda. Entry point: `LocalRuntime`; the CLI is `allegro-sync local up` and
`allegro-sync invoke`; tests use the `local_runtime` / `make_local_runtime` fixtures.

Functions run side by side on threads of this process, each up to its reserved concurrency (3 without
one): every instance has a private copy of its handler module and a private `Application` built from its
function's own variables (`local/invoker.py`). `run()` (what `local up` uses) starts as many pollers per
queue as its consumer may run at once, and gives each scheduled run its own thread. `fire()` and
`invoke()` run on the caller's thread and return when done; so does `drain()`, one batch at a time,
unless `run()`'s pollers are running (then it waits for them). Tests, the demo and the soak drive it so.

Where it knowingly differs from AWS:
- instances are threads sharing one process and its cores; an invocation past the function's
  concurrency waits for a free instance instead of being throttled, and a log line's Lambda-context
  keys (request id) can come from another thread's invocation (docs/architecture.md, D2);
- a handler past its timeout is reported, not killed;
- failed SQS messages come back after `retry_delay_seconds` (default 0), not after the visibility
  timeout, and standard queues ignore `max_batching_window_seconds`;
- schedules run on `time_scale`d time; the events carry the real wall-clock time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from allegro_sync.local.runtime import AllegroUrls, FifoOrderError, LocalRuntime, RuntimeUrls

__all__ = ["AllegroUrls", "FifoOrderError", "LocalRuntime", "RuntimeUrls"]


def __getattr__(name: str) -> object:
    """Load the runtime (moto's server, every handler) on first use: `allegro-sync` commands that only read
    `local.session` must not pay for it at start."""
    if name in __all__:
        from allegro_sync.local import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
