"""Moved to `allegro_sync.contracts.accounts`; re-exported so older imports keep working."""

from allegro_sync.contracts.accounts import TokenSource as TokenSource
