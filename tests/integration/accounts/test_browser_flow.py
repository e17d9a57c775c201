"""The authorization code flow end to end: CLI link -> API /oauth/start -> emulator login -> /oauth/callback.

Runs the real handlers behind the local runtime's HTTP gateway, with moto and the Allegro emulator, and
checks every error path stores nothing. The last test captures every log line of a full connect and
refresh cycle and looks for any secret in it.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from allegro_sync.cli import accounts_cmd
from allegro_sync.cli.main import app as cli
from allegro_sync.custody import AccountsSettings, connect_with_device_flow
from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.topology import secret_env, table_env
from tests.fixtures.emulator import APP
from tests.fixtures.local import MakeLocalRuntime

pytestmark = pytest.mark.integration


@dataclass
class Stack:
    runtime: LocalRuntime
    api: str
    emulator: Emulator
    cli_env: dict[str, str]

    def cli(self, *args: str) -> str:
        result = CliRunner().invoke(cli, ["accounts", *args], env=self.cli_env)
        assert result.exit_code == 0, result.output
        return result.output

    def cli_fails(self, *args: str) -> str:
        result = CliRunner().invoke(cli, ["accounts", *args], env=self.cli_env)
        assert result.exit_code == 1, result.output
        return result.output

    def link(self, name: str = "shop1") -> str:
        output = self.cli("connect", name, "--browser")
        return next(line for line in output.splitlines() if line.startswith("http"))

    def secret_names(self) -> list[str]:
        listed = self.runtime.client("secretsmanager").list_secrets()["SecretList"]
        return sorted(s["Name"] for s in listed)


@pytest.fixture
def stack(make_local_runtime: MakeLocalRuntime, emulator: Emulator) -> Stack:
    runtime = make_local_runtime(
        allegro_urls=AllegroUrls.single(emulator.base_url), env={"POWERTOOLS_LOG_LEVEL": "DEBUG"}
    )
    api = runtime.start_gateway()
    emulator.create_seller("seller-one")
    emulator.oauth.add_redirect_uri(DEFAULT_CLIENT_ID, f"{api}/oauth/callback")
    env = runtime.environment("oauth")
    cli_env = {
        table_env("control"): env[table_env("control")],
        secret_env("accounts"): env[secret_env("accounts")],
        secret_env("app-credentials"): env[secret_env("app-credentials")],
        accounts_cmd.API_URL_ENV: api,
    }
    built = Stack(runtime, api, emulator, cli_env)
    built.cli("set-app", DEFAULT_CLIENT_ID, "--client-secret", DEFAULT_CLIENT_SECRET, *APP)
    return built


def _follow_to_allegro(stack: Stack, link: str) -> httpx.Response:
    """The seller's browser opens the link; our API redirects to Allegro's login page."""
    answer = httpx.get(link)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{stack.emulator.base_url}/auth/oauth/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{stack.api}/oauth/callback"]
    assert httpx.get(location).status_code == 200  # Allegro's consent page
    return answer


def test_a_seller_connects_through_the_browser(stack: Stack) -> None:
    output = stack.cli("set-app", DEFAULT_CLIENT_ID, "--client-secret", DEFAULT_CLIENT_SECRET, *APP)
    assert f"{stack.api}/oauth/callback" in output  # tells the operator what to register at Allegro
    _follow_to_allegro(stack, stack.link())
    back = stack.emulator.approve_authorization("seller-one")
    page = httpx.get(back)
    assert page.status_code == 200, page.text
    assert "Account connected" in page.text
    listed = stack.cli("list")
    assert "shop1" in listed
    assert "CONNECTED" in listed
    shown = stack.cli("show", "shop1")
    assert stack.emulator.seller_id("seller-one") in shown
    assert "allegro:api:orders:read" in shown
    # Replaying the callback (a stolen redirect) finds no state.
    replay = httpx.get(back)
    assert replay.status_code == 400
    assert "already used state" in replay.text


FORGERIES: list[tuple[Callable[[dict[str, str]], dict[str, str]], str]] = [
    (lambda q: {**q, "account": "intruder"}, "signature is not valid"),
    (lambda q: {**q, "signature": "AAAA"}, "signature is not valid"),
    (lambda q: {k: v for k, v in q.items() if k != "nonce"}, "missing nonce"),
]


def test_start_links_work_once_and_forged_or_expired_ones_are_refused(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = stack.link()
    _follow_to_allegro(stack, link)
    again = httpx.get(link)
    assert again.status_code == 400
    assert "already used" in again.text
    pending = len(stack.emulator.oauth.pending_authorizations())

    for tamper, message in FORGERIES:
        query = {k: v[0] for k, v in parse_qs(urlsplit(stack.link()).query).items()}
        answer = httpx.get(
            f"{stack.api}/oauth/start", params=tamper(query), headers={"accept": "application/json"}
        )
        assert answer.status_code == 400
        assert message in answer.json()["message"]
    assert len(stack.emulator.oauth.pending_authorizations()) == pending  # none reached Allegro

    monkeypatch.setattr(accounts_cmd, "now", lambda: time.time() - 3600)  # a link minted an hour ago
    expired = httpx.get(stack.link())
    assert expired.status_code == 400
    assert "expired" in expired.text


def test_forged_state_missing_code_and_allegro_errors_store_nothing(stack: Stack) -> None:
    forged = httpx.get(f"{stack.api}/oauth/callback", params={"code": "abc", "state": "made-up"})
    assert forged.status_code == 400
    assert "unknown, expired or already used state" in forged.text

    _follow_to_allegro(stack, stack.link())
    denied = httpx.get(stack.emulator.deny_authorization())
    assert denied.status_code == 400
    assert "access_denied" in denied.text

    _follow_to_allegro(stack, stack.link())
    back = stack.emulator.approve_authorization("seller-one")
    state = parse_qs(urlsplit(back).query)["state"][0]
    no_code = httpx.get(f"{stack.api}/oauth/callback", params={"state": state})
    assert no_code.status_code == 400
    assert "no authorization code" in no_code.text

    _follow_to_allegro(stack, stack.link())
    back = stack.emulator.approve_authorization("seller-one")
    stack.emulator.advance(11)  # Allegro's code lives about 10 s
    late = httpx.get(back)
    assert late.status_code == 400
    assert "invalid_grant" in late.text

    prefix = stack.cli_env[secret_env("accounts")]
    assert [n for n in stack.secret_names() if n.startswith(prefix)] == []  # no account secret created
    assert "No accounts yet" in stack.cli("list")
    assert "invalid account name" in stack.cli_fails("connect", "Bad Name", "--browser")
    assert "no Allegro account named 'ghost'" in stack.cli_fails("show", "ghost")


def _expire_soon(stack: Stack) -> None:
    """Make our record say ten minutes are left (handlers read wall time, not the emulator's clock)."""
    secrets = stack.runtime.client("secretsmanager")
    secret_id = f"{stack.cli_env[secret_env('accounts')]}shop1"
    stored = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    stored["expires_at"] = time.time() + 600
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(stored))
    stack.runtime.client("dynamodb").update_item(
        TableName=stack.cli_env[table_env("control")],
        Key={"pk": {"S": "accounts"}, "sk": {"S": "profile#shop1"}},
        UpdateExpression="SET token_expires_at = :e",
        ExpressionAttributeValues={":e": {"N": str(int(time.time() + 600))}},
    )


