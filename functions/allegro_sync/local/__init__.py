"""The local runtime: the system on a laptop without AWS or Docker (moto + in-process handlers).

Not shipped to Lambda. Entry point: `LocalRuntime`; the CLI is `allegro-sync local up` and
`allegro-sync invoke`.
"""

from __future__ import annotations

from allegro_sync.local.runtime import AllegroUrls, FifoOrderError, LocalRuntime, RuntimeUrls

__all__ = ["AllegroUrls", "FifoOrderError", "LocalRuntime", "RuntimeUrls"]
