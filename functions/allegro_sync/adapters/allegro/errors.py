"""Moved to `allegro_sync.contracts.allegro_errors`; re-exported so older imports keep working."""

from allegro_sync.contracts.allegro_errors import *  # noqa: F403
from allegro_sync.contracts.allegro_errors import __all__ as __all__
