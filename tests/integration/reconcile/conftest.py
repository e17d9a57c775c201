"""The reconciler uses the propagation world: two connected accounts on the emulator, the real handlers."""

from __future__ import annotations

from tests.integration.propagation.conftest import world

__all__ = ["world"]
