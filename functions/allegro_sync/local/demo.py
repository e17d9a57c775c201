"""`make demo`: the whole system on one machine, end to end, narrated.

Runs the real handlers in the local runtime (moto on 127.0.0.1 for AWS) against the Allegro emulator, through
the same paths a deployment uses: HTTP gateway, queues, schedules, Secrets Manager, DynamoDB. Each chapter
prints what happened and checks it, so a broken path makes the demo fail instead of printing something
reassuring. Chapters for capabilities that do not exist yet say so.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from allegro_sync.adapters.allegro.factory import client_from_env
from allegro_sync.adapters.token_store import AccountsSettings, Custody
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.emulator.audit import check
from allegro_sync.emulator.validation import validator_for
from allegro_sync.local.runtime import AllegroUrls, LocalRuntime
from allegro_sync.services.accounts import DevicePrompt
from allegro_sync.topology import (
    ALLEGRO_RPM_BUDGET_ENV,
    TOPOLOGY,
    QueueTrigger,
    RouteTrigger,
    ScheduleTrigger,
)

SELLERS = {"sklep-glowny": "SklepGlowny_PL", "sklep-outlet": "OutletMarka_PL"}
"""Two seller accounts (short name -> Allegro login): sales on one must reach the other."""

NOT_YET = (
    "Repricing within the seller's bounds",
    "Listing optimization (titles and descriptions learned from what sells)",
)


class DemoFailure(RuntimeError):
    """A chapter saw something other than what the system promises."""


@dataclass
class Demo:
    console: Console
    record: Path | None = None
    spec: Path | None = None
    emulator: Emulator = field(init=False)
    runtime: LocalRuntime = field(init=False)
    custody: Custody = field(init=False)
    http_url: str = field(init=False)

    def run(self) -> None:
        started = time.perf_counter()
        with self._world():
            for chapter in (
                self.foundation,
                self.connect_accounts,
                self.call_allegro,
                self.keep_tokens_fresh,
            ):
                chapter()
        self.not_yet()
        self.audit()
        self.console.rule(f"[bold green]demo finished in {time.perf_counter() - started:.1f} s")

    # ---- the world ---------------------------------------------------------------------------------

    @contextmanager
    def _world(self) -> Iterator[None]:
        self.console.rule("[bold]allegro-sync demo: moto + the Allegro emulator on 127.0.0.1")
        with Emulator(record=self.record) as emulator:
            self.emulator = emulator
            for login in SELLERS.values():
                emulator.create_seller(login)
            quiet = {"LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
            urls = AllegroUrls.single(emulator.base_url)
            with LocalRuntime(TOPOLOGY, allegro_urls=urls, env=quiet) as runtime:
                self.runtime = runtime
                self.http_url = runtime.start_gateway()
                self.custody = Custody.build(
                    AccountsSettings.from_env(runtime.environment("oauth")),
                    now=lambda: emulator.clock.now().timestamp(),
                    sleep=emulator.advance,
                )
                yield
            if emulator.violations:
                raise DemoFailure(f"the emulator saw {len(emulator.violations)} spec violations")

    # ---- chapters ----------------------------------------------------------------------------------

    def foundation(self) -> None:
        self._chapter("1. One topology, wired locally exactly as in AWS")
        table = Table("function", "triggers", "timeout", "concurrency", "touches")
        for function in TOPOLOGY.functions:
            table.add_row(
                function.name,
                ", ".join(_describe(t) for t in function.triggers),
                f"{function.timeout_seconds} s",
                str(function.reserved_concurrency or "-"),
                ", ".join([*function.tables, *function.sends_to, *function.secrets]) or "-",
            )
        self.console.print(table)
        health = httpx.get(f"{self.http_url}/health", timeout=5).json()
        _expect(health.get("status") == "ok", f"GET /health answered {health}")
        self.console.print(f"GET {self.http_url}/health through the local HTTP API -> {health}")

    def connect_accounts(self) -> None:
        self._chapter("2. Connecting seller accounts with the OAuth device flow")
        self.custody.app_credentials.write(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, sandbox=False)
        self.console.print("Stored the Allegro app's client id and secret in Secrets Manager.")
        for name, login in SELLERS.items():
            profile = self.custody.accounts().connect_with_device_flow(
                name, environment="production", on_prompt=self._approve_as(login)
            )
            _expect(profile.status.value == "CONNECTED", f"{name} is {profile.status.value}")
            self.console.print(
                f"[green]connected[/] {name}: seller {profile.seller_id} ({profile.login}); "
                "tokens stored in its own Secrets Manager secret, never printed"
            )

    def call_allegro(self) -> None:
        self._chapter("3. Calling Allegro as a seller (client + token custody)")
        name = next(iter(SELLERS))
        os.environ.setdefault(
            ALLEGRO_RPM_BUDGET_ENV, "300"
        )  # the operator's own share of the app-wide budget
        with client_from_env(self.custody.tokens(name), account=name) as client:
            me = client.me()
            categories = client.get_categories()
        self.console.print(f"GET /me as {name} -> login {me.login}")
        self.console.print("GET /sale/categories -> " + ", ".join(str(c.name) for c in categories[:5]))

    def keep_tokens_fresh(self) -> None:
        self._chapter("4. Tokens that never get lost")
        report = self.runtime.fire("token_refresher")
        self.console.print(
            f"scheduled token_refresher: fresh {report['fresh']}, refreshed {report['refreshed']}"
        )
        name, login = next(iter(SELLERS.items()))
        self.emulator.advance(12 * 3600)  # the access token is now past its 12 hours
        before = self.emulator.refresh_count(login)
        tokens = self.custody.tokens(name)
        with ThreadPoolExecutor(max_workers=10) as pool:
            handed_out = set(pool.map(lambda _: tokens.access_token(), range(10)))
        refreshes = self.emulator.refresh_count(login) - before
        _expect(refreshes == 1, f"{refreshes} refreshes reached Allegro for 10 concurrent requests")
        _expect(len(handed_out) == 1, "concurrent requests got different tokens")
        self.console.print(
            f"12 h later, 10 concurrent token requests for {name}: {refreshes} refresh reached Allegro "
            "(a DynamoDB lease elects one refresher; the new pair is saved before it is used)"
        )
        listing = Table("account", "status", "token expires (emulated clock)", "what to do")
        for profile in self.custody.accounts().list_accounts():
            expires = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(profile.token_expires_at or 0))
            listing.add_row(profile.name, profile.status.value, expires, profile.what_to_do())
        self.console.print(listing)

    def not_yet(self) -> None:
        self._chapter("Not built yet")
        for item in NOT_YET:
            self.console.print(f"[yellow]-[/] {item}")

    def audit(self) -> None:
        if not self.record:
            return
        self._chapter(f"Audit: the recorded Allegro traffic ({self.record})")
        lines = self.record.read_text(encoding="utf-8").splitlines()
        self.console.print(f"{len(lines)} exchanges recorded, tokens and secrets masked.")
        if not self.spec or not self.spec.is_file():
            self.console.print(
                "The full official spec is not beside the project: skipped the full-spec check."
            )
            return
        report = check(lines, validator_for(self.spec, check_spec=False))
        _expect(not report.violations, f"{len(report.violations)} violations of the official spec")
        self.console.print(
            f"Validated against the full official spec: {report.validated} exchanges, "
            f"{report.oauth_skipped} OAuth (outside the spec), 0 violations."
        )

    # ---- helpers -----------------------------------------------------------------------------------

    def _chapter(self, title: str) -> None:
        self.console.print()
        self.console.rule(f"[bold cyan]{title}", align="left")

    def _approve_as(self, login: str) -> Callable[[DevicePrompt], None]:
        def approve(prompt: DevicePrompt) -> None:
            self.console.print(
                f"Open {prompt.verification_uri_complete} and confirm code [bold]{prompt.user_code}[/] "
                f"-> the emulated seller {login} approves."
            )
            self.emulator.approve_device(prompt.user_code, login)

        return approve


def _describe(trigger: QueueTrigger | ScheduleTrigger | RouteTrigger) -> str:
    if isinstance(trigger, QueueTrigger):
        return f"queue {trigger.queue} (batch {trigger.batch_size})"
    if isinstance(trigger, ScheduleTrigger):
        return f"every {trigger.rate_minutes} min"
    return f"{trigger.method} {trigger.path}"


def _expect(condition: bool, problem: str) -> None:
    if not condition:
        raise DemoFailure(problem)


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
