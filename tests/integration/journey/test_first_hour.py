"""Issue 18's "must show": a seller's first hour, only through the CLI, as the README tells it.

`allegro-sync local up` runs as its own process (as in a second terminal); every other step is an
`allegro-sync` command, found by the session file `local up` writes; none of them is told an endpoint.
`accounts connect` runs as a process too, because it waits for the seller's confirmation while
`local confirm` gives it. The journey ends with an offer published at the rule's price and the buyer's
order delivered to the local shop. No fixed sleeps: every wait polls with a generous deadline.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TypeVar
from unittest import mock

import pytest
from typer.testing import CliRunner, Result

from allegro_sync.cli.main import app
from tests.fixtures.emulator import APP

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("allegro-sync"))
DEADLINE_SECONDS = 180.0  # a loaded 2-core machine starts the whole stack in 15-40 s
KETTLE = "BOSCH-TWK3A011"
CATALOG = (
    "sku,ean,name,description_html,image_urls,price,cost_price,stock,category_path,attributes\n"
    f'{KETTLE},4242002711331,"Czajnik elektryczny Bosch TWK3A011 1,7 l",<p>Czajnik 2400 W z filtrem.</p>,'
    'https://shop.example.pl/img/twk3a011.jpg,"129,99","80,00",12,Dom > Kuchnia > Czajniki,'
    "Stan=Nowy; Marka=Bosch; Moc=2400\n"
)
T = TypeVar("T")


def poll(what: str, probe: Callable[[], T | None], deadline: float = DEADLINE_SECONDS) -> T:
    """`probe()`'s first non-None answer; fails naming `what` after `deadline` seconds."""
    give_up = time.monotonic() + deadline
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < give_up, f"gave up waiting for {what}"
        time.sleep(0.5)


class Terminal:
    """The seller's other terminal: `allegro-sync` commands that find `local up` by its session file."""

    def __init__(self, session_file: Path) -> None:
        self.env = {**os.environ, "ALLEGRO_SYNC_LOCAL_SESSION": str(session_file)}
        self.session_file = session_file

    def run(self, *args: str, code: int = 0) -> str:
        with mock.patch.dict(os.environ):
            result: Result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == code, f"allegro-sync {' '.join(args)}:\n{result.output}"
        return result.output

    def start(self, *args: str, log: IO[str] | None = None) -> subprocess.Popen[str]:
        """A command in its own process; its output goes to `log` (a file: a pipe nobody reads would
        stall a chatty process) or to a pipe the caller reads."""
        return subprocess.Popen(  # noqa: S603 - our own CLI
            [CLI, *args],
            env=self.env,
            stdout=log or subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def session(self) -> dict[str, str]:
        return dict(json.loads(self.session_file.read_text(encoding="utf-8")))


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """`allegro-sync local up` on any free ports, running until the test ends."""
    seller = Terminal(tmp_path / "local-session.json")
    ports = ("--port", "0", "--aws-port", "0", "--emulator-port", "0", "--shop-port", "0")
    log_file = tmp_path / "local-up.log"
    with log_file.open("w", encoding="utf-8") as log:
        up = seller.start("local", "up", *ports, "--time-scale", "60", log=log)
        try:
            poll("local up's session file", lambda: True if seller.session_file.exists() else None)
            yield seller
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(timeout=60)
    out = log_file.read_text(encoding="utf-8")
    assert up.returncode == 0, out[-5000:]
    # What a newcomer needs was on the screen: the emulator's app, the local shop, the next steps.
    assert "Emulator application: client id allegro-sync-local, client secret allegro-sync-local-secret" in (
        out
    )
    assert "allegro-sync local seller add sklep1" in out
    assert "allegro-sync local confirm CODE --login sklep1" in out
    assert "lost when" in out or "are gone" in out
    assert not seller.session_file.exists(), "local up left its session file behind"


def connect(terminal: Terminal, name: str, login: str) -> str:
    """`accounts connect` in one terminal, `local confirm CODE` in the other, as the README says."""
    connecting = terminal.start("accounts", "connect", name)
    assert connecting.stdout is not None
    seen: list[str] = []
    for line in connecting.stdout:
        seen.append(line)
        if "local confirm" in line:
            break
    code = re.search(r"confirm the code (\S+)", "".join(seen))
    assert code is not None, "".join(seen)
    assert "allegro-sync local confirm" in "".join(seen)  # it says how to confirm locally
    assert f"Approved code {code.group(1)} as {login}" in terminal.run(
        "local", "confirm", code.group(1), "--login", login
    )
    rest, _ = connecting.communicate(timeout=DEADLINE_SECONDS)
    assert connecting.returncode == 0, "".join(seen) + rest
    return rest


def test_first_hour_from_local_up_to_a_published_offer_and_an_order_in_the_shop(
    terminal: Terminal, tmp_path: Path
) -> None:
    session = terminal.session()
    # The emulator's application: a wrong secret is refused when stored, the right one is kept.
    refused = terminal.run(
        "accounts", "set-app", session["client_id"], "--client-secret", "wrong", *APP, code=1
    )
    assert "Allegro refused" in refused
    terminal.run(
        "accounts", "set-app", session["client_id"], "--client-secret", session["client_secret"], *APP
    )

    assert "Seller sklep1 created on the emulator" in terminal.run("local", "seller", "add", "sklep1")
    connected = connect(terminal, "sklep1", "sklep1")
    assert "Connected sklep1" in connected
    assert "created the default rule '1:1'" in connected
    assert "CONNECTED" in terminal.run("accounts", "list")

    terminal.run("webhooks", "set-secret", "--secret", "a-webhook-secret-of-the-shop")
    stored = terminal.run(
        "shop", "set-credentials", "generic",
        "--url", session["shop_url"], "--signing-secret", session["shop_signing_secret"],
    )  # fmt: skip
    assert "answered the test call" in stored
    ruled = terminal.run("prices", "rules", "set", "--markup-percent", "10", "--ending", "0.99")
    assert "Replaced the pricing rule '" in ruled

    catalog = tmp_path / "products.csv"
    catalog.write_text(CATALOG, encoding="utf-8")
    imported = terminal.run("catalog", "import", str(catalog), "--timeout", "120")
    assert "1 product(s) queued" in imported
    assert "no approved category mapping" in imported  # waits, and says why
    assert "Dom > Kuchnia > Czajniki" in terminal.run("mappings", "suggest")
    approved = terminal.run("mappings", "approve", "Dom > Kuchnia > Czajniki")
    offer = re.search(r"PUBLISHED\s*│\s*(\d+)", approved)
    assert offer is not None, approved
    status = terminal.run("products", "status", KETTLE)
    assert "PUBLISHED" in status
    assert "142.99" in status  # 129.99 + 10 % = 142.99, ending .99

    bought = terminal.run("local", "buy", offer.group(1))
    assert "checkout form" in bought

    def delivered() -> str | None:
        shop = json.loads(terminal.run("local", "shop", "--json"))
        lines = [line for order in shop["orders"] for line in order["lines"]]
        return "yes" if {"sku": KETTLE, "quantity": 1, "stock_effect": "TAKEN"} in lines else None

    poll("the order to reach the local shop", delivered)
    assert f"1 x {KETTLE} (TAKEN)" in terminal.run("local", "shop")
