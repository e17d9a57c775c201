"""The simulated world of the unit state machine, run against the real DynamoDB repository on moto.

Few, short runs (moto is slow): they prove the repository stores and conditions every shape the world
produces (tombstones, acknowledged then cancelled sales, unknown levels, buffers, caps) exactly like the
in-memory double the long property runs use.
"""

from __future__ import annotations

import boto3
import pytest
from hypothesis import HealthCheck, settings
from moto import mock_aws

from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.domain.ledger import SaleRecord, SkuLedger
from tests.fixtures.ledger import Crash, SimulatedCrash, create_ledger_table
from tests.unit.ledger.test_ledger_stateful import LedgerWorld

pytestmark = pytest.mark.integration


class CrashingDynamoRepository(DynamoLedgerRepository):
    """The real repository, able to die just before or just after a commit (like the in-memory double)."""

    next_crash: Crash | None = None

    def commit(
        self,
        *,
        ledger: SkuLedger | None,
        expected_revision: int,
        sale: SaleRecord | None,
        expected_sale_rev: int | None,
    ) -> None:
        crash, self.next_crash = self.next_crash, None
        if crash == "before":
            raise SimulatedCrash("died before the commit")
        super().commit(
            ledger=ledger, expected_revision=expected_revision, sale=sale, expected_sale_rev=expected_sale_rev
        )
        if crash == "after":
            raise SimulatedCrash("died after the commit")


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
