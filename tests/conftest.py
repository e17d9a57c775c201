"""Test-wide safety: fake AWS credentials and a region, so no test can ever reach a real account.

Area fixtures live in `tests/fixtures/<area>.py` and are loaded as plugins below.
"""

from __future__ import annotations

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_SERVICE_NAME": "allegro-sync",
        "POWERTOOLS_METRICS_NAMESPACE": "AllegroSync",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # A developer's running `allegro-sync local up` must not capture the tests' CLI runs (tests that
        # drive a local session pass their own file).
        "ALLEGRO_SYNC_LOCAL_SESSION": "off",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

pytest_plugins = [
    "tests.fixtures.aws",
    "tests.fixtures.emulator",
    "tests.fixtures.local",
    "tests.fixtures.ledger",
    "tests.fixtures.stack",
]
