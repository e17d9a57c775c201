"""The local runtime: the system on a laptop without AWS or Docker (moto + in-process handlers).

Not shipped to Lambda. Entry point: `LocalRuntime`; the CLI is `allegro-sync local up` and
`allegro-sync invoke`; tests use the `local_runtime` / `make_local_runtime` fixtures.

Where it knowingly differs from AWS:
- invocations run one at a time in this process (each swaps in its function's exact environment),
  so there is no concurrency between functions and `reserved_concurrency` is not enforced;
- a handler past its timeout is reported, not killed;
- failed SQS messages come back after `retry_delay_seconds` (default 0), not after the visibility
  timeout, and standard queues ignore `max_batching_window_seconds`;
- schedules run on `time_scale`d time; the events carry the real wall-clock time.
"""

from __future__ import annotations

from allegro_sync.local.runtime import AllegroUrls, FifoOrderError, LocalRuntime, RuntimeUrls

__all__ = ["AllegroUrls", "FifoOrderError", "LocalRuntime", "RuntimeUrls"]