@pytest.fixture
def powertools_output() -> Iterator[io.StringIO]:
    """Everything the handlers' Powertools loggers write, formatted exactly as in CloudWatch."""
    import allegro_sync.handlers.oauth
    import allegro_sync.handlers.token_refresher  # noqa: F401 - both configure the service logger

    service = logging.getLogger("allegro-sync")
    formatter = next(h.formatter for h in service.handlers if h.formatter is not None)
    sink = io.StringIO()
    tap = logging.StreamHandler(sink)
    tap.setFormatter(formatter)
    service.addHandler(tap)
    yield sink
    service.removeHandler(tap)


def test_no_secret_reaches_any_log_line_in_a_connect_and_refresh_cycle(
    stack: Stack, powertools_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    link = stack.link()
    _follow_to_allegro(stack, link)
    back = stack.emulator.approve_authorization("seller-one")
    assert httpx.get(back).status_code == 200
    query = parse_qs(urlsplit(back).query)
    first = json.loads(
        stack.runtime.client("secretsmanager").get_secret_value(
            SecretId=f"{stack.cli_env[secret_env('accounts')]}shop1"
        )["SecretString"]
    )
    _expire_soon(stack)  # ten minutes left: the scheduled refresher rotates the pair
    report = stack.runtime.fire("token_refresher")
    assert report["refreshed"] == ["shop1"]
    second = json.loads(
        stack.runtime.client("secretsmanager").get_secret_value(
            SecretId=f"{stack.cli_env[secret_env('accounts')]}shop1"
        )["SecretString"]
    )
    stack.emulator.disconnect("seller-one")  # the seller changed the password
    _expire_soon(stack)
    assert stack.runtime.fire("token_refresher")["disconnected"] == ["shop1"]
    assert "reconnect: allegro-sync accounts connect shop1" in stack.cli("list")

    text = powertools_output.getvalue() + capsys.readouterr().out  # log lines + EMF metric lines
    assert '"message":"seller account connected"' in text  # we did capture the handlers
    assert '"AccountDisconnected":[1.0]' in text  # the alarm metric
    secrets = {
        "access token": first["access_token"],
        "refresh token": first["refresh_token"],
        "new access token": second["access_token"],
        "new refresh token": second["refresh_token"],
        "authorization code": query["code"][0],
        "state": query["state"][0],
        "client secret": DEFAULT_CLIENT_SECRET,
        "start-link signature": parse_qs(urlsplit(link).query)["signature"][0],
    }
    leaked = [what for what, value in secrets.items() if value and value in text]
    assert leaked == []


def test_the_demo_connects_through_the_device_flow_on_the_local_runtime(stack: Stack) -> None:
    """What the demo does: `connect_with_device_flow`, approving the code through the emulator handle."""
    settings = AccountsSettings.from_env(stack.runtime.environment("oauth"))
    profile = connect_with_device_flow(
        "shop1",
        on_prompt=lambda prompt: stack.emulator.approve_device(prompt.user_code, "seller-one"),
        settings=settings,
        sleep=stack.emulator.advance,
    )
    assert profile.seller_id == stack.emulator.seller_id("seller-one")
    assert stack.runtime.fire("token_refresher")["fresh"] == ["shop1"]  # idle run: nothing to do
    assert "CONNECTED" in stack.cli("list")
    # `allegro-sync local up` + AWS_ENDPOINT_URL and nothing else: the CLI finds the local runtime's names.
    bare = dict.fromkeys(stack.cli_env)
    result = CliRunner().invoke(cli, ["accounts", "show", "shop1"], env=bare)
    assert result.exit_code == 0, result.output
    assert "CONNECTED" in result.output
