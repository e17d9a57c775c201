"""Clients of one function instance share one rate guard and one pool: the budget is per process, not per
account, and a warm Lambda reuses its TLS sessions whichever seller it serves."""

from __future__ import annotations

from allegro_sync.adapters.allegro.environment import SANDBOX
from allegro_sync.bootstrap import Application
from allegro_sync.settings import Settings
from allegro_sync.topology import secret_env, table_env


def test_clients_of_one_process_share_guard_and_pool(aws: None) -> None:
    app = Application(
        Settings.from_environ(
            {
                table_env("control"): "control",
                secret_env("accounts"): "allegro-sync/accounts/",
                secret_env("app-credentials"): "allegro-sync/app-credentials",
                "ALLEGRO_ENVIRONMENT": "sandbox",
                "ALLEGRO_RPM_BUDGET": "120",
            }
        )
    )
    first, second = app.allegro("a"), app.allegro("b")
    assert first.environment == SANDBOX
    assert (first.account, second.account) == ("a", "b")
    assert app.allegro("a") is first  # a warm instance keeps each account's client
    assert first._guard is second._guard is app.rate_guard()
    assert first._http is second._http is app.http()
    bucket = first._guard.bucket
    assert bucket is not None
    assert bucket.rate == 2.0  # 120 per minute for the whole process
