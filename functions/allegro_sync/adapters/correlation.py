"""Moved to `allegro_sync.correlation`; re-exported so older imports keep working."""

from allegro_sync.correlation import *  # noqa: F403
from allegro_sync.correlation import __all__ as __all__
