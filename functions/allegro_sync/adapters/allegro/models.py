"""Moved to `allegro_sync.contracts.allegro`; re-exported so older imports keep working."""

from allegro_sync.contracts.allegro import *  # noqa: F403
from allegro_sync.contracts.allegro import __all__ as __all__
