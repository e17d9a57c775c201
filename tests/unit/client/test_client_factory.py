"""Clients built in one process share one rate guard: the budget is per process, not per account."""

from __future__ import annotations

import pytest

from allegro_sync.adapters.allegro import factory
from allegro_sync.adapters.allegro.environment import SANDBOX
from tests.unit.client.fakes import FakeTokens


def test_clients_of_one_process_share_guard_and_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factory, "_shared", None)
    monkeypatch.setenv("ALLEGRO_RPM_BUDGET", "120")
    monkeypatch.delenv("TABLE_CONTROL", raising=False)
    first = factory.client_from_env(FakeTokens(), account="a", environ={"ALLEGRO_ENVIRONMENT": "sandbox"})
    second = factory.client_from_env(FakeTokens(), account="b", environ={"ALLEGRO_ENVIRONMENT": "sandbox"})
    assert first.environment == SANDBOX
    assert first._guard is second._guard is factory.process_rate_guard()
    assert first._http is second._http
    bucket = first._guard.bucket
    assert bucket is not None
    assert bucket.rate == 2.0  # 120 per minute for the whole process
