"""Every `allegro-sync` command imports the CLI first: what only a few commands need must not load then."""

from __future__ import annotations

import subprocess
import sys

# The emulator (openapi-core, werkzeug) and the local runtime (moto's server, flask) serve `local up`,
# `emulator`, `invoke` and the demo; a seller's `products status` against AWS must not wait for them.
LOCAL_ONLY = (
    "moto",
    "openapi_core",
    "flask",
    "werkzeug",
    "allegro_sync.emulator",
    "allegro_sync.local.runtime",
)


def test_starting_the_cli_loads_neither_the_emulator_nor_the_local_runtime() -> None:
    probe = "import sys, allegro_sync.cli.main; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(  # noqa: S603 - this interpreter, a fixed probe
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    assert "allegro_sync.cli.main" in loaded
    assert sorted(name for name in LOCAL_ONLY if name in loaded) == []
