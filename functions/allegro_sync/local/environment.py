"""A function's environment in this process for a moment, for operator commands run in-process (the demo's
`reconcile`, the soak's repricing settings), restored afterwards whatever happens.

The process environment is touched only in `allegro_sync.settings`; this name stays for the local tools.
"""

from __future__ import annotations

from allegro_sync.settings import exported

__all__ = ["exported"]
