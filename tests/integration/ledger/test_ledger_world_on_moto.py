"""The simulated world of the unit state machine, run against the real DynamoDB repository on moto.

Few, short runs (moto is slow): they prove the repository stores and conditions every shape the world
produces (tombstones, acknowledged then cancelled sales, unknown levels, buffers, caps) exactly like the
in-memory double the long property runs use.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from moto import mock_aws

from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from tests.fixtures.ledger import CrashesAroundCommit, create_ledger_table
from tests.unit.ledger.test_ledger_stateful import LedgerWorld

pytestmark = pytest.mark.integration


class CrashingDynamoRepository(CrashesAroundCommit, DynamoLedgerRepository):
    """The real repository, able to die just before or just after a commit (like the in-memory double)."""

    def commit(self, **change: Any) -> None:
        self._crashing(lambda: super(CrashingDynamoRepository, self).commit(**change))


class LedgerWorldOnMoto(LedgerWorld):
    def make_repository(self) -> CrashingDynamoRepository:
        self._moto = mock_aws()
        self._moto.start()
        return CrashingDynamoRepository(create_ledger_table(), client=boto3.client("dynamodb"))

    def teardown(self) -> None:
        self._moto.stop()


LedgerWorldOnMoto.TestCase.settings = settings(
    max_examples=4,
    stateful_step_count=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedgerWorldOnMoto = LedgerWorldOnMoto.TestCase
