"""The scheduled handler: one report per account, the breaker's log line (issue 21: a log field, not a
billed metric; `status` shows the pause), one failing account does not stop the others. It runs with a
bound application holding the test's repricer and clients."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync import bootstrap
from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.bootstrap import Application
from allegro_sync.contracts.allegro_errors import AllegroError
from allegro_sync.contracts.sweeps import SweepPosition
from allegro_sync.domain.repricing import RepricingSettings, Strategy
from allegro_sync.handlers import repricer as handler_module
from allegro_sync.services.repricing import Repricer
from allegro_sync.settings import Settings
from tests.fixtures.changes import FakeChangeLog
from tests.unit.repricing.test_service import T0, Facts, FakeAllegro, MemoryStore, listing

EVENT = json.loads((Path(__file__).parents[3] / "events" / "repricer.json").read_text())


class Context:
    function_name = "repricer"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:repricer"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


class Repricing(Application):
    """The repricer's application with the test's repricer and connected accounts' clients."""

    def __init__(self, repricer: Repricer, clients: dict[str, FakeAllegro]) -> None:
        super().__init__(Settings(function_name="repricer"))
        self._repricer, self._fakes = repricer, clients

    def repricer(self) -> Repricer:
        return self._repricer

    def connected_clients(self) -> dict[str, AllegroClient]:
        return cast(dict[str, AllegroClient], self._fakes)

    def sweep_cursor(self, sweep: str) -> Any:
        return MemoryCursor()


class MemoryCursor:
    """The sweep's saved position, in memory (the DynamoDB one is tested with the reconciler)."""

    def __init__(self) -> None:
        self.position: SweepPosition | None = None

    def load(self) -> SweepPosition | None:
        return self.position

    def save(self, position: SweepPosition) -> None:
        self.position = position

    def clear(self) -> None:
        self.position = None


class Broken(FakeAllegro):
    def me(self) -> Any:
        raise AllegroError("Allegro 503")


def test_a_tripped_breaker_is_logged_and_counted_and_the_next_account_still_runs(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = [RepricingSettings(strategy=Strategy.DEMAND, min_change=Decimal("0.01"), breaker_min_offers=2)]
    store = MemoryStore(settings)
    floor_bound = [listing(str(i), f"S{i}", 40, 0) for i in range(3)]
    for offer in floor_bound:  # just above the floor (56.67 = cost 50 + fees): 3 % down hits it
        offer["sellingMode"]["price"]["amount"] = "57.00"
    clients = {"broken": Broken([]), "shop": FakeAllegro(floor_bound)}
    repricer = Repricer(store, Facts(), FakeChangeLog(), clock=lambda: T0)

    with bootstrap.bind(Repricing(repricer, clients)):
        summary = handler_module.handler(EVENT, cast(LambdaContext, Context()))

    assert summary["broken"] == {"error": "Allegro 503"}
    assert summary["shop"]["breaker_tripped"] is True
    assert summary["shop"]["applied"] == 0
    assert clients["shop"].price_calls == []
    tripped = [r for r in caplog.records if r.getMessage() == "repricing circuit breaker tripped"]
    assert [getattr(r, "account", None) for r in tripped] == ["shop"]
    (run,) = [r for r in caplog.records if r.getMessage() == "repricing round"]  # Logs Insights sums these
    assert [getattr(run, k, None) for k in ("breaker_tripped", "applied", "failed")] == [1, 0, 0]
    assert '"_aws"' not in capsys.readouterr().out  # no metric: a paused account is the safe state
